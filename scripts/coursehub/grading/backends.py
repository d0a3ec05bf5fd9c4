"""Sandbox backends: run the executor (payload/) on one notebook, in isolation.

Both backends start the sandbox's Python on payload/bootstrap.py (``python -P -c``) and
send the same stdin: one JSON line with the payload's sources, then a tar of ``job.json``
+ ``files/``. They give back the executor's JSON-line events on stdout, so no host path is
shared with the sandbox (the docker backend works the same when the grader itself runs in
a container and talks to the host's engine). Each backend owns its limits:

* ``docker``: ``docker run -i --network none --read-only`` with a size-limited tmpfs /tmp,
  ``--memory`` (= ``--memory-swap``), ``--pids-limit``, ``--cpus``, all capabilities dropped,
  ``no-new-privileges``, an unprivileged uid, ``--gpus`` only when configured, the student
  image; nothing of coursehub needs to be in the image but the checks (``autograders``).
* ``bwrap``: bubblewrap with every namespace unshared (no network), read-only binds of
  /usr, the grader's Python environment and the checks (``autograders``) only, a
  size-limited tmpfs /tmp, ``--die-with-parent``; memory (RLIMIT_DATA / RLIMIT_AS),
  processes (RLIMIT_NPROC, counted per sandbox thanks to the user namespace) and file size
  are limited by the executor before the kernel starts. Run as root, the sandbox first
  drops to ``nobody``.

The wall-clock limit is enforced here, outside the sandbox, by killing it.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..settings import DEFAULT_CELL_TIMEOUT, STUDENT_IMAGE
from . import admission
from .payload import messages

GiB = 1024**3
MiB = 1024**2
NOBODY = 65534
MAX_EVENT_BYTES = 256 * MiB  # the executor caps outputs; this only guards the grader
PAYLOAD_DIR = Path(messages.__file__).parent
# The checks test cells import: the one coursehub folder a bwrap sandbox sees.
CHECKS_DIR = Path(importlib.util.find_spec("autograders").origin).parent
# Where every sandbox finds them: bwrap binds CHECKS_DIR here, the student image copies
# them here (docker/student/Dockerfile); the probe counts code from here as trusted.
SANDBOX_LIB = "/opt/coursehub/lib"


@functools.lru_cache(maxsize=1)
def bootstrap_source() -> str:
    return (PAYLOAD_DIR / "bootstrap.py").read_text()


@functools.lru_cache(maxsize=1)
def payload_sources() -> bytes:
    """The executor's modules as one JSON line, read by bootstrap.py inside the sandbox."""
    sources = {
        f"coursehub_payload/{path.name}": path.read_text()
        for path in sorted(PAYLOAD_DIR.glob("*.py"))
        if path.name != "bootstrap.py"
    }
    return json.dumps(sources).encode("utf-8") + b"\n"


class SandboxUnavailable(Exception):
    """No sandbox can run here; the message says why in one line."""


@dataclass
class Limits:
    """What one sandboxed execution may use. Sizes in bytes, times in seconds."""

    cell_timeout: int = DEFAULT_CELL_TIMEOUT
    wall_timeout: int = 1800
    memory: int = 2 * GiB
    pids: int = 256
    cpus: float = 1.0
    tmp_size: int = 1 * GiB
    output_limit: int = 1 * MiB
    total_output_limit: int = 8 * MiB
    output_hard_limit: int = 64 * MiB
    # bwrap only: torch maps ~3 GiB of address space just by being imported, so the
    # RLIMIT_AS backstop is the memory limit plus this much (RLIMIT_DATA is the real limit).
    address_space_headroom: int = 6 * GiB
    probe: bool = True
    # Stop at the first test cell that fails (the rest score 0): enough to show that a
    # planted wrong solution loses points, without running the heavy cells after it.
    fail_fast: bool = False

    def describe_memory(self) -> str:
        return messages.human_bytes(self.memory)

    def describe_wall(self) -> str:
        return f"{self.wall_timeout} s"


@dataclass
class RunResult:
    """What came out of one sandbox run."""

    events: list = field(default_factory=list)
    returncode: int | None = None
    timed_out: bool = False
    oom_killed: bool = False
    infra_error: str = ""  # non-empty: the sandbox itself failed (retry may help)
    refused: str = ""  # non-empty: the submission cannot be run (its own fault)
    stderr_tail: str = ""
    wall_seconds: float = 0.0
    backend: str = ""
    timings: dict = field(default_factory=dict)  # grader-side seconds since start, per event

    def event(self, kind: str) -> dict | None:
        return next((e for e in self.events if e.get("ev") == kind), None)

    @property
    def prelude_seconds(self) -> float:
        """Time spent importing torch & co. before the first cell (the integrity baseline)."""
        ready = self.event("ready")
        return float((ready or {}).get("prelude_seconds") or 0)

    @property
    def exec_seconds(self) -> float:
        end = self.event("end")
        if end:
            return float(end.get("exec_seconds") or 0)
        return sum(float(e.get("seconds") or 0) for e in self.events if e.get("ev") == "done")

    def failure(self, limits: Limits) -> dict | None:
        """The failure to report in the notebook (None: the executor ended normally)."""
        if self.timed_out:
            return {"reason": "timeout", "detail": ""}
        if self.oom_killed:
            return {"reason": "oom", "detail": ""}
        if self.refused:
            return {"reason": "refused", "detail": self.refused}
        stop = self.event("stop")
        if stop:
            return {"reason": stop.get("reason", "died"), "detail": stop.get("detail", "")}
        if self.event("end"):
            return None
        return {"reason": "sandbox", "detail": "the grading sandbox ended unexpectedly"}

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> RunResult:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def job_spec(nb: dict, limits: Limits, backend: str) -> dict:
    """job.json for the executor."""
    job = {
        "notebook": nb,
        "cell_timeout": limits.cell_timeout,
        "output_limit": limits.output_limit,
        "total_output_limit": limits.total_output_limit,
        "output_hard_limit": limits.output_hard_limit,
        "probe": limits.probe,
        "fail_fast": limits.fail_fast,
        "memory": limits.memory,
        "rlimit_fsize": limits.tmp_size,
        "kernel_env": {"NBGRADER_EXECUTION": "autograde"},
        "sandboxed": True,  # own pid namespace: the executor may reap stray processes
        "wall_timeout": limits.wall_timeout,  # the executor's own backstop (grader killed)
        "trusted_roots": [SANDBOX_LIB + "/"],
    }
    if backend == "bwrap":
        job["nproc"] = limits.pids
        job["rlimit_data"] = limits.memory
        job["rlimit_as"] = limits.memory + limits.address_space_headroom
    return job


PAYLOAD_LIMITS = admission.Limits()  # the same limits as at collect
# Never part of the sandbox payload: notebooks go in job.json, the rest is nbgrader's.
_NOT_PAYLOAD = (".ipynb_checkpoints", "__pycache__", "*.ipynb")


def iter_files(files_dir: Path | None):
    """The submission's supporting files (no notebooks) that admission lets through.

    Each ``admission.Entry`` is valid until the next one is asked for: read it at once
    (``admission.read_entry``). Links, special files and hard links are skipped, never
    followed; collect already refused them, so none should be here.
    """
    if files_dir is None or not Path(files_dir).is_dir():
        return
    for item in admission.walk(Path(files_dir), PAYLOAD_LIMITS, _NOT_PAYLOAD):
        if isinstance(item, admission.Entry) and item.rel != "timestamp.txt":
            yield item


def write_payload(stream, job: dict, files_dir: Path | None) -> None:
    with tarfile.open(fileobj=stream, mode="w|") as tar:
        data = json.dumps(job).encode("utf-8")
        info = tarfile.TarInfo("job.json")
        info.size = len(data)
        info.mode = 0o644
        tar.addfile(info, _BytesReader(data))
        for entry in iter_files(files_dir):
            info = tarfile.TarInfo(f"files/{entry.rel}")
            info.size = entry.size
            info.mode = 0o644
            with os.fdopen(admission.open_entry(entry), "rb") as f:
                tar.addfile(info, f)


class _BytesReader:
    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def read(self, n=-1):
        if n is None or n < 0:
            n = len(self.data) - self.pos
        chunk = self.data[self.pos : self.pos + n]
        self.pos += len(chunk)
        return chunk


OWNER_ENV = "COURSEHUB_SANDBOX_OWNER"


def owner() -> str:
    """A label the grader's environment may set to find its own sandboxes (tests)."""
    return os.environ.get(OWNER_ENV, "coursehub")


def kernel_environment(cpus: float) -> dict[str, str]:
    threads = str(max(1, int(cpus)))
    return {
        OWNER_ENV: owner(),
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": "/tmp/home",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "COURSEHUB_WORKDIR": "/tmp/work",
        "IPYTHONDIR": "/tmp/ipython",
        "MPLCONFIGDIR": "/tmp/matplotlib",
        "JUPYTER_RUNTIME_DIR": "/tmp/runtime",
        "JUPYTER_CONFIG_DIR": "/tmp/jupyter-config",
        "JUPYTER_PLATFORM_DIRS": "1",
        "NBGRADER_EXECUTION": "autograde",
        "OMP_NUM_THREADS": threads,
        "MKL_NUM_THREADS": threads,
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
    }


class Backend:
    name = "?"

    def __init__(self, limits: Limits, gpu: str = "", datasets: str = ""):
        self.limits = limits
        self.gpu = gpu  # "" (none), "all", or a device id for this run
        self.datasets = datasets

    def check(self) -> None:
        """Raise SandboxUnavailable with a one-line reason when this backend cannot run."""
        raise NotImplementedError

    def command(self, name: str) -> list[str]:
        raise NotImplementedError

    def kill(self, proc: subprocess.Popen, name: str) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)

    def after(self, result: RunResult, name: str) -> None:
        """Backend-specific post-mortem (docker: OOM flag, container removal)."""

    def classify_start_failure(self, result: RunResult) -> str:
        tail = result.stderr_tail.strip().splitlines()
        return tail[-1] if tail else f"exit status {result.returncode}"

    def execute_notebook(self, nb: dict, files_dir: Path | None) -> RunResult:
        """Execute one merged notebook; never raises for anything the notebook does."""
        limits = self.limits
        job = job_spec(nb, limits, self.name)
        name = f"coursehub-grade-{uuid.uuid4().hex[:12]}"
        result = RunResult(backend=self.name)
        started = time.monotonic()
        size = sum(entry.size for entry in iter_files(files_dir))
        allowed = min(messages.DEFAULTS["max_payload"], limits.tmp_size // 2)
        if size > allowed:
            result.refused = (
                f"the submission's files ({messages.human_bytes(size)}) exceed "
                f"{messages.human_bytes(allowed)}"
            )
            return result
        try:
            cmd = self.command(name)
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
                close_fds=True,
            )
        except (OSError, SandboxUnavailable) as exc:
            result.infra_error = f"cannot start the {self.name} sandbox: {exc}"
            return result

        def feed():
            try:
                proc.stdin.write(payload_sources())
                write_payload(proc.stdin, job, files_dir)
            except (BrokenPipeError, OSError, ValueError):
                pass  # the sandbox went away early; its events say why
            finally:
                with contextlib.suppress(OSError):
                    proc.stdin.close()

        stderr_chunks: list[bytes] = []

        def drain_stderr():
            total = 0
            for chunk in iter(lambda: proc.stderr.read(8192), b""):
                stderr_chunks.append(chunk)
                total += len(chunk)
                while total > 16384 and len(stderr_chunks) > 1:
                    total -= len(stderr_chunks.pop(0))

        overflow = threading.Event()

        def read_events():
            total = 0
            for line in proc.stdout:
                total += len(line)
                if total > MAX_EVENT_BYTES:
                    overflow.set()
                    self.kill(proc, name)
                    break
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if isinstance(event, dict):
                    result.events.append(event)
                    if event.get("ev") in ("hello", "ready", "end"):
                        result.timings[event["ev"]] = round(time.monotonic() - started, 3)

        threads = [
            threading.Thread(target=feed, daemon=True),
            threading.Thread(target=drain_stderr, daemon=True),
            threading.Thread(target=read_events, daemon=True),
        ]
        for t in threads:
            t.start()
        try:
            proc.wait(timeout=limits.wall_timeout)
        except subprocess.TimeoutExpired:
            result.timed_out = True
            self.kill(proc, name)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=30)
        for t in threads[1:]:
            t.join(timeout=10)
        result.returncode = proc.returncode
        result.stderr_tail = b"".join(stderr_chunks).decode("utf-8", "replace")[-4000:]
        result.wall_seconds = time.monotonic() - started
        self.after(result, name)
        if overflow.is_set():
            result.refused = "the notebook's output overwhelmed the grader"
        self._classify(result)
        return result

    def _classify(self, result: RunResult) -> None:
        fatal = result.event("fatal")
        if fatal and fatal.get("stage") == "payload":
            result.refused = fatal.get("msg", "the submission is too large")
            return
        if fatal:
            result.infra_error = f"{self.name} sandbox: {fatal.get('stage')}: {fatal.get('msg')}"
            return
        if result.event("ready") is None and not result.refused:
            # nothing of the student's ran yet: the sandbox itself failed (or was too slow)
            why = (
                "timed out while starting"
                if result.timed_out
                else self.classify_start_failure(result)
            )
            result.infra_error = f"{self.name} sandbox did not start: {why}"
            result.timed_out = False


class BwrapBackend(Backend):
    """bubblewrap (local mode): namespaces + read-only binds + rlimits set by the executor."""

    name = "bwrap"
    bwrap = "bwrap"

    def check(self) -> None:
        if shutil.which(self.bwrap) is None:
            raise SandboxUnavailable("bubblewrap is not installed (apt-get install bubblewrap)")
        probe = subprocess.run(
            [
                *self._prefix(),
                self.bwrap,
                "--unshare-all",
                "--unshare-user",
                "--die-with-parent",
                "--ro-bind",
                "/usr",
                "/usr",
                "--symlink",
                "usr/bin",
                "/bin",
                "--symlink",
                "usr/lib",
                "/lib",
                "--symlink",
                "usr/lib64",
                "/lib64",
                "/bin/true",
            ],
            capture_output=True,
            text=True,
        )
        if probe.returncode != 0:
            why = (probe.stderr.strip().splitlines() or ["unknown error"])[-1]
            raise SandboxUnavailable(f"bubblewrap cannot create a sandbox here: {why}")

    @staticmethod
    def _prefix() -> list[str]:
        if os.geteuid() == 0:
            return [
                "setpriv",
                f"--reuid={NOBODY}",
                f"--regid={NOBODY}",
                "--clear-groups",
                "--inh-caps=-all",
                "--",
            ]
        return []

    def command(self, name: str) -> list[str]:
        limits = self.limits
        python = sys.executable
        binds: list[str] = []
        roots = {Path("/usr")}
        for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix}:
            p = Path(prefix).resolve()
            if not any(p == r or r in p.parents for r in roots):
                roots.add(p)
                binds += ["--ro-bind", str(p), str(p)]
        if Path(sys.prefix) != Path(sys.prefix).resolve():
            binds += ["--ro-bind", sys.prefix, sys.prefix]
        for etc in (
            "/etc/ld.so.cache",
            "/etc/localtime",
            "/etc/fonts",
            "/etc/ssl/certs",
            "/etc/alternatives",
            "/etc/mime.types",
        ):
            binds += ["--ro-bind-try", etc, etc]
        if self.datasets and Path(self.datasets).is_dir():
            binds += ["--ro-bind", self.datasets, "/srv/datasets"]
        if self.gpu:
            for dev in sorted(Path("/dev").glob("nvidia*")):
                binds += ["--dev-bind-try", str(dev), str(dev)]
        env = kernel_environment(limits.cpus)
        env["PYTHONPATH"] = SANDBOX_LIB
        if self.datasets:
            env["COURSEHUB_DATASETS"] = "/srv/datasets"
        if self.gpu and self.gpu != "all":
            env["CUDA_VISIBLE_DEVICES"] = self.gpu
        env_args: list[str] = []
        for key, value in env.items():
            env_args += ["--setenv", key, value]
        usr_links = []
        for link in ("bin", "lib", "lib64", "sbin"):
            target = Path("/") / link
            if target.is_symlink():
                usr_links += ["--symlink", os.readlink(target), f"/{link}"]
        return [
            *self._prefix(),
            self.bwrap,
            "--unshare-all",
            "--unshare-user",
            "--die-with-parent",
            "--new-session",
            "--hostname",
            "sandbox",
            "--ro-bind",
            "/usr",
            "/usr",
            *usr_links,
            "--proc",
            "/proc",
            "--dev",
            "/dev",
            # /tmp first: a checkout (and its venv) under /tmp is bound on top of it below.
            "--size",
            str(limits.tmp_size),
            "--tmpfs",
            "/tmp",
            *binds,
            "--ro-bind",
            str(CHECKS_DIR),
            f"{SANDBOX_LIB}/autograders",
            "--dir",
            "/tmp/home",
            "--chdir",
            "/tmp",
            "--clearenv",
            *env_args,
            python,
            "-P",
            "-c",
            bootstrap_source(),
        ]


class DockerBackend(Backend):
    """One throwaway container per notebook, from the student image."""

    name = "docker"
    docker = "docker"
    user = f"{NOBODY}:{NOBODY}"

    def __init__(self, limits: Limits, image: str, gpu: str = "", datasets: str = ""):
        super().__init__(limits, gpu, datasets)
        self.image = image
        self._removals: list[subprocess.Popen] = []

    def check(self) -> None:
        if shutil.which(self.docker) is None:
            raise SandboxUnavailable("the docker command is not installed")
        info = subprocess.run(
            [self.docker, "image", "inspect", "--format", "{{.Id}}", self.image],
            capture_output=True,
            text=True,
        )
        if info.returncode != 0:
            err = info.stderr.strip()
            if "No such image" in err or "No such object" in err:
                raise SandboxUnavailable(
                    f"the student image {self.image} is not built "
                    "(docker build -t IMAGE -f docker/student/Dockerfile .)"
                )
            if "permission denied" in err and os.geteuid() != 0:
                # The formgrader runs as the course's grader, who never gets the socket: a
                # Jupyter server that can reach Docker would be root on the host.
                raise SandboxUnavailable(
                    "this account may not start containers (only root in the hub container "
                    "holds the Docker socket): autograde with "
                    "`docker compose exec hub coursehub autograde ASSIGNMENT`"
                )
            why = (err.splitlines() or ["unknown error"])[-1]
            raise SandboxUnavailable(f"the Docker engine is not reachable: {why}")

    def command(self, name: str) -> list[str]:
        limits = self.limits
        env = kernel_environment(limits.cpus)
        env.pop("PATH")  # the image's PATH finds its venv
        args = [
            self.docker,
            "run",
            "-i",
            "--name",
            name,
            "--label",
            "coursehub.autograde=1",
            "--label",
            f"coursehub.owner={owner()}",
            "--network",
            "none",
            "--read-only",
            "--tmpfs",
            f"/tmp:rw,nosuid,nodev,size={limits.tmp_size},mode=1777",
            "--memory",
            str(limits.memory),
            "--memory-swap",
            str(limits.memory),
            "--pids-limit",
            str(limits.pids),
            "--cpus",
            f"{limits.cpus:g}",
            "--user",
            self.user,
            "--cap-drop",
            "ALL",
            "--security-opt",
            "no-new-privileges",
            "--init",
            "--log-driver",
            "none",
            "--ulimit",
            "core=0",
            "--workdir",
            "/tmp",
        ]
        if self.gpu:
            args += ["--gpus", "all" if self.gpu == "all" else f"device={self.gpu}"]
        if self.datasets:
            args += ["--mount", f"type=volume,src={self.datasets},dst=/srv/datasets,readonly"]
            env["COURSEHUB_DATASETS"] = "/srv/datasets"
        for key, value in env.items():
            args += ["-e", f"{key}={value}"]
        return [*args, "--entrypoint", "python", self.image, "-P", "-c", bootstrap_source()]

    def kill(self, proc, name):
        subprocess.run([self.docker, "kill", name], capture_output=True)
        super().kill(proc, name)

    def after(self, result: RunResult, name: str) -> None:
        if result.returncode not in (0, None) or not result.event("end"):
            inspect = subprocess.run(
                [self.docker, "inspect", "--format", "{{.State.OOMKilled}}", name],
                capture_output=True,
                text=True,
            )
            result.oom_killed = inspect.stdout.strip() == "true"
        self._removals = [p for p in self._removals if p.poll() is None]
        self._removals.append(
            subprocess.Popen(
                [self.docker, "rm", "-f", name],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )

    def classify_start_failure(self, result: RunResult) -> str:
        lines = [ln for ln in result.stderr_tail.strip().splitlines() if ln.strip()]
        if result.returncode in (125, 126, 127) and lines:
            return re.sub(r"^docker: ", "", lines[-1])
        return lines[-1] if lines else f"exit status {result.returncode}"

    def close(self) -> None:
        for p in self._removals:
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(timeout=30)


def prune_docker_leftovers(docker: str = "docker") -> None:
    """Remove stopped grading containers of runs that died before cleaning up."""
    with contextlib.suppress(OSError, subprocess.TimeoutExpired):
        subprocess.run(
            [
                docker,
                "container",
                "prune",
                "-f",
                "--filter",
                "label=coursehub.autograde=1",
                "--filter",
                "until=1h",
            ],
            capture_output=True,
            timeout=60,
        )


BACKENDS = ("docker", "bwrap")


def make_backend(
    kind: str,
    limits: Limits,
    image: str = STUDENT_IMAGE,
    gpu: str = "",
    datasets: str = "",
) -> Backend:
    if kind == "docker":
        return DockerBackend(limits, image=image, gpu=gpu, datasets=datasets)
    if kind == "bwrap":
        return BwrapBackend(limits, gpu=gpu, datasets=datasets)
    raise SandboxUnavailable(f"unknown sandbox {kind!r} (expected docker or bwrap)")
