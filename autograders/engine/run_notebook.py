"""Execute one notebook inside a grading sandbox and stream what happened, cell by cell.

This module is the only coursehub code that runs *inside* the sandbox, next to the
student's kernel. It depends on the standard library, nbformat, nbclient and
jupyter_client only (all in the student image), never on the rest of the engine, so the
docker backend can ship this file's source as ``python -c`` to any student image.

Two ways to run it:

* ``python -m autograders.engine.run_notebook --stdio`` (what the backends do): a tar
  stream on stdin holds ``job.json`` (the merged notebook and the limits) and ``files/``
  (the submission's other files); JSON lines on stdout report ``ready``, ``start``/``done``
  per cell, ``tamper``, ``stop`` and ``end`` events. The trusted grader builds the executed
  notebook from the trusted input and these events (:func:`assemble`), so cells that never
  finished can be marked failed even when the sandbox is killed half-way.
* ``python -m autograders.engine.run_notebook in.ipynb out.ipynb --cell-timeout N``: the
  same executor on files (unsandboxed; for use inside a sandbox or for debugging).

The executor protects itself from the kernel it starts: it makes itself non-dumpable
(no ptrace, no /proc/<pid>/fd or mem for the kernel's uid), writes its results to a private
copy of stdout that the kernel does not inherit, and gives the kernel /dev/null as
stdout/stderr. Resource limits (processes, memory, file size) are set here, before the
kernel starts, so they bind everything the student's code spawns.

Between cells it runs an integrity probe in the kernel (before every graded test cell,
compared with a baseline taken before any student code ran) that detects the usual ways
student code can tamper with the tests: replaced test helpers, builtins or torch functions,
IPython input/AST transformers, exception handlers and event hooks, trace functions,
torch function/dispatch modes, background threads running notebook code, and rebinding
of names the instructor's cells imported. See DESIGN.md for what it cannot detect.
"""

from __future__ import annotations

import argparse
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

MiB = 1024 * 1024
EVENT_PREFIX = ""  # JSON lines; one object per line

DEFAULTS = {
    "cell_timeout": 300,  # seconds per cell; training cells run long
    "output_limit": 1 * MiB,  # output kept per cell (more is dropped, with a note)
    "total_output_limit": 8 * MiB,  # output kept for the whole notebook
    "output_hard_limit": 64 * MiB,  # output received per cell before the cell is stopped
    "startup_timeout": 120,
    "iopub_grace": 15,
    "probe": True,
    "max_payload": 256 * MiB,
}

# ---------------------------------------------------------------------------------------
# Messages the student sees (also used by the trusted side; keep wording in one place).
# ---------------------------------------------------------------------------------------


def human_bytes(n: int) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            value = n / size
            return f"{value:g} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{n} bytes"


def error_output(ename: str, evalue: str, advice: str = "") -> dict:
    text = f"{evalue}" + (f"\n{advice}" if advice else "")
    return {
        "output_type": "error",
        "ename": ename,
        "evalue": evalue,
        "traceback": [f"\x1b[0;31m{ename}\x1b[0m: {text}"],
    }


# ---------------------------------------------------------------------------------------
# Probe: runs in the kernel. Returns per-category digests (or full id maps on request).
# ---------------------------------------------------------------------------------------

PROBE_SOURCE = r"""
def _coursehub_probe(mode, categories, imports, trusted_roots, cell_dir, insert_cwd):
    import builtins, hashlib, json, sys, threading, types, inspect
    ip = get_ipython()
    maps = {}
    problems = []
    baseline = mode == "full" and categories is None
    objects = []

    def add(cat, key, value):
        maps.setdefault(cat, {})[key] = id(value)
        if baseline:
            objects.append(value)

    def trusted_code(f):
        code = getattr(f, "__code__", None)
        return code is not None and any(code.co_filename.startswith(r) for r in trusted_roots)

    def add_ns(cat, prefix, ns):
        for k, v in list(ns.items()):
            add(cat, prefix + k, v)
            if isinstance(v, types.FunctionType):
                add(cat, prefix + k + ".__code__", v.__code__)
                add(cat, prefix + k + ".__defaults__", v.__defaults__)
                add(cat, prefix + k + ".__kwdefaults__", v.__kwdefaults__)
                add(cat, prefix + k + ".__globals__", v.__globals__)
                # a library wrapping a function in place (torch._dynamo wraps
                # torch.manual_seed when imported) is not tampering: record what it wraps
                wrapped = v.__dict__.get("__wrapped__")
                if wrapped is not None and trusted_code(v):
                    maps.setdefault("wrapped", {})[prefix + k] = id(wrapped)

    def section(name, fn):
        try:
            fn()
        except Exception as exc:  # a probe bug must not look like tampering
            why = type(exc).__name__ + ": " + str(exc)[:200]
            problems.append(["probe-error", name + ": " + why])

    def s_builtins():
        b = vars(builtins)
        # ipykernel swaps input() per request; underscored names are IPython's output cache
        kept_private = ("__import__", "__build_class__")
        keep = {k: v for k, v in b.items()
                if k != "input" and (not k.startswith("_") or k in kept_private)}
        add_ns("builtins", "builtins.", keep)

    def s_modules():
        names = ["builtins", "sys", "torch", "numpy", "math", "importlib", "IPython", "ipykernel"]
        names += sorted(n for n in list(sys.modules)
                        if n == "autograders" or n.startswith("autograders."))
        for n in names:
            if n in sys.modules:
                add("sys.modules", "sys.modules[" + n + "]", sys.modules[n])
        for n in names:
            m = sys.modules.get(n)
            if m is not None and n.startswith("autograders") and ".engine" not in n:
                add_ns("autograders", n + ".", vars(m))
                for k, v in list(vars(m).items()):
                    if isinstance(v, type) and v.__module__.startswith("autograders"):
                        add_ns("autograders", n + "." + k + ".", dict(vars(v)))

    def s_torch():
        torch = sys.modules.get("torch")
        if torch is None:
            return
        for name, ns in (("torch.", vars(torch)), ("torch.Tensor.", dict(vars(torch.Tensor)))):
            add_ns("torch", name, ns)
        for path in ("_C.TensorBase", "_C._TensorBase", "nn.functional", "testing", "overrides",
                     "autograd", "nn.Module", "nn.Parameter", "_C._VariableFunctions"):
            obj = torch
            try:
                for part in path.split("."):
                    obj = getattr(obj, part)
                ns = dict(vars(obj))
            except (AttributeError, TypeError):
                continue
            add_ns("torch", "torch." + path + ".", ns)
        try:
            if torch._C._len_torch_function_stack() or torch._C._len_torch_dispatch_stack():
                problems.append(["torch-mode", "a torch function or dispatch mode was left active"])
        except AttributeError:
            pass
        np = sys.modules.get("numpy")
        if np is not None:
            add_ns("numpy", "numpy.", vars(np))
            if "numpy.testing" in sys.modules:
                add_ns("numpy", "numpy.testing.", vars(sys.modules["numpy.testing"]))

    def s_sys():
        # (sys.excepthook is swapped by ipykernel itself and unused while IPython runs cells)
        for name in ("displayhook", "stdout", "stderr", "breakpointhook", "unraisablehook"):
            add("sys", "sys." + name, getattr(sys, name, None))
        for i, finder in enumerate(sys.meta_path):
            add("sys", "sys.meta_path[%d]" % i, finder)
        add("sys", "len(sys.meta_path)", len(sys.meta_path))
        for i, hook in enumerate(sys.path_hooks):
            add("sys", "sys.path_hooks[%d]" % i, hook)
        add("sys", "threading.excepthook", threading.excepthook)
        if sys.gettrace() is not None or sys.getprofile() is not None:
            problems.append(["trace", "a trace or profile function was installed"])
        if getattr(threading, "_trace_hook", None) or getattr(threading, "_profile_hook", None):
            problems.append(["trace", "a thread trace or profile hook was installed"])
        if sys.getrecursionlimit() < 100:
            problems.append(["sys", "the recursion limit was lowered"])

    def s_ipython():
        static = inspect.getattr_static
        for name in ("run_cell", "run_cell_async", "run_ast_nodes", "run_code", "showtraceback",
                     "_showtraceback", "showsyntaxerror", "showindentationerror",
                     "get_exception_only", "transform_cell", "transform_ast", "should_run_async",
                     "InteractiveTB", "SyntaxTB", "CustomTB", "displayhook", "display_pub",
                     "compile", "events", "user_ns", "user_global_ns", "input_transformer_manager",
                     "excepthook", "_run_cell", "run_line_magic", "ex", "ev"):
            try:
                add("ipython", "shell." + name, static(ip, name))
            except AttributeError:
                pass
        if ip.custom_exceptions:
            problems.append(["ipython", "a custom exception handler was installed"
                             " (set_custom_exc)"])
        for lname in ("input_transformers_cleanup", "input_transformers_post", "ast_transformers"):
            lst = getattr(ip, lname, [])
            add("ipython", "shell." + lname, lst)
            add("ipython", "len(shell." + lname + ")", len(lst))
            for i, t in enumerate(lst):
                add("ipython", "shell.%s[%d]" % (lname, i), t)
        mgr = ip.input_transformer_manager
        for lname in ("cleanup_transforms", "line_transforms", "token_transformers"):
            lst = getattr(mgr, lname, [])
            add("ipython", "manager." + lname, lst)
            add("ipython", "len(manager." + lname + ")", len(lst))
            for i, t in enumerate(lst):
                add("ipython", "manager.%s[%d]" % (lname, i), t)
        kernel = getattr(ip, "kernel", None)
        if kernel is not None:
            for name in ("do_execute", "execute_request", "send_response", "session",
                         "shell_handlers", "iopub_socket", "_publish_execute_input",
                         "_publish_status", "dispatch_shell", "process_one"):
                try:
                    add("ipython", "kernel." + name, static(kernel, name))
                except AttributeError:
                    pass
            session = getattr(kernel, "session", None)
            if session is not None:
                for name in ("send", "serialize", "msg", "sign"):
                    try:
                        add("ipython", "session." + name, static(session, name))
                    except AttributeError:
                        pass
        # event callbacks: new ones must be library code, not notebook code
        for event, callbacks in list(ip.events.callbacks.items()):
            for cb in callbacks:
                func = getattr(cb, "__func__", cb)
                code = getattr(func, "__code__", None)
                if code is None:
                    if isinstance(func, types.BuiltinFunctionType):
                        continue
                    what = "an unexpected %s callback was registered (%s)"
                    problems.append(["ipython", what % (event, type(cb).__name__)])
                elif not any(code.co_filename.startswith(r) for r in trusted_roots):
                    what = "notebook code registered a %s event callback (%s)"
                    problems.append(["ipython", what % (event, getattr(func, "__name__", "?"))])

    def s_threads():
        me = threading.get_ident()
        for tid, frame in list(sys._current_frames().items()):
            if tid == me:
                continue
            f = frame
            while f is not None:
                fn = f.f_code.co_filename
                notebook_code = (cell_dir and fn.startswith(cell_dir)) or fn.startswith(
                    "<ipython-input") or fn in ("<string>", "<stdin>")
                if notebook_code:
                    what = "a background thread started by the notebook is still running (%s)"
                    problems.append(["thread", what % f.f_code.co_name])
                    break
                f = f.f_back

    def s_imports():
        ns = ip.user_ns
        for local, module, attr in imports:
            m = sys.modules.get(module)
            if m is None or local not in ns:
                continue
            expected = m if attr is None else getattr(m, attr, None)
            if expected is not None and ns[local] is not expected:
                what = "the name %r (imported by the instructor's cells) was rebound"
                problems.append(["names", what % local])

    section("builtins", s_builtins)
    section("modules", s_modules)
    section("torch", s_torch)
    section("sys", s_sys)
    section("ipython", s_ipython)
    section("threads", s_threads)
    section("imports", s_imports)
    if insert_cwd and "" not in sys.path:
        sys.path.insert(0, "")
    if baseline:  # keep every fingerprinted object alive, so that no id is ever reused
        builtins._coursehub_baseline = objects
    wrapped = maps.pop("wrapped", {})
    digests = {}
    for cat, m in maps.items():
        h = hashlib.sha1()
        for k in sorted(m):
            h.update(("%s=%d;" % (k, m[k])).encode())
        digests[cat] = h.hexdigest()
    out = {"digests": digests, "problems": problems}
    if mode == "full":
        out["maps"] = {c: maps[c] for c in (categories or maps) if c in maps}
        out["wrapped"] = wrapped
    return json.dumps(out)
"""

BASELINE_PRELUDE = r"""
import sys as _ch_sys
_ch_saved_path = list(_ch_sys.path)
_ch_sys.path[:] = [p for p in _ch_sys.path if p not in ("", ".") and not p.startswith(%(cwd)r)]
try:
    for _ch_m in ("numpy", "torch", "autograders"):
        try:
            __import__(_ch_m)
        except ImportError:
            pass
    # autograders loads its checks lazily: load them all now, so the baseline holds them
    _ch_m = _ch_sys.modules.get("autograders")
    for _ch_name in getattr(_ch_m, "__all__", ()):
        try:
            getattr(_ch_m, _ch_name)
        except Exception:
            pass
    del _ch_name
finally:
    _ch_sys.path[:] = _ch_saved_path
del _ch_saved_path, _ch_m, _ch_sys
"""


def probe_code(mode, categories, imports, trusted_roots, cell_dir, insert_cwd=False):
    args = json.dumps([mode, categories, imports, trusted_roots, cell_dir, insert_cwd])
    return (
        "import json as _ch_json\n"
        "_ch_ns = {'get_ipython': get_ipython}\n"
        "exec(compile(" + repr(PROBE_SOURCE) + ", '<coursehub-probe>', 'exec'), _ch_ns)\n"
        "_coursehub_probe_result = _ch_ns['_coursehub_probe'](*_ch_json.loads("
        + repr(args)
        + "))\n"
        "del _ch_ns, _ch_json\n"
    )


def instructor_imports(source: str) -> list[list]:
    """(local name, module, attribute or None) for every import in an instructor cell."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    found.append([alias.asname, alias.name, None])
                else:
                    top = alias.name.split(".")[0]
                    found.append([top, top, None])
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                if alias.name != "*":
                    found.append([alias.asname or alias.name, node.module, alias.name])
    return found


def is_test_cell(cell: dict) -> bool:
    """A graded, autograded code cell (nbgrader: grade and not solution)."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def is_instructor_code(cell: dict) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return (
        cell.get("cell_type") == "code"
        and not meta.get("solution")
        and (bool(meta.get("locked")) or bool(meta.get("grade")))
    )


# ---------------------------------------------------------------------------------------
# The executor (inside the sandbox).
# ---------------------------------------------------------------------------------------


class Events:
    """The private result channel: JSON lines on a dup of the original stdout."""

    def __init__(self, fd: int):
        self.stream = os.fdopen(fd, "w", encoding="utf-8", buffering=1)
        self.t0 = time.monotonic()

    def emit(self, ev: str, **fields) -> None:
        fields["ev"] = ev
        fields["t"] = round(time.monotonic() - self.t0, 3)
        self.stream.write(EVENT_PREFIX + json.dumps(fields, separators=(",", ":")) + "\n")
        self.stream.flush()


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
                        what.append(_describe_key(key))
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
    async def run(self) -> None:
        import nbformat

        nb = nbformat.reads(json.dumps(self.nb_dict), as_version=4)  # joins list sources
        client_cls = _make_client_class()
        kernel_name = nb.metadata.get("kernelspec", {}).get("name") or "python3"
        timeout = int(self.job["cell_timeout"]) or None
        self.client = client = client_cls(
            nb,
            timeout=timeout,
            startup_timeout=int(self.job["startup_timeout"]),
            kernel_name=kernel_name,
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
            return
        oom_before = oom_kills()
        self.trusted_roots = sorted(
            {sys.prefix, sys.base_prefix, sys.exec_prefix, *self.job.get("trusted_roots", [])}
        )
        self.cell_dir = ""
        kernel_seconds = time.monotonic() - self.started
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
            return
        self.events.emit(
            "ready",
            kernel=kernel_name,
            kernel_seconds=round(kernel_seconds, 3),
            prelude_seconds=round(prelude_seconds, 3),
        )

        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        stop = None
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            if is_test_cell(cell):
                await self.check_integrity(index)
            self.events.emit("start", cell=index)
            client.reset_budget()
            started = time.monotonic()
            try:
                await client.async_execute_cell(
                    cell, index, execution_count=client.code_cells_executed + 1
                )
                reply_error = None
            except DeadKernelError:
                stop = self._death(index, oom_before)
            except CellTimeoutError as exc:
                if client.timed_out:
                    stop = {
                        "reason": "unresponsive",
                        "detail": f"time limit of {timeout} s per cell exceeded and the kernel "
                        "did not stop when interrupted",
                    }
                else:
                    reply_error = exc
                    cell.outputs.append(
                        error_output("OutputTimeout", "the cell's output did not finish in time")
                    )
            self.exec_seconds += time.monotonic() - started
            if stop:
                stop["cell"] = index
                break
            if client.flood_stopped:
                cell.outputs.append(
                    error_output(
                        "OutputLimitExceeded",
                        f"output limit of {human_bytes(client.hard_limit)} per cell exceeded; "
                        "the cell was stopped",
                    )
                )
            del reply_error
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
            self.events.emit(
                "done",
                cell=index,
                outputs=[_plain(o) for o in cell.outputs],
                execution_count=cell.get("execution_count"),
                seconds=round(time.monotonic() - started, 3),
            )
            if self.job.get("fail_fast") and is_test_cell(cell) and _failed(cell):
                stop = {"reason": "failfast", "detail": f"test cell {index + 1} failed"}
                stop["cell"] = index
                break
        if stop:
            self.events.emit("stop", **stop)
        if not self.job.get("sandboxed"):
            await self._shutdown()  # in a sandbox, its teardown kills the kernel
        self.events.emit("end", exec_seconds=round(self.exec_seconds, 3))

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


class ProbeFailed(Exception):
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


def _describe_key(key: str) -> str:
    """A student-readable phrase for a fingerprint entry that changed."""
    if key.startswith("len(") and key.endswith(")"):
        return f"{key[4:-1]} was changed (entries added or removed)"
    for suffix, what in (
        (".__code__", "the code of"),
        (".__defaults__", "the default arguments of"),
        (".__kwdefaults__", "the default keyword arguments of"),
        (".__globals__", "the globals of"),
    ):
        if key.endswith(suffix):
            return f"{what} {key[: -len(suffix)]} changed"
    return f"{key} was replaced or removed"


def _plain(output) -> dict:
    return json.loads(json.dumps(output))


# ---------------------------------------------------------------------------------------
# Assembling the executed notebook (trusted side; also used by the file mode).
# ---------------------------------------------------------------------------------------

STOP_MESSAGES = {
    "timeout": ("TimeLimitExceeded", "time limit of {limit} exceeded; the sandbox was stopped"),
    "oom": ("MemoryLimitExceeded", "memory limit of {memory} exceeded; the kernel was killed"),
    "died": ("KernelDied", "{detail}"),
    "unresponsive": ("TimeLimitExceeded", "{detail}"),
    "sandbox": ("SandboxDied", "{detail}"),
    "refused": ("NotGraded", "{detail}"),
    "failfast": ("NotRun", "{detail}; fail-fast grading runs nothing after it"),
}


def _failed(cell) -> bool:
    return any(o.get("output_type") == "error" for o in cell.get("outputs", []))


def assemble(nb: dict, events: list[dict], context: dict | None = None) -> tuple[dict, dict]:
    """The executed notebook built from the trusted input and the executor's events.

    Returns (notebook dict, summary). Only outputs of cells reported ``done`` are taken
    from the sandbox; sources and metadata stay the trusted ones. When execution stopped
    (timeout, OOM, death) the running cell gets an error output saying why, and every
    graded test cell that did not run gets one too, so nbgrader scores it 0.
    """
    context = context or {}
    out = copy.deepcopy(nb)
    cells = out.get("cells", [])
    done: dict[int, dict] = {}
    running = None
    tamper = None
    stop = None
    ended = False
    exec_seconds = 0.0
    for ev in events:
        kind = ev.get("ev")
        if kind == "start":
            running = ev.get("cell")
        elif kind == "done" and isinstance(ev.get("cell"), int):
            done[ev["cell"]] = ev
            running = None
        elif kind == "tamper" and tamper is None:
            tamper = ev
        elif kind == "stop":
            stop = ev
        elif kind == "end":
            ended = True
            exec_seconds = float(ev.get("exec_seconds") or 0)
    failure = context.get("failure")  # set by the trusted side: timeout, oom, sandbox...
    if stop:
        running = stop.get("cell", running)
    if stop and not failure:
        failure = {"reason": stop.get("reason", "died"), "detail": stop.get("detail", "")}
    if not ended and not failure:
        failure = {"reason": "sandbox", "detail": "the grading sandbox ended unexpectedly"}
    message = None
    if failure:
        ename, template = STOP_MESSAGES.get(failure["reason"], STOP_MESSAGES["sandbox"])
        message = (
            ename,
            template.format(
                limit=context.get("limit", "the sandbox"),
                memory=context.get("memory", "the sandbox"),
                detail=failure.get("detail") or "the grading sandbox ended unexpectedly",
            ),
        )
    first_test = next((i for i, c in enumerate(cells) if is_test_cell(c)), None)
    placed = False
    for index, cell in enumerate(cells):
        if cell.get("cell_type") != "code":
            continue
        rec = done.get(index)
        cell["outputs"] = []
        cell["execution_count"] = None
        if rec is not None:
            cell["outputs"] = [o for o in rec.get("outputs", []) if _valid_output(o)]
            count = rec.get("execution_count")
            cell["execution_count"] = count if isinstance(count, int) else None
        if message and rec is None:
            if index == running:
                cell["outputs"].append(
                    error_output(message[0], message[1], "This cell did not finish.")
                )
                placed = True
            elif is_test_cell(cell):
                where = f"in cell {running + 1}" if running is not None else "before this cell"
                cell["outputs"].append(
                    error_output(
                        "NotRun",
                        f"this test did not run: {message[1]} ({where})",
                    )
                )
                placed = placed or index == first_test
        if tamper is not None and is_test_cell(cell) and index >= tamper.get("cell", 0):
            what = "; ".join(tamper.get("what") or ["the grading environment was modified"])
            cell["outputs"].append(
                error_output(
                    "GraderTampering",
                    f"before this test ran, the grader found that the notebook's code had "
                    f"changed the grading environment: {what}",
                    "Tests from here on score 0. If you did not mean to do this, tell your "
                    "instructor.",
                )
            )
    if message and not placed and first_test is not None and running is None:
        cells[first_test]["outputs"].append(error_output(message[0], message[1]))
    summary = {
        "status": (failure or {}).get("reason", "ok"),
        "detail": message[1] if message else "",
        "tampering": (tamper or {}).get("what") or [],
        "exec_seconds": exec_seconds,
        "cells_done": len(done),
    }
    return out, summary


_OUTPUT_TYPES = {"stream", "display_data", "execute_result", "error"}


def _valid_output(o) -> bool:
    return isinstance(o, dict) and o.get("output_type") in _OUTPUT_TYPES


# ---------------------------------------------------------------------------------------
# Entry points
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


def main_stdio() -> int:
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
        asyncio.run(executor.run())
    except Exception as exc:  # our bug, not the student's: the grader retries, then reports
        events.emit("fatal", stage="executor", msg=f"{type(exc).__name__}: {exc}")
    events.stream.flush()
    os._exit(0)  # no interpreter teardown: the sandbox goes away with everything in it


def main_files(argv) -> int:
    import nbformat

    parser = argparse.ArgumentParser(description="execute a notebook (inside a sandbox)")
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--cell-timeout", type=int, default=DEFAULTS["cell_timeout"])
    parser.add_argument("--no-probe", action="store_true")
    args = parser.parse_args(argv)
    nb = json.loads(nbformat.writes(nbformat.read(args.input, as_version=4)))
    workdir = os.path.dirname(os.path.abspath(args.input))
    collected: list[dict] = []

    class Collect(Events):
        def __init__(self):
            pass

        def emit(self, ev, **fields):
            fields["ev"] = ev
            collected.append(json.loads(json.dumps(fields)))

    job = {"notebook": nb, "cell_timeout": args.cell_timeout, "probe": not args.no_probe}
    asyncio.run(Executor(job, workdir, Collect()).run())
    executed, summary = assemble(nb, collected)
    nbformat.write(nbformat.from_dict(executed), args.output)
    print(json.dumps(summary))
    return 0


def main(argv=None) -> int:
    _skip_slow_imports()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--stdio"]:
        return main_stdio()
    return main_files(argv)


if __name__ == "__main__":
    sys.exit(main())
