"""Execute one notebook inside a grading sandbox and stream what happened, cell by cell.

The executor protects itself from the kernel it starts: it makes itself non-dumpable
(no ptrace, no /proc/<pid>/fd or mem for the kernel's uid), writes its results to a private
copy of stdout that the kernel does not inherit, and gives the kernel /dev/null as
stdout/stderr. Resource limits (processes, memory, file size) are set here, before the
kernel starts, so they bind everything the student's code spawns.

Between cells it runs the integrity probe (probe.py) in the kernel, before every graded
test cell, compared with a baseline taken before any student code ran. See DESIGN.md for
what it cannot detect.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import copy
import errno
import json
import os
import resource
import signal
import sys
import tarfile
import time

from .messages import (
    DEFAULTS,
    Events,
    error_output,
    has_error,
    human_bytes,
    instructor_imports,
    is_instructor_code,
    is_test_cell,
)
from .probe import BASELINE_PRELUDE, ProbeFailed, describe_key, probe_code


def harden_process() -> None:
    """Non-dumpable: same-uid processes (the kernel) cannot ptrace us or open /proc/<pid>/fd."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except Exception:
        pass


def apply_limits(job: dict) -> None:
    limits = [(resource.RLIMIT_CORE, 0)]
    if job.get("nproc"):
        limits.append((resource.RLIMIT_NPROC, int(job["nproc"])))
    if job.get("rlimit_data"):
        limits.append((resource.RLIMIT_DATA, int(job["rlimit_data"])))
    if job.get("rlimit_as"):
        limits.append((resource.RLIMIT_AS, int(job["rlimit_as"])))
    if job.get("rlimit_fsize"):
        limits.append((resource.RLIMIT_FSIZE, int(job["rlimit_fsize"])))
    for which, value in limits:
        try:
            soft, hard = resource.getrlimit(which)
            if hard != resource.RLIM_INFINITY:
                value = min(value, hard)
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            pass


def oom_kills() -> int | None:
    """The OOM-kill counter of our memory cgroup, if visible (docker), else None."""
    for path in ("/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control"):
        try:
            with open(path) as f:
                for line in f:
                    key, _, value = line.partition(" ")
                    if key == "oom_kill":
                        return int(value)
        except (OSError, ValueError):
            continue
    return None


def safe_extract(tar: tarfile.TarFile, dest: str, max_bytes: int) -> dict:
    """Extract regular files and dirs only, inside ``dest``; return job.json."""
    job = None
    total = 0
    dest_real = os.path.realpath(dest)
    for member in tar:
        name = member.name
        if name == "job.json" and member.isfile():
            job = json.loads(tar.extractfile(member).read().decode("utf-8"))
            continue
        if not name.startswith("files/"):
            continue
        rel = name[len("files/") :]
        if not rel or rel.startswith("/") or ".." in rel.split("/"):
            continue
        target = os.path.realpath(os.path.join(dest_real, rel))
        if not target.startswith(dest_real + os.sep):
            continue
        if member.isdir():
            os.makedirs(target, exist_ok=True)
        elif member.isfile():
            total += member.size
            if total > max_bytes:
                raise PayloadTooLarge(f"the submission's files exceed {human_bytes(max_bytes)}")
            os.makedirs(os.path.dirname(target), exist_ok=True)
            try:
                with tar.extractfile(member) as src, open(target, "wb") as out:
                    while chunk := src.read(1 << 20):
                        out.write(chunk)
            except OSError as exc:
                if exc.errno in (errno.ENOSPC, errno.EFBIG):
                    raise PayloadTooLarge("the submission's files do not fit the sandbox") from exc
                raise
    if job is None:
        raise ValueError("no job.json in the payload")
    return job


class PayloadTooLarge(Exception):
    pass


def _skip_slow_imports() -> None:
    # jsonschema (under nbformat) imports rfc3987_syntax when installed, which builds a
    # grammar at import: 0.7 s of CPU per sandbox for a URI format nbformat never checks.
    # Must run before nbformat is first imported.
    sys.modules.setdefault("rfc3987_syntax", None)


def _make_client_class():
    from nbclient import NotebookClient
    from nbformat import NotebookNode

    class SandboxClient(NotebookClient):
        """nbclient with per-cell output budgets and the reply error recorded as nbgrader does."""

        def setup_budgets(self, job):
            self.soft_limit = int(job["output_limit"])
            self.total_limit = int(job["total_output_limit"])
            self.hard_limit = int(job["output_hard_limit"])
            self.kept_total = 0
            self.reset_budget()

        def reset_budget(self):
            self.kept = 0
            self.received = 0
            self.truncated = False
            self.flood_stopped = False
            self.timed_out = False

        @staticmethod
        def _size(msg) -> int:
            content = msg.get("content", {})
            size = len(content.get("text", "") or "")
            for value in (content.get("data") or {}).values():
                size += len(value) if isinstance(value, str) else len(json.dumps(value))
            for line in content.get("traceback") or []:
                size += len(line)
            return size

        def output(self, outs, msg, display_id, cell_index):
            size = self._size(msg)
            self.received += size
            if self.received > self.hard_limit and not self.flood_stopped:
                self.flood_stopped = True
                asyncio.ensure_future(self.km.interrupt_kernel())
            is_error = msg["msg_type"] == "error"
            over = (self.kept + size > self.soft_limit) or (
                self.kept_total + size > self.total_limit
            )
            if over and not is_error:
                if not self.truncated:
                    self.truncated = True
                    note = NotebookNode(
                        output_type="stream",
                        name="stdout",
                        text=(
                            f"\n[coursehub: output truncated: this cell printed more than "
                            f"{human_bytes(min(self.soft_limit, self.total_limit))}]\n"
                        ),
                    )
                    outs.append(note)
                return None
            if is_error and len(msg["content"].get("traceback") or []) > 200:
                msg = copy.deepcopy(msg)
                tb = msg["content"]["traceback"]
                msg["content"]["traceback"] = tb[:100] + ["... (traceback truncated)"] + tb[-50:]
                size = self._size(msg)
            self.kept += size
            self.kept_total += size
            return super().output(outs, msg, display_id, cell_index)

        async def _async_handle_timeout(self, timeout, cell=None):
            self.timed_out = True
            return await super()._async_handle_timeout(timeout, cell)

        def on_reply(self, cell, reply):
            """Append the reply's error when no output recorded it (timeouts), as nbgrader does."""
            if not reply or reply.get("content", {}).get("status") != "error":
                return
            content = reply["content"]
            if any(
                o.get("output_type") == "error" and o.get("ename") == content.get("ename")
                for o in cell.outputs
            ):
                return
            cell.outputs.append(
                NotebookNode(
                    output_type="error",
                    ename=content.get("ename", "Error"),
                    evalue=content.get("evalue", ""),
                    traceback=content.get("traceback")
                    or ["ERROR: an error occurred while showtraceback was disabled"],
                )
            )

    return SandboxClient


class Executor:
    def __init__(self, job: dict, workdir: str, events: Events):
        self.job = {**DEFAULTS, **job}
        self.nb_dict = self.job["notebook"]
        self.workdir = workdir
        self.events = events
        self.baseline_digests: dict = {}
        self.baseline_maps: dict = {}
        self.imports: list = []
        self.tampered = False
        self.exec_seconds = 0.0
        self.started = time.monotonic()

    # -- kernel I/O helpers ----------------------------------------------------------
    async def silent(self, code: str, expressions: dict | None = None, timeout: float = 60):
        """Run code silently (no history, no outputs kept); return the reply content."""
        kc = self.client.kc
        msg_id = kc.execute(
            code,
            silent=True,
            store_history=False,
            user_expressions=expressions or {},
            allow_stdin=False,
            stop_on_error=False,
        )
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no reply")
            msg = await kc.get_shell_msg(timeout=remaining)
            if msg["parent_header"].get("msg_id") == msg_id:
                return msg["content"]

    async def run_probe(self, mode="digest", categories=None, insert_cwd=False):
        code = probe_code(
            mode, categories, self.imports, self.trusted_roots, self.cell_dir, insert_cwd
        )
        content = await self.silent(code, {"r": "_coursehub_probe_result"})
        if content.get("status") != "ok":
            raise ProbeFailed(f"the probe raised {content.get('ename')}: {content.get('evalue')}")
        expr = content.get("user_expressions", {}).get("r", {})
        if expr.get("status") != "ok":
            raise ProbeFailed("the probe left no result")
        return json.loads(ast.literal_eval(expr["data"]["text/plain"]))

    async def check_integrity(self, index: int) -> None:
        if not self.job["probe"] or self.tampered:
            return
        try:
            result = await self.run_probe()
            changed = [c for c, d in self.baseline_digests.items() if result["digests"].get(c) != d]
            what = [p[1] for p in result["problems"] if p[0] != "probe-error"]
            if changed:
                full = await self.run_probe("full", changed)
                wrapped = full.get("wrapped", {})
                for cat in changed:
                    before = self.baseline_maps.get(cat, {})
                    after = full.get("maps", {}).get(cat, {})
                    diffs = sorted(k for k, v in before.items() if after.get(k) != v)
                    benign = {k for k in diffs if k in wrapped and wrapped[k] == before[k]}
                    diffs = [k for k in diffs if k not in benign]
                    diffs = [k for k in diffs if k.rsplit(".", 1)[0] not in benign]
                    # a replaced function also has new code/defaults/globals: say it once
                    diffs = [k for k in diffs if k.rsplit(".", 1)[0] not in diffs]
                    for key in diffs[:8]:
                        what.append(describe_key(key))
                    if len(diffs) > 8:
                        what.append(f"... and {len(diffs) - 8} more in {cat}")
                    if not diffs:  # only library wrappers or new names: the new baseline
                        self.baseline_maps[cat] = after
                        self.baseline_digests[cat] = result["digests"].get(cat)
            for p in result["problems"]:
                if p[0] == "probe-error":
                    self.events.emit("log", msg=f"probe: {p[1]}")
        except (ProbeFailed, TimeoutError, ValueError, SyntaxError, KeyError) as exc:
            what = [f"the grader's integrity check could not run ({exc})"]
        if what:
            self.tampered = True
            self.events.emit("tamper", cell=index, what=what)

    # -- main -------------------------------------------------------------------------
    async def execute_notebook(self) -> None:
        """Start the kernel, take the probe's baseline, then run the cells in order."""
        import nbformat

        nb = nbformat.reads(json.dumps(self.nb_dict), as_version=4)  # joins list sources
        if not await self.start_kernel(nb):
            return
        if not await self.take_baseline():
            return
        stop = await self.execute_cells(nb)
        if stop:
            self.events.emit("stop", **stop)
        if not self.job.get("sandboxed"):
            await self._shutdown()  # in a sandbox, its teardown kills the kernel
        self.events.emit("end", exec_seconds=round(self.exec_seconds, 3))

    async def start_kernel(self, nb) -> bool:
        client_cls = _make_client_class()
        self.kernel_name = nb.metadata.get("kernelspec", {}).get("name") or "python3"
        self.timeout = timeout = int(self.job["cell_timeout"]) or None
        self.client = client = client_cls(
            nb,
            timeout=timeout,
            startup_timeout=int(self.job["startup_timeout"]),
            kernel_name=self.kernel_name,
            allow_errors=True,
            interrupt_on_timeout=True,
            error_on_timeout={
                "ename": "TimeLimitExceeded",
                "evalue": f"time limit of {timeout} s per cell exceeded; the cell was interrupted",
                "traceback": [
                    f"\x1b[0;31mTimeLimitExceeded\x1b[0m: time limit of {timeout} s per cell "
                    "exceeded; the cell was interrupted"
                ],
            },
            iopub_timeout=int(self.job["iopub_grace"]),
            raise_on_iopub_timeout=True,
            record_timing=True,
            resources={"metadata": {"path": self.workdir}},
        )
        client.setup_budgets(self.job)
        client.on_cell_executed = lambda cell, cell_index, execute_reply: client.on_reply(
            cell, execute_reply
        )
        env = dict(os.environ)
        env.update(self.job.get("kernel_env") or {})
        env["PYTHONSAFEPATH"] = "1"  # the submission's files cannot shadow modules at startup
        env.pop("PYTHONSTARTUP", None)
        devnull = os.open(os.devnull, os.O_RDWR)
        client.km = client.create_kernel_manager()
        try:
            await client.async_start_new_kernel(
                env=env, stdin=devnull, stdout=devnull, stderr=devnull, cwd=self.workdir
            )
            await client.async_start_new_kernel_client()
        except Exception as exc:
            self.events.emit("fatal", stage="kernel-start", msg=f"{type(exc).__name__}: {exc}")
            await self._shutdown()
            return False
        self.oom_before = oom_kills()
        self.trusted_roots = sorted(
            {sys.prefix, sys.base_prefix, sys.exec_prefix, *self.job.get("trusted_roots", [])}
        )
        self.cell_dir = ""
        self.kernel_seconds = time.monotonic() - self.started
        return True

    async def take_baseline(self) -> bool:
        """Import the libraries, find where cells' code lives, fingerprint the kernel."""
        try:
            t0 = time.monotonic()
            await self.silent(
                BASELINE_PRELUDE % {"cwd": self.workdir}, timeout=self.job["startup_timeout"]
            )
            prelude_seconds = time.monotonic() - t0
            cell_file = "get_ipython().compile.get_code_name('', 'x', 0)"
            content = await self.silent("", {"d": f"__import__('os').path.dirname({cell_file})"})
            if content.get("user_expressions", {}).get("d", {}).get("status") == "ok":
                self.cell_dir = ast.literal_eval(
                    content["user_expressions"]["d"]["data"]["text/plain"]
                )
            if self.job["probe"]:
                base = await self.run_probe("full", None, insert_cwd=True)
                self.baseline_digests = base["digests"]
                self.baseline_maps = base["maps"]
                for p in base["problems"]:
                    self.events.emit("log", msg=f"baseline: {p[0]}: {p[1]}")
            else:
                await self.silent("import sys\nif '' not in sys.path: sys.path.insert(0, '')")
        except Exception as exc:
            self.events.emit(
                "fatal", stage="kernel-start", msg=f"baseline: {type(exc).__name__}: {exc}"
            )
            await self._shutdown()
            return False
        self.events.emit(
            "ready",
            kernel=self.kernel_name,
            kernel_seconds=round(self.kernel_seconds, 3),
            prelude_seconds=round(prelude_seconds, 3),
        )
        return True

    async def execute_cells(self, nb) -> dict | None:
        """Each code cell in turn; the stop event's fields when the run ended early."""
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            if is_test_cell(cell):
                await self.check_integrity(index)
            self.events.emit("start", cell=index)
            started = time.monotonic()
            stop = await self.execute_cell(cell, index)
            self.exec_seconds += time.monotonic() - started
            if stop:
                return {**stop, "cell": index}
            self.note_after_cell(cell)
            self.events.emit(
                "done",
                cell=index,
                outputs=[_plain(o) for o in cell.outputs],
                execution_count=cell.get("execution_count"),
                seconds=round(time.monotonic() - started, 3),
            )
            if self.job.get("fail_fast") and is_test_cell(cell) and has_error(cell):
                return {
                    "reason": "failfast",
                    "detail": f"test cell {index + 1} failed",
                    "cell": index,
                }
        return None

    async def execute_cell(self, cell, index: int) -> dict | None:
        """One cell through nbclient; a stop (dead or unresponsive kernel) or None."""
        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        client = self.client
        client.reset_budget()
        try:
            await client.async_execute_cell(
                cell, index, execution_count=client.code_cells_executed + 1
            )
        except DeadKernelError:
            return self._death(index, self.oom_before)
        except CellTimeoutError:
            if client.timed_out:
                return {
                    "reason": "unresponsive",
                    "detail": f"time limit of {self.timeout} s per cell exceeded and the kernel "
                    "did not stop when interrupted",
                }
            cell.outputs.append(
                error_output("OutputTimeout", "the cell's output did not finish in time")
            )
        return None

    def note_after_cell(self, cell) -> None:
        """Output flood and stray-process notes; the instructor's imports for the probe."""
        if self.client.flood_stopped:
            cell.outputs.append(
                error_output(
                    "OutputLimitExceeded",
                    f"output limit of {human_bytes(self.client.hard_limit)} per cell exceeded; "
                    "the cell was stopped",
                )
            )
        stopped = self.reap_strays()
        if stopped:
            cell.outputs.append(
                {
                    "output_type": "stream",
                    "name": "stdout",
                    "text": f"\n[coursehub: stopped {stopped} background processes this "
                    "cell left running (more than "
                    f"{STRAY_LIMIT} at once looks like a fork bomb)]\n",
                }
            )
        if is_instructor_code(cell):
            self.imports.extend(instructor_imports(cell.source))

    def reap_strays(self) -> int:
        """Kill every process but us and the kernel when a cell left too many running.

        A fork bomb fills the process limit with children that keep trying to fork; they
        would slow every later cell (and the machine) until the sandbox ends. A few
        background processes (a DataLoader's workers) are left alone.
        """
        if not self.job.get("sandboxed"):
            return 0  # never outside a sandbox's own pid namespace
        keep = {os.getpid(), 1}
        kernel = getattr(getattr(self.client.km, "provisioner", None), "process", None)
        if kernel is not None:
            keep.add(kernel.pid)
        keep.add(os.getppid())
        strays = _processes() - keep
        if len(strays) <= STRAY_LIMIT:
            return 0
        stopped = set()
        for _ in range(50):  # freeze first (they cannot fork into the freed slots), then kill
            strays = _processes() - keep
            if not strays:
                break
            for pid in strays:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGSTOP)
            for pid in strays:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            stopped |= strays
            time.sleep(0.05)
        return len(stopped)

    def _death(self, index, oom_before):
        code = None
        try:
            proc = self.client.km.provisioner.process
            code = proc.poll() if proc is not None else None
        except Exception:
            pass
        after = oom_kills()
        if after is not None and oom_before is not None and after > oom_before:
            return {
                "reason": "oom",
                "detail": "the kernel was killed for exceeding the memory limit",
            }
        if code is not None and code < 0:
            detail = f"the kernel died (killed by signal {-code})"
        elif code is not None:
            detail = f"the kernel died (it exited with status {code})"
        else:
            detail = "the kernel died"
        return {"reason": "died", "detail": detail, "exit": code}

    async def _shutdown(self):
        try:
            if self.client.kc is not None:
                self.client.kc.stop_channels()
            if self.client.km is not None and await self.client.km.is_alive():
                await self.client.km.shutdown_kernel(now=True)
        except Exception:
            pass


STRAY_LIMIT = 32


def _processes() -> set[int]:
    """Pids of the processes we can see and signal (the sandbox's, same uid)."""
    me = os.getuid()
    pids = set()
    for name in os.listdir("/proc"):
        if name.isdigit():
            with contextlib.suppress(OSError):
                if os.stat(f"/proc/{name}").st_uid == me:
                    pids.add(int(name))
    return pids


def _plain(output) -> dict:
    return json.loads(json.dumps(output))


# ---------------------------------------------------------------------------------------
# Assembling the executed notebook (trusted side; also used by the file mode).
# ---------------------------------------------------------------------------------------


def _private_stdout() -> int:
    """Keep the real stdout for events only; everything else writes to /dev/null."""
    sys.stdout.flush()
    fd = os.dup(1)  # non-inheritable: the kernel never gets it
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (lives as long as the process)
    return fd


def main() -> int:
    """Read the job from stdin, execute it, stream events on stdout (see the module doc)."""
    _skip_slow_imports()
    harden_process()
    events = Events(_private_stdout())
    # stderr stays the sandbox's stderr (the trusted side keeps only its tail)
    workroot = os.environ.get("COURSEHUB_WORKDIR") or "/tmp/work"
    for var in ("HOME", "IPYTHONDIR", "MPLCONFIGDIR", "JUPYTER_RUNTIME_DIR"):
        if os.environ.get(var):
            os.makedirs(os.environ[var], exist_ok=True)
    os.makedirs(workroot, exist_ok=True)
    try:
        raw = sys.stdin.buffer
        limit = DEFAULTS["max_payload"]
        with tarfile.open(fileobj=raw, mode="r|") as tar:
            job = safe_extract(tar, workroot, limit)
    except PayloadTooLarge as exc:
        events.emit("fatal", stage="payload", msg=str(exc))
        return 3
    except Exception as exc:
        events.emit("fatal", stage="setup", msg=f"{type(exc).__name__}: {exc}")
        return 2
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    apply_limits(job)
    events.emit("hello", pid=os.getpid(), uid=os.getuid())
    if job.get("wall_timeout"):
        # backstop for a grader that died without stopping us: the sandbox ends with us
        import threading

        backstop = threading.Timer(float(job["wall_timeout"]) + 60, os._exit, (4,))
        backstop.daemon = True
        backstop.start()
    executor = Executor(job, workroot, events)
    try:
        asyncio.run(executor.execute_notebook())
    except Exception as exc:  # our bug, not the student's: the grader retries, then reports
        events.emit("fatal", stage="executor", msg=f"{type(exc).__name__}: {exc}")
    events.stream.flush()
    os._exit(0)  # no interpreter teardown: the sandbox goes away with everything in it
