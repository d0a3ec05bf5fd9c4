"""Autograde many submissions at once, each in its own sandbox, gradebook writes serialised.

Three steps, overlapped:

1. a *dry pass*: ``nbgrader autograde`` against a scratch copy of the gradebook and a
   scratch ``autograded`` folder, with ``SandboxExecute`` in spool mode: nbgrader merges
   every submission with the instructor's cells exactly as it will for real and we queue
   each merged notebook (nothing is executed; the real gradebook is not touched);
2. N workers take queued notebooks as they appear and run each in a sandbox (retrying once
   when the sandbox itself failed), storing the outcome under a hash of the merged input;
3. the *real pass*: one serial ``nbgrader autograde`` against the real gradebook, with
   ``SandboxExecute`` in replay mode picking up each stored outcome as soon as it exists.
   It starts when the dry pass ends and runs while the workers finish.

nbgrader decides what to grade (``--force``, timestamps, ``--student``) in both passes the
same way, so re-running is idempotent: what was graded is skipped, what failed for
infrastructure reasons is graded again.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from . import sandbox_execute as sx
from .backends import RunResult, SandboxUnavailable, prune_docker_leftovers
from .progress import Progress as _Progress

STATUS_TEXT = {
    "ok": "graded",
    "timeout": "graded (time limit exceeded)",
    "unresponsive": "graded (time limit exceeded)",
    "oom": "graded (memory limit exceeded)",
    "died": "graded (the kernel died)",
    "sandbox": "graded (the sandbox died)",
    "refused": "graded (not runnable)",
    "tampering": "graded (tampering detected)",
    "failfast": "graded (stopped at the first failed test)",
    "infra": "FAILED (infrastructure; not graded)",
}


@dataclass
class Outcome:
    student: str
    notebook: str
    status: str
    detail: str = ""
    wall_seconds: float = 0.0
    exec_seconds: float = 0.0
    attempts: int = 1
    prelude_seconds: float = 0.0


@dataclass
class Summary:
    outcomes: list[Outcome] = field(default_factory=list)
    total_seconds: float = 0.0
    nbgrader_failed: str = ""
    # student -> why nbgrader did not grade them (other than a sandbox failure)
    nbgrader_errors: dict[str, str] = field(default_factory=dict)
    # student -> why their submission was refused before grading (set by the caller)
    not_gradable: dict[str, str] = field(default_factory=dict)
    jobs: int = 1
    sandbox: str = ""

    def count(self, *statuses: str) -> int:
        return sum(o.status in statuses for o in self.outcomes)

    @property
    def infra_failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "infra"]

    def ungraded(self) -> dict[str, str]:
        """Every student left without a grade, with the reason (infrastructure included)."""
        out = {**self.not_gradable, **self.nbgrader_errors}
        for o in self.infra_failures:
            out[o.student] = f"{o.detail} (infrastructure; run again)"
        return out

    def line(self) -> str:
        infra = {o.student for o in self.infra_failures}
        errors = [s for s in self.nbgrader_errors if s not in infra]
        graded = len({o.student for o in self.outcomes} - infra - set(errors))
        parts = [f"{graded} graded"]
        for label, statuses in (
            ("timed out", ("timeout", "unresponsive")),
            ("over the memory limit", ("oom",)),
            ("kernel died", ("died", "sandbox")),
            ("tampering detected", ("tampering",)),
            ("not runnable", ("refused",)),
        ):
            n = self.count(*statuses)
            if n:
                parts.append(f"{n} {label}")
        if self.not_gradable:
            parts.append(f"{len(self.not_gradable)} not gradable (refused submission)")
        if errors:
            parts.append(f"{len(errors)} not graded (nbgrader error)")
        parts.append(f"{self.count('infra')} failed (infrastructure)")
        return (
            f"{', '.join(parts)} in {self.total_seconds:.1f} s "
            f"({self.jobs} {self.sandbox} sandbox{'es' if self.jobs != 1 else ''} at once)"
        )


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


class Progress(_Progress):
    """The shared CLI progress line, with a grading outcome's wording per submission."""

    def finish(self, name: str, outcome: Outcome) -> None:
        text = STATUS_TEXT.get(outcome.status, outcome.status)
        detail = f": {outcome.detail}" if outcome.detail and outcome.status != "ok" else ""
        self.item(name, f"{text}{detail} ({outcome.wall_seconds:.1f} s)")


def outcome_from(record: dict, student: str, notebook: str, settings: dict) -> Outcome:
    result = RunResult.from_json(record["result"])
    if result.infra_error:
        return Outcome(
            student,
            notebook,
            "infra",
            result.infra_error,
            result.wall_seconds,
            0.0,
            record.get("attempts", 1),
        )
    failure = result.failure(sx.Limits(**settings["limits"]))
    tamper = result.event("tamper")
    status = failure["reason"] if failure else ("tampering" if tamper else "ok")
    detail = ""
    if failure:
        detail = failure.get("detail") or {
            "timeout": f"time limit of {settings['limits']['wall_timeout']} s",
            "oom": f"memory limit of {sx.Limits(**settings['limits']).describe_memory()}",
        }.get(status, "")
    elif tamper:
        detail = "; ".join(tamper.get("what") or [])[:200]
    return Outcome(
        student,
        notebook,
        status,
        detail,
        result.wall_seconds,
        result.exec_seconds,
        record.get("attempts", 1),
        result.prelude_seconds,
    )


_ENVIRON_LOCK = threading.Lock()


class GradingRun:
    """One ``coursehub autograde``: dry pass, parallel sandboxes, real pass."""

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

    # -- environment ---------------------------------------------------------------------
    def env(self, mode: str) -> dict[str, str]:
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

    def _own(self, path: Path) -> None:
        user = getattr(self.course, "grader_user", None)
        if user and os.geteuid() == 0:
            shutil.chown(path, user, user)

    def prepare(self) -> None:
        for sub in ("", "spool", "cache"):
            d = self.run_dir / sub
            d.mkdir(parents=True, exist_ok=True)
            self._own(d)
            if sub == "":
                self._own(d.parent)
        gradebook = Path(self.course.root) / "gradebook.db"
        db_url = getattr(self.course, "db_url", None)
        if db_url:  # a Postgres gradebook: the dry pass gets a SQLite copy of it
            copy_gradebook(db_url, self.run_dir / "gradebook.db")
        elif gradebook.exists():
            shutil.copy2(gradebook, self.run_dir / "gradebook.db")
        if (self.run_dir / "gradebook.db").exists():
            self._own(self.run_dir / "gradebook.db")
        # nbgrader skips what it graded already unless --force: give the dry pass the
        # same view (folders + timestamps) of what exists, so both passes agree.
        scratch = self.run_dir / "autograded"
        scratch.mkdir(exist_ok=True)
        self._own(scratch)
        if not self.force:
            for existing in sorted(
                Path(self.course.root).glob(f"autograded/*/{self.assignment_id}")
            ):
                target = scratch / existing.parent.name / existing.name
                target.mkdir(parents=True, exist_ok=True)
                stamp = existing / "timestamp.txt"
                if stamp.exists():
                    shutil.copy2(stamp, target / "timestamp.txt")
                for d in (target.parent, target):
                    self._own(d)

    def expected_count(self) -> int:
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

    def nbgrader(self, mode: str, extra: list[str]):
        args = ["autograde", self.assignment_id, *self.nbgrader_args, *extra]
        if self.force:
            args.append("--force")
        return self.course.nbgrader(*args, check=False, env=self.env(mode))

    # -- the run -------------------------------------------------------------------------
    def check_sandbox(self) -> dict:
        """The settings nbgrader will use, and a clear refusal when no sandbox can run."""
        from traitlets.config import Config
        from traitlets.config.loader import PyFileConfigLoader

        config = Config()
        path = Path(self.course.root) / "nbgrader_config.py"
        if path.exists():
            config = PyFileConfigLoader(path.name, str(path.parent)).load_config()
        overrides = {k: v for k, v in self.env("").items() if k in (sx.SANDBOX_ENV, sx.IMAGE_ENV)}
        with _ENVIRON_LOCK:  # two runs checking at once must not restore each other's values
            saved = {k: os.environ.get(k) for k in overrides}
            os.environ.update(overrides)
            try:
                settings = sx.SandboxExecute(config=config).settings()
            finally:
                for k, v in saved.items():
                    if v is None:
                        os.environ.pop(k, None)
                    else:
                        os.environ[k] = v
        sx.make_backend_for(settings).check()
        return settings

    def run(self) -> Summary:
        started = time.monotonic()
        settings = self.check_sandbox()  # raises SandboxUnavailable
        if settings["sandbox"] == "docker":
            prune_docker_leftovers()
        jobs = self.jobs or default_jobs(settings)
        summary = Summary(jobs=jobs, sandbox=settings["sandbox"])
        self.prepare()
        progress = Progress(self.stream, self.expected_count())
        slots: queue.Queue = queue.Queue()
        gpus = gpu_ids(settings["gpus"]) if settings.get("gpus") else []
        for i in range(jobs):
            slots.put(gpus[i % len(gpus)] if gpus else "")
        outcomes_lock = threading.Lock()
        # identical inputs (same merged notebook, files and limits) run once; everyone
        # who submitted them gets that outcome. key -> {"rec": record or None, "dups": [...]}
        by_key: dict[str, dict] = {}

        def label_of(record: dict) -> str:
            label = record["student"]
            if record.get("notebook_id") and record["notebook_id"] != self.assignment_id:
                label += f"/{record['notebook_id']}"
            return label

        def report(record: dict, rec: dict) -> None:
            outcome = outcome_from(
                rec, record["student"], record.get("notebook_id") or "", record["settings"]
            )
            with outcomes_lock:
                summary.outcomes.append(outcome)
            progress.finish(label_of(record), outcome)

        def work(record: dict) -> None:
            label = label_of(record)
            progress.start(label)
            slot = slots.get()
            try:
                rec = sx.execute(
                    record["notebook"],
                    record["files_dir"],
                    record["settings"],
                    gpu_slot=slot,
                    on_retry=lambda why: progress.note(f"{label}: {why}; retrying once"),
                )
            except SandboxUnavailable as exc:
                rec = {"result": RunResult(infra_error=str(exc)).to_json(), "attempts": 1}
            except Exception as exc:  # never leave the real pass waiting
                rec = {
                    "result": RunResult(infra_error=f"{type(exc).__name__}: {exc}").to_json(),
                    "attempts": 1,
                }
            finally:
                slots.put(slot)
            sx.write_result(self.run_dir, record["key"], rec)
            with outcomes_lock:
                state = by_key[record["key"]]
                state["rec"] = rec
                dups, state["dups"] = state["dups"], []
            for r in [record, *dups]:
                report(r, rec)

        def enqueue(record: dict) -> None:
            with outcomes_lock:
                state = by_key.get(record["key"])
                if state is None:
                    by_key[record["key"]] = {"rec": None, "dups": []}
                    futures.append(pool.submit(work, record))
                    return
                if state["rec"] is None:
                    state["dups"].append(record)
                    return
            report(record, state["rec"])

        dry_result: dict = {}

        def dry_pass():
            dry_result["proc"] = self.nbgrader(
                "spool",
                [
                    f"--CourseDirectory.autograded_directory={self.rel_dir / 'autograded'}",
                    f"--CourseDirectory.db_url=sqlite:///{self.run_dir / 'gradebook.db'}",
                ],
            )

        real_result: dict = {}

        def real_pass():
            real_result["proc"] = self.nbgrader("replay", [])

        dry = threading.Thread(target=dry_pass, daemon=True)
        real = threading.Thread(target=real_pass, daemon=True)
        seen: set[str] = set()
        futures = []
        try:
            with ThreadPoolExecutor(max_workers=jobs) as pool:
                dry.start()
                while True:
                    dry_done = not dry.is_alive()
                    for path in sorted((self.run_dir / "spool").glob("*.json")):
                        if path.name in seen:
                            continue
                        seen.add(path.name)
                        enqueue(json.loads(path.read_text()))
                    if dry_done:
                        if not real.is_alive() and "proc" not in real_result:
                            real.start()
                        if all(f.done() for f in futures):
                            break
                    time.sleep(0.05)
                for f in futures:
                    f.result()
            (self.run_dir / "cache" / "DONE").write_text("done\n")
            real.join()
        finally:
            progress.close()
            if not self.keep:
                shutil.rmtree(self.run_dir, ignore_errors=True)
                with contextlib.suppress(OSError):
                    self.run_dir.parent.rmdir()
        proc = real_result.get("proc")
        dry_proc = dry_result.get("proc")
        if dry_proc is not None and dry_proc.returncode != 0 and not futures:
            summary.nbgrader_failed = _last_error(dry_proc.stderr)
        elif proc is not None and proc.returncode != 0:
            summary.nbgrader_failed = _last_error(proc.stderr)
            summary.nbgrader_errors = nbgrader_errors(proc.stderr)
        summary.total_seconds = time.monotonic() - started
        return summary


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


def _last_error(stderr: str) -> str:
    lines = [ln.strip() for ln in (stderr or "").splitlines() if ln.strip()]
    errors = [ln for ln in lines if "[ERROR]" in ln or "Error" in ln]
    return (errors or lines or ["no output"])[-1]


_FAILED_AT = re.compile(r"There was an error processing assignment: (\S+)")
_FAILED_FOR = re.compile(r"error processing assignment '[^']*' for student '([^']*)'")
_EXCEPTION = re.compile(r"^(\w+\.)*\w*(Error|Exception|Exit)\b.*:")


def nbgrader_errors(stderr: str) -> dict[str, str]:
    """Student -> the exception nbgrader logged for them (it grades the others and exits 1)."""
    reasons: dict[str, str] = {}
    current, last = None, ""
    for line in (stderr or "").splitlines():
        at = _FAILED_AT.search(line)
        if at:
            if current:
                reasons[current] = last
            current, last = Path(at.group(1)).parent.name, ""
        elif current and _EXCEPTION.match(line.strip()):
            last = line.strip()
        who = _FAILED_FOR.search(line)
        if who:
            if current:
                reasons[current] = last
                current = None
            reasons.setdefault(who.group(1), "")
    unknown = "nbgrader could not process it (see the nbgrader log)"
    return {student: reason or unknown for student, reason in reasons.items()}


def autograde(course, assignment_id: str, **kwargs) -> Summary:
    """Grade an assignment's submissions in parallel sandboxes (see GradingRun)."""
    return GradingRun(course, assignment_id, **kwargs).run()
