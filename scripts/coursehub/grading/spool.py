"""The workers of a grading run: each notebook the spool pass queues runs in a sandbox."""

from __future__ import annotations

import json
import queue
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from . import sandbox_execute as sx
from .backends import RunResult, SandboxUnavailable
from .outcomes import Progress, Summary, outcome_from


class SpoolWorkers:
    """Runs the spooled notebooks in sandboxes, one per slot at once, identical inputs once.

    Identical inputs (same merged notebook, files and limits) share a key: the first one
    runs and everyone who submitted it gets that outcome. Each outcome is stored under its
    key, where the finish pass (replay mode) picks it up.
    """

    def __init__(
        self, run_dir: Path, assignment_id: str, slots: list[str], progress: Progress, summary
    ):
        self.run_dir = run_dir
        self.assignment_id = assignment_id
        self.progress = progress
        self.summary: Summary = summary
        self.jobs = len(slots)
        self.slots: queue.Queue = queue.Queue()  # a GPU id per slot, or "" without GPUs
        for slot in slots:
            self.slots.put(slot)
        self.lock = threading.Lock()  # by_key, futures and the summary's outcomes
        self.by_key: dict[str, dict] = {}  # key -> {"rec": its record or None, "dups": [...]}
        self.seen: set[str] = set()
        self.futures: list[Future] = []
        self.pool: ThreadPoolExecutor | None = None

    def __enter__(self) -> SpoolWorkers:
        self.pool = ThreadPoolExecutor(max_workers=self.jobs)
        return self

    def __exit__(self, *exc) -> None:
        self.pool.shutdown(wait=True)

    @property
    def executed_any(self) -> bool:
        return bool(self.futures)

    def take_spooled(self) -> None:
        """Queue every notebook spooled since the last look."""
        for path in sorted((self.run_dir / "spool").glob("*.json")):
            if path.name in self.seen:
                continue
            self.seen.add(path.name)
            self.enqueue(json.loads(path.read_text()))

    def all_done(self) -> bool:
        return all(f.done() for f in self.futures)

    def wait(self) -> None:
        """Every queued notebook's outcome; a worker's own error is raised here."""
        for f in self.futures:
            f.result()

    def enqueue(self, record: dict) -> None:
        """Run a new input; wait for or reuse the outcome of one already queued."""
        with self.lock:
            state = self.by_key.get(record["key"])
            if state is None:
                self.by_key[record["key"]] = {"rec": None, "dups": []}
                self.futures.append(self.pool.submit(self.execute_and_store, record))
                return
            if state["rec"] is None:
                state["dups"].append(record)
                return
        self.report(record, state["rec"])

    def execute_and_store(self, record: dict) -> None:
        """Run one notebook, store its outcome for the finish pass, report it for each copy."""
        rec = self.execute(record)
        sx.write_result(self.run_dir, record["key"], rec)
        with self.lock:
            state = self.by_key[record["key"]]
            state["rec"] = rec
            dups, state["dups"] = state["dups"], []
        for r in [record, *dups]:
            self.report(r, rec)

    def execute(self, record: dict) -> dict:
        """The sandbox's record for one notebook; any failure becomes an infrastructure one."""
        label = self.label(record)
        self.progress.start(label)
        slot = self.slots.get()
        try:
            return sx.execute(
                record["notebook"],
                record["files_dir"],
                record["settings"],
                gpu_slot=slot,
                on_retry=lambda why: self.progress.note(f"{label}: {why}; retrying once"),
            )
        except SandboxUnavailable as exc:
            return {"result": RunResult(infra_error=str(exc)).to_json(), "attempts": 1}
        except Exception as exc:  # never leave the finish pass waiting
            error = f"{type(exc).__name__}: {exc}"
            return {"result": RunResult(infra_error=error).to_json(), "attempts": 1}
        finally:
            self.slots.put(slot)

    def report(self, record: dict, rec: dict) -> None:
        notebook = record.get("notebook_id") or ""
        outcome = outcome_from(rec, record["student"], notebook, record["settings"])
        with self.lock:
            self.summary.outcomes.append(outcome)
        self.progress.finish(self.label(record), outcome)

    def label(self, record: dict) -> str:
        """``student``, or ``student/notebook`` for an assignment's other notebooks."""
        label = record["student"]
        if record.get("notebook_id") and record["notebook_id"] != self.assignment_id:
            label += f"/{record['notebook_id']}"
        return label
