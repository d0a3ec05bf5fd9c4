"""The integrity probe: code run in the student's kernel before graded test cells.

The probe itself is kept as source text (it is compiled inside the kernel, in a namespace
of its own); this module holds it, the baseline prelude and what turns a changed
fingerprint entry into a sentence for the student.
"""

from __future__ import annotations

import json

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
            if m is not None and n.startswith("autograders"):
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


class ProbeFailed(Exception):
    pass


def describe_key(key: str) -> str:
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
