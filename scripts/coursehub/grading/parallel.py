"""Autograde many submissions at once, each in its own sandbox, gradebook writes serialised.

A grading run is three passes, overlapped:

1. the *spool pass*: ``nbgrader autograde`` against a scratch copy of the gradebook and a
   scratch ``autograded`` folder, with ``SandboxExecute`` in spool mode: nbgrader merges
   every submission with the instructor's cells exactly as it will for real and we queue
   each merged notebook (nothing is executed; the real gradebook is not touched);
2. the workers (``spool.SpoolWorkers``) take queued notebooks as they appear and run each
   in a sandbox (retrying once when the sandbox itself failed), storing the outcome under a
   hash of the merged input;
3. the *finish pass*: one serial ``nbgrader autograde`` against the real gradebook, with
   ``SandboxExecute`` in replay mode picking up each stored outcome as soon as it exists.
   It starts when the spool pass ends and runs while the workers finish.

nbgrader decides what to grade (``--force``, timestamps, ``--student``) in both passes the
same way, so re-running is idempotent: what was graded is skipped, what failed for
infrastructure reasons is graded again.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from . import sandbox_execute as sx
from .backends import prune_docker_leftovers
from .outcomes import Progress, Summary, last_error, nbgrader_errors
from .spool import SpoolWorkers


def default_jobs(settings: dict | None = None) -> int:
    """One sandbox per core, or per GPU when grading on GPUs."""
    if settings and settings.get("gpus"):
        n = len(gpu_ids(settings["gpus"]))
        if n:
            return n
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def gpu_ids(gpus: str) -> list[str]:
    if gpus and gpus != "all":
        return [g.strip() for g in gpus.split(",") if g.strip()]
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [str(i) for i, line in enumerate(out.stdout.splitlines()) if line.startswith("GPU ")]


def gpu_slots(settings: dict, jobs: int) -> list[str]:
    """One slot per parallel sandbox: the GPU ids spread over them, or "" without GPUs."""
    gpus = gpu_ids(settings["gpus"]) if settings.get("gpus") else []
    return [gpus[i % len(gpus)] if gpus else "" for i in range(jobs)]


_ENVIRON_LOCK = threading.Lock()


@contextlib.contextmanager
def _environ(overrides: dict[str, str]):
    """``os.environ`` with ``overrides`` set, restored after."""
    with _ENVIRON_LOCK:  # two runs checking at once must not restore each other's values
        saved = {k: os.environ.get(k) for k in overrides}
        os.environ.update(overrides)
        try:
            yield
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


class AutogradePass:
    """One ``nbgrader autograde`` pass in a thread: its finished process, or what it raised."""

    def __init__(self, grading: GradingRun, mode: str, extra: list[str]):
        self.thread = threading.Thread(
            target=self._autograde, args=(grading, mode, extra), daemon=True
        )
        self.started = False
        self.proc: subprocess.CompletedProcess | None = None
        self.error: BaseException | None = None

    def _autograde(self, grading: GradingRun, mode: str, extra: list[str]) -> None:
        try:
            self.proc = grading.autograde_pass(mode, extra)
        except BaseException as exc:  # raised again by the driver, once the workers stopped
            self.error = exc

    def start(self) -> None:
        if not self.started:
            self.started = True
            self.thread.start()

    def running(self) -> bool:
        return self.thread.is_alive()

    def join(self) -> None:
        self.thread.join()

    def failed(self) -> bool:
        return self.proc is not None and self.proc.returncode != 0


class GradingRun:
    """One ``coursehub autograde``: spool pass, parallel sandboxes, finish pass."""

    def __init__(
        self,
        course,
        assignment_id: str,
        nbgrader_args: list[str] | None = None,
        jobs: int | None = None,
        sandbox: str | None = None,
        image: str | None = None,
        force: bool = False,
        stream=None,
        keep: bool = False,
        fail_fast: bool = False,
        env: dict[str, str] | None = None,
    ):
        self.course = course
        self.assignment_id = assignment_id
        self.nbgrader_args = list(nbgrader_args or [])
        self.jobs = jobs
        self.sandbox = sandbox
        self.image = image
        self.force = force
        self.fail_fast = fail_fast
        self.extra_env = dict(env or {})  # for nbgrader's own plugins (e.g. the late policy)
        self.stream = stream or sys.stdout
        self.keep = keep or bool(os.environ.get("COURSEHUB_KEEP_GRADING_DIR"))
        stamp = time.strftime("%Y%m%d-%H%M%S")
        self.rel_dir = Path(".coursehub-autograde") / f"{assignment_id}-{stamp}-{os.getpid()}"
        self.run_dir = Path(course.root) / self.rel_dir

    # -- the run -------------------------------------------------------------------------
    def grade(self) -> Summary:
        """Grade what nbgrader would grade, in parallel sandboxes; what came of each."""
        started = time.monotonic()
        settings = self.check_sandbox()  # raises SandboxUnavailable
        if settings["sandbox"] == "docker":
            prune_docker_leftovers()
        jobs = self.jobs or default_jobs(settings)
        summary = Summary(jobs=jobs, sandbox=settings["sandbox"])
        self.prepare()
        progress = Progress(self.stream, self.expected_count())
        slots = gpu_slots(settings, jobs)
        workers = SpoolWorkers(self.run_dir, self.assignment_id, slots, progress, summary)
        try:
            spool, finish = self.execute_while_spooling(workers)
        finally:
            progress.close()
            self.remove_run_dir()
        if spool.failed() and not workers.executed_any:
            summary.nbgrader_failed = last_error(spool.proc.stderr)
        elif finish.failed():
            summary.nbgrader_failed = last_error(finish.proc.stderr)
            summary.nbgrader_errors = nbgrader_errors(finish.proc.stderr)
        summary.total_seconds = time.monotonic() - started
        return summary

    def execute_while_spooling(self, workers: SpoolWorkers) -> tuple[AutogradePass, ...]:
        """The spool pass, each notebook it queues in a sandbox, then the finish pass."""
        spool = AutogradePass(self, "spool", self.scratch_args())
        finish = AutogradePass(self, "replay", [])
        with workers:
            spool.start()
            while True:
                spool_done = not spool.running()  # before the look: nothing spooled is missed
                workers.take_spooled()
                if spool_done:
                    finish.start()
                    if workers.all_done():
                        break
                time.sleep(0.05)
            workers.wait()
        (self.run_dir / "cache" / "DONE").write_text("done\n")
        finish.join()
        for failed in (spool, finish):
            if failed.error is not None:
                raise failed.error
        return spool, finish

    def autograde_pass(self, mode: str, extra: list[str]):
        """Run ``nbgrader autograde`` with ``SandboxExecute`` in ``mode`` (spool or replay)."""
        args = ["autograde", self.assignment_id, *self.nbgrader_args, *extra]
        if self.force:
            args.append("--force")
        return self.course.run_nbgrader(*args, check=False, env=self.env(mode))

    def scratch_args(self) -> list[str]:
        """The spool pass writes to the scratch ``autograded`` folder and gradebook only."""
        return [
            f"--CourseDirectory.autograded_directory={self.rel_dir / 'autograded'}",
            f"--CourseDirectory.db_url=sqlite:///{self.run_dir / 'gradebook.db'}",
        ]

    def env(self, mode: str) -> dict[str, str]:
        """What ``SandboxExecute`` reads in nbgrader's process: mode, run folder, overrides."""
        env = {
            **self.extra_env,
            sx.MODE_ENV: mode,
            sx.DIR_ENV: str(self.run_dir),
            sx.DRIVER_ENV: str(os.getpid()),
        }
        if self.sandbox:
            env[sx.SANDBOX_ENV] = self.sandbox
        if self.image:
            env[sx.IMAGE_ENV] = self.image
        if self.fail_fast:
            env[sx.FAIL_FAST_ENV] = "1"
        return env

    def check_sandbox(self) -> dict:
        """The settings nbgrader will use, and a clear refusal when no sandbox can run."""
        from traitlets.config import Config
        from traitlets.config.loader import PyFileConfigLoader

        config = Config()
        path = Path(self.course.root) / "nbgrader_config.py"
        if path.exists():
            config = PyFileConfigLoader(path.name, str(path.parent)).load_config()
        overrides = {k: v for k, v in self.env("").items() if k in (sx.SANDBOX_ENV, sx.IMAGE_ENV)}
        with _environ(overrides):
            settings = sx.SandboxExecute(config=config).settings()
        sx.make_backend_for(settings).check()
        return settings

    # -- the run folder ------------------------------------------------------------------
    def prepare(self) -> None:
        """The run folder, with the spool pass's gradebook and view of ``autograded``."""
        for sub in ("", "spool", "cache"):
            d = self.run_dir / sub
            d.mkdir(parents=True, exist_ok=True)
            self._own(d)
            if sub == "":
                self._own(d.parent)
        self.copy_scratch_gradebook()
        scratch = self.run_dir / "autograded"
        scratch.mkdir(exist_ok=True)
        self._own(scratch)
        if not self.force:
            self.mirror_autograded(scratch)

    def copy_scratch_gradebook(self) -> None:
        gradebook = Path(self.course.root) / "gradebook.db"
        db_url = getattr(self.course, "db_url", None)
        if db_url:  # a Postgres gradebook: the spool pass gets a SQLite copy of it
            copy_gradebook(db_url, self.run_dir / "gradebook.db")
        elif gradebook.exists():
            shutil.copy2(gradebook, self.run_dir / "gradebook.db")
        if (self.run_dir / "gradebook.db").exists():
            self._own(self.run_dir / "gradebook.db")

    def mirror_autograded(self, scratch: Path) -> None:
        """The folders and timestamps of what was graded, so both passes skip the same."""
        # nbgrader skips what it graded already unless --force
        for existing in sorted(Path(self.course.root).glob(f"autograded/*/{self.assignment_id}")):
            target = scratch / existing.parent.name / existing.name
            target.mkdir(parents=True, exist_ok=True)
            stamp = existing / "timestamp.txt"
            if stamp.exists():
                shutil.copy2(stamp, target / "timestamp.txt")
            for d in (target.parent, target):
                self._own(d)

    def remove_run_dir(self) -> None:
        if not self.keep:
            shutil.rmtree(self.run_dir, ignore_errors=True)
            with contextlib.suppress(OSError):
                self.run_dir.parent.rmdir()

    def _own(self, path: Path) -> None:
        user = getattr(self.course, "grader_user", None)
        if user and os.geteuid() == 0:
            shutil.chown(path, user, user)

    # -- what nbgrader will grade --------------------------------------------------------
    def expected_count(self) -> int:
        """How many submissions nbgrader will grade (the progress line's total)."""
        students = [
            p.parent.name
            for p in Path(self.course.root).glob(f"submitted/*/{self.assignment_id}")
            if p.is_dir()
        ]
        for a in self.nbgrader_args:
            if a.startswith("--student="):
                students = [s for s in students if s == a.split("=", 1)[1]]
            if a.startswith("--CourseDirectory.student_id_exclude="):
                excluded = set(a.split("=", 1)[1].split(","))
                students = [s for s in students if s not in excluded]
        if not self.force:
            students = [s for s in students if self._needs_grading(s)]
        return len(students)

    def _needs_grading(self, student: str) -> bool:
        dest = Path(self.course.root) / "autograded" / student / self.assignment_id
        if not dest.exists():
            return True
        src = Path(self.course.root) / "submitted" / student / self.assignment_id
        try:
            return (src / "timestamp.txt").read_text() > (dest / "timestamp.txt").read_text()
        except OSError:
            return False


def copy_gradebook(url: str, dest: Path) -> None:
    """Every row of the gradebook at ``url`` into a new SQLite file ``dest``, nbgrader's schema."""
    from nbgrader.api import Base
    from sqlalchemy import create_engine, inspect

    source, target = create_engine(url), create_engine(f"sqlite:///{dest}")
    try:
        if not inspect(source).get_table_names():
            return  # nothing built yet: nbgrader makes its tables in the copy as it would here
        Base.metadata.create_all(target)
        with source.connect() as read, target.begin() as write:
            for table in Base.metadata.sorted_tables:  # parents before the rows that refer to them
                rows = [dict(row._mapping) for row in read.execute(table.select())]
                if rows:
                    write.execute(table.insert(), rows)
    finally:
        source.dispose()
        target.dispose()


def autograde(course, assignment_id: str, **kwargs) -> Summary:
    """Grade an assignment's submissions in parallel sandboxes (see GradingRun)."""
    return GradingRun(course, assignment_id, **kwargs).grade()
