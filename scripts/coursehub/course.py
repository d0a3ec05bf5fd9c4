"""An nbgrader course directory on disk: its config, nbgrader runs in it, and its gradebook."""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
import sys
import threading
import warnings
from collections.abc import Callable
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from .errors import CoursehubError
from .paths import account_path

# Training cells run far longer than nbgrader's 30 s default; the sandbox bounds the total.
DEFAULT_CELL_TIMEOUT = 300

COURSE_CONFIG = """\
# Written by coursehub; edit the course settings in .env, not here.
c = get_config()  # noqa: F821
c.CourseDirectory.root = {root!r}
c.CourseDirectory.course_id = {course_id!r}
c.Exchange.root = {exchange!r}
c.Exchange.path_includes_course = True
c.ExecutePreprocessor.timeout = {timeout}
# coursehub checks submission ownership by uid itself before collecting, and collects
# through admission: no link followed, no special file admitted (see collect.py).
c.ExchangeCollect.check_owner = False
c.ExchangeFactory.collect = "coursehub.collect.SafeExchangeCollect"
c.ClearSolutions.code_stub = {{"python": "# YOUR CODE HERE\\nraise NotImplementedError()"}}
# Autograding (CLI and formgrader) runs student code only in a throwaway sandbox:
# scripts/coursehub/grading/nbgrader_config.py swaps nbgrader's Execute for SandboxExecute.
# Fail closed: if that fragment does not load, autograde refuses to run at all.
try:
    import importlib.util as _util, os as _os

    # find_spec of the top package only: nothing of coursehub is imported to find the file.
    _grading = _os.path.join(_util.find_spec("coursehub").submodule_search_locations[0], "grading")
    load_subconfig(_os.path.join(_grading, "nbgrader_config.py"))  # noqa: F821
except Exception:
    pass
if "SandboxExecute" not in repr(c.Autograde.get("autograde_preprocessors")):
    c.Autograde.autograde_preprocessors = [
        "coursehub: the grading sandbox configuration did not load; refusing to autograde"
    ]
# Late penalties follow COURSEHUB_LATE_POLICY (see coursehub/late.py) at autograde time.
c.AssignLatePenalties.plugin_class = "coursehub.late.LatePolicyPlugin"
"""


@dataclass(frozen=True)
class Course:
    """One course: its id, its nbgrader directory, the exchange, and the account that owns it."""

    course_id: str
    root: Path
    exchange_root: Path
    grader_user: str | None = None
    cell_timeout: int = DEFAULT_CELL_TIMEOUT
    # Pinned in the course config when set; else the plugin reads the deployment setting.
    late_policy: str | None = None
    # The gradebook's database (Postgres); None: nbgrader's default, gradebook.db in root.
    db_url: str | None = field(default=None, repr=False)

    @property
    def gradebook(self) -> Path:
        return self.root / "gradebook.db"

    @property
    def gradebook_url(self) -> str:
        return self.db_url or f"sqlite:///{self.gradebook}"

    def has_gradebook(self) -> bool:
        """Whether there is one to read (a Postgres database is made at every hub start)."""
        return self.db_url is not None or self.gradebook.exists()

    def config_text(self) -> str:
        return COURSE_CONFIG.format(
            root=str(self.root),
            course_id=self.course_id,
            exchange=str(self.exchange_root),
            timeout=self.cell_timeout,
        )

    def write_config(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        text = self.config_text()
        if self.late_policy is not None:
            text += f"c.LatePolicyPlugin.policy = {self.late_policy!r}\n"
        path = self.root / "nbgrader_config.py"
        if self.db_url is not None:
            # The URL holds the database password: the file is for its owner only.
            text += f"c.CourseDirectory.db_url = {self.db_url!r}\n"
            path.touch(mode=0o600)
            path.chmod(0o600)
        path.write_text(text)

    def run_nbgrader(
        self,
        *args: str,
        check: bool = True,
        env: dict | None = None,
        offline: bool = False,
        on_line: Callable[[str], None] | None = None,
    ):
        """Run an nbgrader subcommand in the course directory, as the grader account if set.

        ``offline`` runs it in a new network namespace with only loopback (kernels talk to
        nbgrader over 127.0.0.1), so notebook code cannot reach any network. ``on_line``
        gets each line nbgrader logs (to stderr) as it is written, without its newline.
        """
        cmd = [sys.executable, "-m", "nbgrader", *args]
        if self.grader_user and os.geteuid() == 0:
            cmd = as_user(self.grader_user, cmd)
        if offline:
            cmd = without_network(cmd)
        # nbgrader runs `alembic` by name: this venv's bin must come first on PATH.
        run_env = {**os.environ, "PATH": account_path(), **(env or {})}
        if on_line is None:
            proc = subprocess.run(cmd, cwd=self.root, capture_output=True, text=True, env=run_env)
        else:
            proc = run_streaming(cmd, self.root, run_env, on_line)
        if check and proc.returncode != 0:
            raise CoursehubError(f"nbgrader {args[0]} failed: {last_error_line(proc.stderr)}")
        return proc

    def check_exchange(self) -> None:
        """Refuse to use exchange folders that a student could have made or redirected.

        The exchange root is world-writable: a student could create the course's folder
        (or a link in its place) before the grader does. Each must be a real folder owned
        by the grader (or root).
        """
        owners = {0, os.geteuid()}
        if self.grader_user:
            owners.add(pwd.getpwnam(self.grader_user).pw_uid)
        for sub in ("", "inbound", "outbound", "feedback", "quarantine"):
            path = self.exchange_root / self.course_id / sub
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                continue
            if not stat.S_ISDIR(st.st_mode):
                raise CoursehubError(f"exchange folder {path} is not a folder (a link?): remove it")
            if st.st_uid not in owners:
                raise CoursehubError(
                    f"exchange folder {path} is owned by uid {st.st_uid}, not the grader: "
                    "someone else made it; move it away and release again"
                )

    def scores(self, assignment_id: str) -> dict[str, tuple[float, float]]:
        """Student id -> (score, max score) for one assignment's submissions."""
        from nbgrader.api import Gradebook, MissingEntry

        with Gradebook(self.gradebook_url) as gb:
            try:
                assignment = gb.find_assignment(assignment_id)
            except MissingEntry:
                return {}
            return {s.student.id: (s.score, s.max_score) for s in assignment.submissions}

    @contextmanager
    def open_gradebook(self):
        """The gradebook in-process; left owned by the grader when root wrote to it."""
        from nbgrader.api import Gradebook

        try:
            with Gradebook(self.gradebook_url, self.course_id) as gb:
                yield gb
        finally:
            if self.grader_user and os.geteuid() == 0 and self.gradebook.exists():
                with suppress(LookupError):  # no such account: nbgrader runs as root too
                    shutil.chown(self.gradebook, self.grader_user, self.grader_user)

    def find(self, gb, assignment_id: str | None = None, student: str | None = None):
        """The gradebook's assignment and student records; a clear error when either is missing."""
        from nbgrader.api import MissingEntry

        found = []
        for kind, name, finder in (
            ("assignment", assignment_id, gb.find_assignment),
            ("student", student, gb.find_student),
        ):
            if name is None:
                continue
            try:
                found.append(finder(name))
            except MissingEntry:
                hint = "build it first" if kind == "assignment" else "see coursehub students list"
                raise CoursehubError(
                    f"unknown {kind} {name!r}: not in the {self.course_id} gradebook ({hint})"
                ) from None
        return found

    def duedate(self, assignment_id: str) -> datetime | None:
        """The assignment's due date (naive UTC, as nbgrader keeps it), or None."""
        with self.open_gradebook() as gb:
            (assignment,) = self.find(gb, assignment_id)
            return assignment.duedate

    def set_duedate(self, assignment_id: str, due_utc: datetime) -> None:
        with self.open_gradebook() as gb:
            self.find(gb, assignment_id)
            gb.update_or_create_assignment(assignment_id, duedate=due_utc)

    def grant_extension(self, assignment_id: str, student: str, extra: timedelta) -> datetime:
        """Give ``student`` ``extra`` time (replacing any earlier extension); their new due date."""
        from sqlalchemy.exc import SAWarning

        with self.open_gradebook() as gb:
            assignment, _ = self.find(gb, assignment_id, student)
            if assignment.duedate is None:
                raise CoursehubError(
                    f"{assignment_id} has no due date: release it with --due first"
                )
            # nbgrader keeps extensions on the submission; one made now (no timestamp, no
            # grades) is what autograde later fills in, keeping the extension.
            with warnings.catch_warnings():
                # nbgrader's add_submission trips SQLAlchemy 2 autoflush warnings (harmless
                # "not in session" notes) that would otherwise follow the CLI's one line.
                warnings.simplefilter("ignore", SAWarning)
                submission = gb.update_or_create_submission(assignment_id, student)
            submission.extension = extra
            gb.db.commit()
            return assignment.duedate + extra


def run_streaming(
    cmd: list[str], cwd: Path, env: dict, on_line: Callable[[str], None]
) -> subprocess.CompletedProcess:
    """subprocess.run(capture_output=True, text=True), handing each stderr line on as it comes."""
    with subprocess.Popen(
        cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as popen:
        # stdout is drained alongside: a full stdout pipe would stall nbgrader mid-run.
        out: list[str] = []
        reader = threading.Thread(target=lambda: out.append(popen.stdout.read()), daemon=True)
        reader.start()
        err: list[str] = []
        try:
            for line in popen.stderr:
                err.append(line)
                on_line(line.rstrip("\n"))
        except BaseException:
            popen.kill()  # the caller stopped listening (Ctrl-C, a bug): nbgrader stops too
            raise
        reader.join()
    return subprocess.CompletedProcess(cmd, popen.returncode, "".join(out), "".join(err))


def as_user(user: str, cmd: list[str]) -> list[str]:
    """Prefix a command so it runs as ``user`` with that user's groups and home."""
    home = pwd.getpwnam(user).pw_dir
    return [
        "setpriv",
        f"--reuid={user}",
        f"--regid={user}",
        "--init-groups",
        "--",
        "env",
        f"HOME={home}",
        f"USER={user}",
        f"PATH={account_path()}",
        *cmd,
    ]


def without_network(cmd: list[str]) -> list[str]:
    """Run ``cmd`` in a fresh network namespace that has loopback up and nothing else."""
    inner = 'ip link set lo up && exec "$@"'
    unshare = ["unshare", "--net"] if os.geteuid() == 0 else ["unshare", "-r", "--net"]
    return [*unshare, "sh", "-c", inner, "sh", *cmd]


def last_error_line(stderr: str) -> str:
    """nbgrader logs a lot; the last [ERROR] line (or last line) is what the user needs."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if "[ERROR]" in ln or "Error" in ln]
    return (errors or lines or ["no output"])[-1]
