"""Forbid library shortcuts in tasks that ask students to implement an operation themselves.

Two complementary checks:

* at run time, `forbid(...)` intercepts calls while student code runs;
* statically, `check_source_forbids(...)` reads the student's source code.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import functools
import importlib
import inspect
import re
import textwrap
import warnings

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode

__all__ = ["Forbid", "check_source_forbids", "forbid", "run_forbidding"]

_DEFAULT_HINT = "Hint: build it from more basic tensor operations."

# Operator spellings, so that "torch.Tensor.matmul" also tells the student about "@".
_OPERATORS = {"matmul": "@", "mul": "*", "div": "/", "add": "+", "sub": "-", "pow": "**"}
_DUNDER_ALIASES = {"truediv": "div", "rtruediv": "div", "floordiv": "floor_divide"}
# Function families: torch.linalg.svd is named "linalg_svd" but means the same as torch.svd.
_NAME_PREFIXES = ("linalg_", "special_", "fft_")
_NAMESPACES = (
    ("torch.nn.functional", torch.nn.functional),
    ("torch.linalg", torch.linalg),
    ("torch.special", torch.special),
    ("torch.fft", torch.fft),
    ("torch", torch),
    ("torch.Tensor", torch.Tensor),
)
_SHORTHANDS = {"F": "torch.nn.functional", "nn": "torch.nn", "Tensor": "torch.Tensor"}


# --- run time -------------------------------------------------------------------------------


class Forbid(contextlib.ContextDecorator):
    """Context manager / decorator that fails when forbidden torch ops run; see `forbid`."""

    def __init__(self, *ops, message: str | None = None):
        self.message = message
        self._families: dict[str, str] = {}  # family key -> label shown to the student
        # id(callable) -> (callable, label): identity match for oddly named ones; keeping
        # the callable alive keeps its id from being reused.
        self._callables: dict[int, tuple[object, str]] = {}
        self._packets: dict[object, str] = {}
        self._overloads: dict[object, str] = {}
        for op in ops:
            self._add(op)
        if not (self._families or self._callables or self._packets or self._overloads):
            raise ValueError("forbid() needs at least one op")
        self._active: list[tuple[_FunctionGuard, _DispatchGuard, list[str]]] = []

    def __enter__(self):
        violations: list[str] = []
        function_guard = _FunctionGuard(self, violations)
        dispatch_guard = _DispatchGuard(self, violations)
        function_guard.__enter__()
        try:
            dispatch_guard.__enter__()
        except BaseException:
            function_guard.__exit__(None, None, None)
            raise
        self._active.append((function_guard, dispatch_guard, violations))
        return self

    def __exit__(self, exc_type, exc, tb):
        function_guard, dispatch_guard, violations = self._active.pop()
        try:
            dispatch_guard.__exit__(exc_type, exc, tb)
        finally:
            function_guard.__exit__(exc_type, exc, tb)
        if violations and not (exc_type is AssertionError and str(exc) == violations[0]):
            # The student code swallowed our AssertionError (e.g. try/except): report anyway.
            raise AssertionError(violations[0]) from exc
        return False

    # -- normalising ops --

    def _add(self, op) -> None:
        if isinstance(op, torch._ops.OpOverloadPacket):
            self._packets[op] = f"aten.{op.__name__}"
        elif isinstance(op, torch._ops.OpOverload):
            self._overloads[op] = f"aten.{op.name().split('::', 1)[-1]}"
        elif isinstance(op, str):
            self._add_string(op.strip())
        elif isinstance(op, type) and issubclass(op, torch.nn.Module):
            raise TypeError(
                f"forbid() takes functions or aten ops, not the layer {op.__name__}; forbid "
                "the function it calls (e.g. F.conv2d) and/or its aten op (aten.convolution)"
            )
        elif callable(op):
            label = _public_name(op)
            family = _family(getattr(op, "__name__", "") or "")
            if not _is_torch_callable(op):
                raise ValueError(
                    f"forbid() only sees torch functions, not {label}; "
                    "use check_source_forbids for other names"
                )
            self._callables[id(op)] = (op, label)
            if family:
                self._families[family] = label
        else:
            raise TypeError(f"cannot forbid {op!r}: give a callable, an aten op or a name")

    def _add_string(self, text: str) -> None:
        name = text.removeprefix("torch.ops.").replace("::", ".")
        if name.startswith("aten."):
            parts = name.split(".")
            try:
                packet = getattr(torch.ops.aten, parts[1])
                target = getattr(packet, parts[2]) if len(parts) > 2 else packet
            except (AttributeError, RuntimeError, IndexError) as exc:
                raise ValueError(f"unknown aten op {text!r}") from exc
            self._add(target)
        elif "." in name:
            self._add(_resolve_dotted(name))
        else:
            family = _family(name)
            if not any(_family_members(family)):
                raise ValueError(f"no torch function named {text!r}")
            self._families[family] = _public_name(next(_family_members(family)))

    # -- matching (called by the guards) --

    def _function_violation(self, func) -> str | None:
        entry = self._callables.get(id(func))
        label = entry[1] if entry and entry[0] is func else None
        if label is None:
            label = self._families.get(_family(getattr(func, "__name__", "") or "") or None)
        if label is None:
            return None
        used = _public_name(func)
        operator = _OPERATORS.get(_family(getattr(func, "__name__", "")))
        if used.startswith("torch.Tensor.") and operator:
            used += f" (the {operator} operator)"
        also = "" if used.split(" ")[0] == label else f" (forbidden: {label})"
        return f"You used {used}, which this task asks you to implement yourself{also}.\n" + (
            self.message or _DEFAULT_HINT
        )

    def _dispatch_violation(self, func) -> str | None:
        label = self._overloads.get(func) or self._packets.get(func.overloadpacket)
        if label is None:
            return None
        return (
            f"Your code ran {label}, which this task asks you to implement yourself.\n"
            "(This low-level op also runs inside library functions and nn layers using it.)\n"
            + (self.message or _DEFAULT_HINT)
        )


class _FunctionGuard(TorchFunctionMode):
    """Sees the torch API calls the student's code makes directly (F.conv2d, x @ w, ...)."""

    def __init__(self, owner: Forbid, violations: list[str]):
        super().__init__()
        self.owner, self.violations = owner, violations

    def __torch_function__(self, func, types, args=(), kwargs=None):
        problem = self.owner._function_violation(func)
        if problem:
            self.violations.append(problem)
            raise AssertionError(problem)
        return func(*args, **(kwargs or {}))


class _DispatchGuard(TorchDispatchMode):
    """Sees every aten op that actually runs, however it was reached (nn layers, aliases)."""

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        # Otherwise torch wraps __torch_dispatch__ in dynamo.disable, whose first call imports
        # torch._dynamo and inductor: seconds of delay in every grading kernel.
        return False

    def __init__(self, owner: Forbid, violations: list[str]):
        super().__init__()
        self.owner, self.violations = owner, violations

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        problem = self.owner._dispatch_violation(func)
        if problem:
            self.violations.append(problem)
            raise AssertionError(problem)
        return func(*args, **(kwargs or {}))


def forbid(*ops, message: str | None = None) -> Forbid:
    """Fail with an AssertionError as soon as code inside the block uses one of `ops`.

    Use as `with forbid(F.conv2d, "aten.convolution"): out = my_conv(x, w)` or as a
    decorator. `message` replaces the default hint under the "You used ..." line.

    Ops may be callables (F.conv2d, torch.matmul, torch.Tensor.__matmul__), names
    ("conv2d", "torch.linalg.svd", "F.softmax"), or aten ops (torch.ops.aten.convolution,
    "aten.convolution", "aten.convolution.default").

    Which layer catches what:

    * Callables and names are checked by a TorchFunctionMode, which sees the torch API call
      the code makes directly, including from inside nn layers' forward (nn.Conv2d calls
      F.conv2d). A callable forbids its whole family of the same name: torch.X, Tensor.X,
      F.X, torch.linalg.X, the in-place X_ and operator forms (torch.matmul also forbids
      `a @ b`). It does not see calls made inside other torch functions implemented in
      Python (e.g. what F.normalize calls internally).
    * aten ops are checked by a TorchDispatchMode, which sees every aten op that actually
      runs, however it was reached: aten.convolution catches F.conv2d, nn.Conv2d,
      torch.convolution, conv1d/conv3d and conv_transpose alike. Composite ops such as
      aten.matmul or aten.conv2d decompose before this layer and are never seen: forbid
      what they decompose to (aten.mm/bmm, aten.convolution) or use the callable.

    If student code catches the AssertionError, leaving the block still raises it.
    """
    return Forbid(*ops, message=message)


def run_forbidding(fn, *args, forbidden=(), message: str | None = None, **kwargs):
    """Call `fn(*args, **kwargs)` inside `forbid(*forbidden)` and return its result."""
    with forbid(*forbidden, message=message):
        return fn(*args, **kwargs)


def _is_torch_callable(op) -> bool:
    owner = getattr(op, "__objclass__", None)  # Tensor methods have no __module__
    module = getattr(owner or op, "__module__", None) or ""
    return module == "torch" or module.startswith("torch.")


def _family(name: str) -> str:
    """The name shared by torch.X, Tensor.X, Tensor.X_, Tensor.__X__/__rX__, linalg_X."""
    if name.startswith("__") and name.endswith("__"):
        core = name[2:-2]
        if core in _DUNDER_ALIASES:
            return _DUNDER_ALIASES[core]
        if core.startswith("r") and core[1:] in _OPERATORS:
            return core[1:]
        if core.startswith("i") and core[1:] in _OPERATORS:
            return core[1:]
        return core
    for prefix in _NAME_PREFIXES:
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    return name[:-1] if name.endswith("_") and not name.endswith("__") else name


def _family_members(family: str):
    for _, ns in _NAMESPACES:
        for attr in (family, family + "_"):
            obj = getattr(ns, attr, None)
            if callable(obj) and not isinstance(obj, type):
                yield obj


def _public_name(func) -> str:
    """How the student would write `func`, e.g. torch.nn.functional.conv2d."""
    name = getattr(func, "__name__", None) or repr(func)
    short = name
    for prefix in _NAME_PREFIXES:
        short = short.removeprefix(prefix)
    for path, ns in _NAMESPACES:
        for attr in (name, short):
            if getattr(ns, attr, None) is func:
                return f"{path}.{attr}"
    qualname = getattr(func, "__qualname__", name)
    owner = qualname.split(".")[0]
    if owner in ("TensorBase", "Tensor"):
        return f"torch.Tensor.{qualname.split('.', 1)[1]}"
    module = getattr(func, "__module__", None)
    return f"{module}.{qualname}" if module else qualname


def _resolve_dotted(path: str):
    head, _, rest = path.partition(".")
    if head in _SHORTHANDS:
        path = f"{_SHORTHANDS[head]}.{rest}"
    obj = _import_path(path)
    if obj is None:
        raise ValueError(f"cannot find {path!r}")
    return obj


def _import_path(path: str):
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for part in parts[cut:]:
            obj = getattr(obj, part, None)
            if obj is None:
                return None
        return obj
    return None


# --- static ---------------------------------------------------------------------------------


def check_source_forbids(fn, names, *, follow: bool = True) -> bool:
    """Fail if the source of `fn` (function, class or instance) references any of `names`.

    Names are identifiers ("conv2d") or dotted paths ("nn.Conv2d", "torch.linalg.svd",
    "F.conv2d"); aliases are resolved through imports and the function's globals, so
    `F.conv2d` matches "torch.nn.functional.conv2d". A plain identifier matches attributes
    and imported names but not the student's own definitions or `self.` attributes.
    With `follow`, helpers defined in the same module (or notebook) are checked too.

    Source comes from inspect.getsource, which works for notebook cells (IPython registers
    them in linecache). Only when the source truly cannot be obtained (builtins, code
    built with exec) is the check skipped: it warns and returns False instead of failing.
    Returns True when the source was checked.
    """
    patterns = [_Pattern(n) for n in ([names] if isinstance(names, str) else names)]
    target = _unwrap(fn)
    sources = _with_source(target)
    if not sources:
        warnings.warn(
            f"check_source_forbids: no source for {_obj_name(target)}; static check skipped",
            stacklevel=2,
        )
        return False
    hits: list[str] = []
    seen: set[int] = set()
    for obj in sources:
        _scan(
            obj, patterns, hits, seen=seen, via=None, root_module=_module_of(target), follow=follow
        )
    if hits:
        shown = "\n".join(f"- {h}" for h in hits[:3])
        more = f"\n(and {len(hits) - 3} more)" if len(hits) > 3 else ""
        raise AssertionError(
            f"{_obj_name(target)} uses something this task asks you not to use:\n{shown}{more}\n"
            "Hint: implement it yourself with elementary tensor operations."
        )
    return True


class _Pattern:
    def __init__(self, text: str):
        self.text = text.strip()
        parts = self.text.split(".")
        if parts[0] in _SHORTHANDS:
            parts = _SHORTHANDS[parts[0]].split(".") + parts[1:]
        self.parts = parts
        self.leaf = parts[-1]
        self.dotted = len(parts) > 1
        self.obj = _import_path(".".join(parts)) if self.dotted else None
        # Raw spelling too, so "F.conv2d" matches F.conv2d even where F cannot be resolved.
        self.raw_parts = self.text.split(".")

    def matches_chain(self, raw: list[str], resolved_path: list[str] | None, obj) -> bool:
        if self.obj is not None and obj is not None and obj is self.obj:
            return True
        leaves = {raw[-1]}
        if resolved_path:
            leaves.add(resolved_path[-1])
        if (getattr(obj, "__module__", None) or "").startswith("torch"):
            # e.g. `from torch.nn.functional import conv2d as c2d` in an earlier cell
            leaves.add(getattr(obj, "__name__", None))
        if self.leaf not in leaves:
            return False
        if not self.dotted:
            return True
        for chain in (raw, resolved_path or []):
            for parts in (self.parts, self.raw_parts):
                if len(chain) >= len(parts) and chain[-len(parts) :] == parts:
                    return True
        return False


def _unwrap(fn):
    if isinstance(fn, functools.partial):
        fn = fn.func
    fn = inspect.unwrap(fn)
    if inspect.ismethod(fn):
        fn = fn.__func__
    if not (inspect.isfunction(fn) or inspect.isclass(fn) or inspect.isbuiltin(fn)):
        fn = type(fn)  # an instance, e.g. the student's model: check its class
    return fn


def _with_source(obj) -> list:
    """`obj` if its source is available, else (for classes) its methods that have source.

    Classes defined in a notebook have no source file, so inspect.getsource(cls) fails
    there while their methods' sources are still in linecache.
    """
    try:
        inspect.getsource(obj)
        return [obj]
    except (OSError, TypeError):
        pass
    if not inspect.isclass(obj):
        return []
    found = []
    for value in vars(obj).values():
        func = getattr(value, "__func__", value)  # staticmethod / classmethod
        if isinstance(value, property):
            func = value.fget
        if inspect.isfunction(func) and func.__qualname__.startswith(obj.__qualname__ + "."):
            found.extend(_with_source(func))
    return found


def _obj_name(obj) -> str:
    return getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None) or repr(obj)


def _module_of(obj) -> str | None:
    return getattr(obj, "__module__", None)


def _globals_of(obj) -> dict:
    if inspect.isfunction(obj):
        return obj.__globals__
    module = inspect.getmodule(obj)
    return vars(module) if module else {}


def _scan(obj, patterns, hits, *, seen, via, root_module, follow) -> None:
    if id(obj) in seen:
        return
    seen.add(id(obj))
    try:
        lines, _ = inspect.getsourcelines(obj)
    except (OSError, TypeError):
        return  # a helper without source: the run-time forbid() still covers it
    source = textwrap.dedent("".join(lines))
    where = _obj_name(obj) if via is None else f"{_obj_name(obj)} (called from {via})"
    try:
        tree = ast.parse(source)
    except SyntaxError:
        # e.g. a lambda whose line does not parse on its own: fall back to a text search.
        for lineno, line in enumerate(source.splitlines(), 1):
            for p in patterns:
                if re.search(rf"(?<![\w.]){re.escape(p.text)}(?!\w)", line) or (
                    re.search(rf"\.{re.escape(p.leaf)}(?!\w)", line) and not p.dotted
                ):
                    hits.append(f"line {lineno} of {where} uses {p.text}: {line.strip()}")
        return
    visitor = _Visitor(obj, patterns, source.splitlines(), where)
    visitor.visit(tree)
    hits.extend(visitor.hits)
    if follow:
        for helper in visitor.helpers:
            if getattr(helper, "__module__", None) != root_module:
                continue
            for part in _with_source(helper):
                _scan(
                    part,
                    patterns,
                    hits,
                    seen=seen,
                    via=_obj_name(obj),
                    root_module=root_module,
                    follow=follow,
                )


class _Visitor(ast.NodeVisitor):
    def __init__(self, obj, patterns, lines, where):
        self.globals = _globals_of(obj)
        self.patterns = patterns
        self.lines = lines
        self.where = where
        self.hits: list[str] = []
        self.helpers: list = []
        self.aliases: dict[str, str] = {}  # local imports: name -> dotted path
        self.local_names: set[str] = set()
        self._reported: set[tuple[int, str]] = set()

    def visit(self, node):
        if isinstance(node, ast.Module):
            self._collect_bindings(node)
        return super().visit(node)

    def _collect_bindings(self, tree) -> None:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        self.aliases[alias.asname] = alias.name
                    else:
                        root = alias.name.split(".")[0]
                        self.aliases[root] = root
            elif isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    self.aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                self.local_names.add(node.name)
                if not isinstance(node, ast.ClassDef):
                    args = node.args
                    for a in args.posonlyargs + args.args + args.kwonlyargs:
                        self.local_names.add(a.arg)
                    for a in (args.vararg, args.kwarg):
                        if a is not None:
                            self.local_names.add(a.arg)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                self.local_names.add(node.id)

    # -- resolution --

    def _resolve(self, chain: list[str]):
        """(resolved dotted path, object) for a name chain, via imports then globals."""
        root, rest = chain[0], chain[1:]
        if root in self.aliases:
            path = self.aliases[root].split(".") + rest
            return path, _import_path(".".join(path))
        if root in self.local_names:
            return None, None
        obj = self.globals.get(root, getattr(builtins, root, None))
        if obj is None:
            return None, None
        base = getattr(obj, "__name__", None) if inspect.ismodule(obj) else None
        for part in rest:
            if not (inspect.ismodule(obj) or inspect.isclass(obj)):
                return None, None  # never touch attributes of arbitrary objects
            obj = getattr(obj, part, None)
            if obj is None:
                break
        path = base.split(".") + rest if base else None
        return path, obj

    def _report(self, node, pattern: _Pattern, spelled: str) -> None:
        key = (node.lineno, pattern.text)
        if key in self._reported:
            return
        self._reported.add(key)
        line = self.lines[node.lineno - 1].strip() if node.lineno <= len(self.lines) else ""
        spelled = "" if spelled == pattern.text else f" (as {spelled})"
        self.hits.append(f"line {node.lineno} of {self.where} uses {pattern.text}{spelled}: {line}")

    def _check_chain(self, node, chain: list[str]) -> None:
        if chain[0] in ("self", "cls") and len(chain) > 1:
            return  # the student's own attributes
        path, obj = self._resolve(chain)
        for p in self.patterns:
            if not p.dotted and len(chain) == 1 and chain[0] in self.local_names:
                continue
            if not p.dotted and len(chain) == 1 and not self._is_foreign(chain[0], path, obj):
                continue
            if p.matches_chain(chain, path, obj):
                self._report(node, p, ".".join(chain))

    def _is_foreign(self, name: str, path, obj) -> bool:
        """Whether a bare name refers to library code rather than the student's own."""
        if path is not None:
            return True  # imported
        if obj is None:
            return True  # unknown yet (e.g. defined in a later cell): be strict
        module = getattr(obj, "__module__", None) or ""
        return not (module == "__main__" or module == _module_of_globals(self.globals))

    # -- visitors --

    def visit_Attribute(self, node: ast.Attribute):
        chain = _chain(node)
        if chain:
            self._check_chain(node, chain)
            return  # inner parts of the chain are prefixes, not separate uses
        self._check_plain_attr(node)
        self.generic_visit(node)

    def _check_plain_attr(self, node: ast.Attribute) -> None:
        # e.g. foo().conv2d(...) or x[0].matmul(...): only the attribute name is known.
        for p in self.patterns:
            if not p.dotted and node.attr == p.leaf:
                self._report(node, p, f"...{node.attr}")

    def visit_Name(self, node: ast.Name):
        if isinstance(node.ctx, ast.Load):
            self._check_chain(node, [node.id])
            obj = self.globals.get(node.id)
            if node.id not in self.local_names and (
                inspect.isfunction(obj) or inspect.isclass(obj)
            ):
                self.helpers.append(obj)

    def visit_ImportFrom(self, node: ast.ImportFrom):
        for alias in node.names:
            full = f"{node.module}.{alias.name}".split(".") if node.module else [alias.name]
            for p in self.patterns:
                if p.matches_chain(full, full, _import_path(".".join(full))):
                    self._report(node, p, ".".join(full))

    def visit_Call(self, node: ast.Call):
        # getattr(torch, "conv2d") spells the name as a string.
        if (
            isinstance(node.func, ast.Name)
            and node.func.id == "getattr"
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            for p in self.patterns:
                if node.args[1].value == p.leaf:
                    self._report(node, p, f'getattr(..., "{p.leaf}")')
        self.generic_visit(node)


def _chain(node) -> list[str] | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return parts[::-1]
    return None


def _module_of_globals(g: dict) -> str | None:
    return g.get("__name__")
