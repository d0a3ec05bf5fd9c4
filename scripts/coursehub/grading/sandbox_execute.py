"""SandboxExecute: nbgrader's Execute step, but the notebook runs in a throwaway sandbox.

nbgrader stays the trusted orchestrator: it merges the instructor's cells (hidden tests
included) into the submission, then calls this preprocessor where it would call
``Execute``; we hand the merged notebook and the submission's other files to a sandbox
backend, build the executed notebook from the trusted input plus the outputs the sandbox
reported (:func:`assemble.assemble`), and give it back to nbgrader, which scores it and
writes the gradebook. Student code never runs in the grader's process and never sees the
course directory or the gradebook.

Modes (environment, set by the parallel driver, ``parallel.py``):

* unset: execute now, in the sandbox (the formgrader's autograde button, plain
  ``nbgrader autograde``);
* ``COURSEHUB_GRADING_MODE=spool``: do not execute; write the merged notebook to the
  run's spool for the driver's parallel workers and return it unexecuted (the dry pass
  runs against a scratch gradebook);
* ``COURSEHUB_GRADING_MODE=replay``: wait for the driver's result for this exact input
  (keyed by a hash of the merged notebook, its files and the limits) and use it; execute
  here only if the driver has none.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import subprocess
import time
from pathlib import Path

import nbformat
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Float, Integer, Unicode

from .. import gpus
from ..datasets import datasets_root
from ..settings import DEFAULT_CELL_TIMEOUT, load_settings
from ..settings import STUDENT_IMAGE as DEFAULT_IMAGE
from . import admission, backends, broker
from .assemble import assemble as assemble_events
from .backends import Limits, RunResult, SandboxUnavailable, make_backend
from .payload.messages import error_output

MODE_ENV = "COURSEHUB_GRADING_MODE"
DIR_ENV = "COURSEHUB_GRADING_DIR"
DRIVER_ENV = "COURSEHUB_GRADING_DRIVER_PID"
SANDBOX_ENV = "COURSEHUB_SANDBOX"
IMAGE_ENV = "COURSEHUB_STUDENT_IMAGE"
FAIL_FAST_ENV = "COURSEHUB_FAIL_FAST"


class SandboxInfraError(Exception):
    """The sandbox itself failed twice (not the student's fault): leave ungraded."""


def parse_size(text: str | int) -> int:
    if isinstance(text, int):
        return text
    m = re.fullmatch(r"\s*([0-9.]+)\s*([kmgt]?)i?b?\s*", str(text).lower())
    if not m:
        raise ValueError(f"cannot read the size {text!r} (e.g. 2g, 512m)")
    factor = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}[m.group(2)]
    return int(float(m.group(1)) * factor)


@functools.lru_cache(maxsize=1)
def deployment_sandbox() -> str:
    """docker in docker mode, bwrap in local mode (COURSEHUB_MODE, or the .env file)."""
    return "docker" if load_settings().mode == "docker" else "bwrap"


def deployment_gpus(kind: str, settings=None, docker_info: dict | None = None) -> str:
    """GPUs for grading sandboxes under the deployment's student GPU policy: '', 'all' or ids.

    Only the docker sandbox can hand a GPU to a submission; bwrap binds no GPU devices.
    """
    if kind != "docker":
        return ""
    # A bad COURSEHUB_GPUS stops grading with its one-line error instead of silently
    # grading on the CPU.
    settings = settings or load_settings()
    policy, ids = settings.gpus, settings.gpu_ids
    if policy == "auto":
        if docker_info is None:
            docker_info = _docker_info()
        policy = gpus.effective_policy(policy, docker_info)
    if policy == "none":
        return ""
    return ",".join(ids) or "all"


@functools.lru_cache(maxsize=1)
def _docker_info() -> dict:
    try:
        out = subprocess.run(
            ["docker", "info", "--format", "{{json .}}"], capture_output=True, text=True, timeout=30
        )
        return json.loads(out.stdout) if out.returncode == 0 else {}
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return {}


class SandboxExecute(NbGraderPreprocessor):
    """Execute the merged notebook in a sandbox (docker or bwrap) instead of locally."""

    sandbox = Unicode(
        "auto",
        help="docker, bwrap, or auto: $COURSEHUB_SANDBOX, else docker in docker mode and "
        "bwrap in local mode. Never falls back to running unsandboxed.",
    ).tag(config=True)
    image = Unicode("", help="student image (docker); default $COURSEHUB_STUDENT_IMAGE").tag(
        config=True
    )
    cell_timeout = Integer(
        0, help="seconds per cell; 0: ExecutePreprocessor.timeout if configured, else 300"
    ).tag(config=True)
    wall_timeout = Integer(1800, help="seconds for the whole notebook").tag(config=True)
    memory = Unicode("2g", help="memory limit of the sandbox, e.g. 2g").tag(config=True)
    pids = Integer(256, help="processes + threads in the sandbox").tag(config=True)
    cpus = Float(1.0, help="CPUs per sandbox").tag(config=True)
    tmp_size = Unicode("1g", help="size of the sandbox's writable /tmp").tag(config=True)
    gpus = Unicode(
        "auto",
        help="'' (no GPU), 'all', device ids (one per parallel sandbox, e.g. '0,1'), or auto: "
        "the deployment's COURSEHUB_GPUS / COURSEHUB_GPU_IDS in docker mode, none in bwrap",
    ).tag(config=True)
    datasets = Unicode(
        "auto",
        help="read-only datasets at /srv/datasets: a host folder (bwrap) or volume (docker); "
        "auto: $COURSEHUB_DATASETS (bwrap) / the coursehub-datasets volume if present; '' none",
    ).tag(config=True)
    integrity_probe = Bool(True, help="detect tampering with the test helpers").tag(config=True)
    fail_fast = Bool(
        False,
        help="stop at the first failed test cell, the rest scoring 0 (also $COURSEHUB_FAIL_FAST"
        "=1): a quick check that a wrong solution loses points, not a grade to give students",
    ).tag(config=True)
    replay_timeout = Integer(
        0, help="seconds to wait for the parallel driver's result (0: wall_timeout x 4)"
    ).tag(config=True)

    # -- settings ------------------------------------------------------------------------
    def sandbox_kind(self) -> str:
        kind = os.environ.get(SANDBOX_ENV) or self.sandbox
        if kind == "auto":
            kind = deployment_sandbox()
        if kind not in backends.BACKENDS:
            raise SandboxUnavailable(f"unknown sandbox {kind!r} (expected docker or bwrap)")
        return kind

    def limits(self) -> Limits:
        timeout = self.cell_timeout
        if not timeout:
            section = self.config.get("ExecutePreprocessor", {})
            timeout = int(section.get("timeout", 0) or 0) or DEFAULT_CELL_TIMEOUT
        return Limits(
            cell_timeout=timeout,
            wall_timeout=self.wall_timeout,
            memory=parse_size(self.memory),
            pids=self.pids,
            cpus=self.cpus,
            tmp_size=parse_size(self.tmp_size),
            probe=self.integrity_probe,
            fail_fast=self.fail_fast or os.environ.get(FAIL_FAST_ENV) == "1",
        )

    def settings(self) -> dict:
        """Everything that decides how a notebook runs (also what the driver needs)."""
        kind = self.sandbox_kind()
        return {
            "sandbox": kind,
            "image": self.image or os.environ.get(IMAGE_ENV) or DEFAULT_IMAGE,
            "limits": self.limits().__dict__,
            "gpus": deployment_gpus(kind) if self.gpus == "auto" else self.gpus,
            "datasets": resolve_datasets(self.datasets, kind),
        }

    def refusals(self, info: dict) -> list[str]:
        """Reasons recorded at collect (or before autograde) for this student's files."""
        if not info.get("student") or not info.get("assignment"):
            return []
        root = CourseDirectory(config=self.config).root
        path = admission.reasons_path(root, info["student"], info["assignment"])
        return admission.read_reasons(path)

    # -- the nbgrader hook -------------------------------------------------------------
    def preprocess(self, nb, resources):
        files_dir = (resources.get("metadata") or {}).get("path") or None
        nb_dict = json.loads(json.dumps(nb))  # plain dicts, sources as strings
        settings = self.settings()
        key = cache_key(nb_dict, files_dir, settings)
        mode = os.environ.get(MODE_ENV, "")
        run_dir = Path(os.environ[DIR_ENV]) if os.environ.get(DIR_ENV) else None
        info = resources.get("nbgrader", {})
        who = f"{info.get('student', '?')}/{info.get('notebook', '?')}"

        if mode == "spool" and run_dir is not None:
            spool_write(run_dir, key, nb_dict, files_dir, settings, info)
            self.log.info("Queued %s for sandboxed execution (%s)", who, key[:12])
            return nb, resources

        record = None
        if mode == "replay" and run_dir is not None:
            record = wait_for_result(run_dir, key, self.replay_timeout or self.wall_timeout * 4)
        if record is None:
            self.log.info("Executing %s in a %s sandbox", who, settings["sandbox"])
            record = run_sandbox(nb_dict, files_dir, settings)
        result = RunResult.from_json(record["result"])
        if result.infra_error:
            raise SandboxInfraError(f"{who}: {result.infra_error} (not graded; run it again)")
        executed, summary = assemble(nb_dict, result, settings)
        add_refusal_note(executed, self.refusals(info))
        if summary["status"] != "ok" or summary["tampering"]:
            self.log.warning(
                "%s: %s %s", who, summary["status"], summary["detail"] or summary["tampering"]
            )
        new_nb = nbformat.reads(json.dumps(executed), as_version=4)
        resources.setdefault("coursehub", {})["sandbox"] = summary
        return new_nb, resources


def add_refusal_note(nb: dict, reasons: list[str]) -> None:
    """Tell the student, in the first code cell's output, which files were not admitted."""
    cell = next((c for c in nb.get("cells", []) if c.get("cell_type") == "code"), None)
    if cell is None or not reasons:
        return
    text = (
        "coursehub: these files of your submission were not admitted and were not graded "
        "(only regular files and folders are; links are never followed):\n"
        + "".join(f"  {line}\n" for line in reasons)
    )
    cell.setdefault("outputs", []).insert(
        0, {"output_type": "stream", "name": "stderr", "text": text}
    )


def sandboxed_preprocessors(preprocessors) -> list:
    """nbgrader's autograde preprocessor list with Execute replaced by SandboxExecute."""
    from nbgrader.preprocessors import Execute

    out = []
    for pp in preprocessors:
        cls = pp if isinstance(pp, type) else type(pp)
        out.append(SandboxExecute if issubclass(cls, Execute) or pp is Execute else pp)
    if SandboxExecute not in out:
        raise RuntimeError("nbgrader's autograde preprocessors have no Execute step to replace")
    return out


@functools.lru_cache(maxsize=8)
def resolve_datasets(value: str, kind: str) -> str:
    if value != "auto":
        return value
    if kind == "bwrap":
        root = datasets_root()
        return str(root) if Path(root).is_dir() else ""
    volume = load_settings().datasets_volume
    found = subprocess.run(["docker", "volume", "inspect", volume], capture_output=True)
    return volume if found.returncode == 0 else ""


def cache_key(nb: dict, files_dir, settings: dict) -> str:
    """Hash of everything that decides the execution: cells, kernel, files, limits."""
    h = hashlib.sha256()
    cells = [
        [
            c.get("cell_type"),
            c.get("source") if isinstance(c.get("source"), str) else "".join(c.get("source")),
            {
                k: (c.get("metadata", {}).get("nbgrader") or {}).get(k)
                for k in ("grade", "solution", "locked")
            },
        ]
        for c in nb.get("cells", [])
    ]
    kernel = (nb.get("metadata", {}).get("kernelspec") or {}).get("name")
    h.update(json.dumps([cells, kernel, settings], sort_keys=True).encode())
    for entry in backends.iter_files(Path(files_dir) if files_dir else None):
        h.update(entry.rel.encode() + b"\0")
        digest = hashlib.sha256()
        for data in admission.read_entry(entry):
            digest.update(data)
        h.update(digest.digest())
    return h.hexdigest()


def make_backend_for(settings: dict, gpu_slot: str = "") -> backends.Backend:
    limits = Limits(**settings["limits"])
    gpu = settings["gpus"]
    if gpu and gpu_slot:
        gpu = gpu_slot
    elif "," in gpu:
        gpu = gpu.split(",")[0]  # one sandbox at a time (formgrader button): the first GPU
    return make_backend(
        settings["sandbox"],
        limits,
        image=settings["image"],
        gpu=gpu,
        datasets=settings.get("datasets", ""),
    )


def run_sandbox(nb: dict, files_dir, settings: dict) -> dict:
    """``execute`` here, or through root's broker when this account may not start containers."""
    path = os.environ.get(broker.BROKER_ENV)
    if settings["sandbox"] == "docker" and path and os.geteuid() != 0:
        return broker.request(path, nb, files_dir, settings["limits"])
    return execute(nb, files_dir, settings)


def execute(nb: dict, files_dir, settings: dict, gpu_slot: str = "", on_retry=None) -> dict:
    """Run in the sandbox; retry once when the sandbox itself failed. Returns a record."""
    backend = make_backend_for(settings, gpu_slot)
    backend.check()
    result = backend.execute_notebook(nb, Path(files_dir) if files_dir else None)
    attempts = 1
    if result.infra_error:
        if on_retry:
            on_retry(result.infra_error)
        time.sleep(1)
        result = backend.execute_notebook(nb, Path(files_dir) if files_dir else None)
        attempts = 2
    close = getattr(backend, "close", None)
    if close:
        close()
    return {"result": result.to_json(), "attempts": attempts}


def assemble(nb: dict, result: RunResult, settings: dict) -> tuple[dict, dict]:
    limits = Limits(**settings["limits"])
    context = {
        "failure": result.failure(limits),
        "limit": limits.describe_wall(),
        "memory": limits.describe_memory(),
    }
    executed, summary = assemble_events(nb, result.events, context)
    annotate_limits(executed, limits)
    summary["wall_seconds"] = result.wall_seconds
    return executed, summary


_MEMORY_ERRORS = re.compile(r"MemoryError|can't allocate memory|DefaultCPUAllocator|out of memory")
_PROCESS_ERRORS = re.compile(r"Resource temporarily unavailable|can't start new thread")


def annotate_limits(nb: dict, limits: Limits) -> None:
    """Say which sandbox limit a failed allocation or fork ran into."""
    for cell in nb.get("cells", []):
        for out in list(cell.get("outputs", [])):
            if out.get("output_type") != "error":
                continue
            text = f"{out.get('ename')}: {out.get('evalue')}"
            note = None
            if _MEMORY_ERRORS.search(text):
                note = (
                    "MemoryLimitExceeded",
                    f"memory limit of {limits.describe_memory()} exceeded",
                )
            elif _PROCESS_ERRORS.search(text):
                note = ("ProcessLimitExceeded", f"process limit of {limits.pids} exceeded")
            if note and not any(o.get("ename") == note[0] for o in cell["outputs"]):
                cell["outputs"].append(error_output(*note))


# -- the run directory shared with the driver --------------------------------------------


def spool_write(run_dir: Path, key: str, nb: dict, files_dir, settings: dict, info: dict):
    spool = run_dir / "spool"
    spool.mkdir(parents=True, exist_ok=True)
    seq = len(list(spool.glob("*.json")))
    record = {
        "key": key,
        "student": info.get("student"),
        "assignment": info.get("assignment"),
        "notebook_id": info.get("notebook"),
        "notebook": nb,
        "files_dir": str(Path(files_dir).resolve()) if files_dir else None,
        "settings": settings,
    }
    name = f"{seq:05d}-{key[:16]}-{os.getpid()}"
    tmp = spool / f".{name}.tmp"
    tmp.write_text(json.dumps(record))
    tmp.rename(spool / f"{name}.json")


def result_path(run_dir: Path, key: str) -> Path:
    return run_dir / "cache" / f"{key}.json"


def write_result(run_dir: Path, key: str, record: dict) -> None:
    path = result_path(run_dir, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(record))
    os.chmod(tmp, 0o644)
    tmp.rename(path)


def wait_for_result(run_dir: Path, key: str, timeout: float) -> dict | None:
    """The driver's record for ``key``; None when it will not come (then execute here)."""
    path = result_path(run_dir, key)
    done = run_dir / "cache" / "DONE"
    driver = int(os.environ.get(DRIVER_ENV, "0") or 0)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            return json.loads(path.read_text())
        if done.exists():
            return json.loads(path.read_text()) if path.exists() else None
        if driver and not _alive(driver):
            return None
        time.sleep(0.05)
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
