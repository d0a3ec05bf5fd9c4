"""Checks on nn.Module structure: parameter counts, registration, state_dict keys, train/eval."""

from __future__ import annotations

import copy
from collections.abc import Mapping

import torch
from torch import nn

from ._format import fmt_err, type_name

__all__ = [
    "check_parameter_count",
    "check_registered",
    "check_state_dict_keys",
    "check_train_eval",
    "count_parameters",
]

_MAX_LISTED = 8


def count_parameters(module: nn.Module, trainable_only: bool = True) -> int:
    """Number of parameter elements (shared parameters counted once)."""
    _require_module(module)
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


def check_parameter_count(module: nn.Module, expected: int, trainable_only: bool = True) -> None:
    """Check the number of (trainable) parameter elements, with a per-submodule breakdown."""
    got = count_parameters(module, trainable_only)
    if got == expected:
        return
    kind = "trainable parameters" if trainable_only else "parameters"
    lines = [f"model: expected {expected:,} {kind}, got {got:,} ({got - expected:+,})."]
    children = list(module.named_children())
    if children:
        parts = [f"{n}={count_parameters(c, trainable_only):,}" for n, c in children]
        lines.append("Per submodule: " + ", ".join(parts[:_MAX_LISTED]))
        if len(parts) > _MAX_LISTED:
            lines[-1] += ", ..."
    unregistered = _unregistered(module)
    if unregistered and got < expected:
        lines.append("Hint: " + unregistered[0][1])
    elif trainable_only and got < expected and _has_frozen(module):
        lines.append("Hint: some parameters have requires_grad=False (frozen).")
    else:
        lines.append("Hint: check layer sizes and bias=True/False against the specification.")
    raise AssertionError("\n".join(lines))


def check_registered(module: nn.Module, parameters=(), buffers=(), submodules=()) -> None:
    """Check that the given (dotted) names are registered parameters, buffers and submodules."""
    _require_module(module)
    params = dict(module.named_parameters(remove_duplicate=False))
    bufs = dict(module.named_buffers(remove_duplicate=False))
    mods = dict(module.named_modules(remove_duplicate=False))
    problems = []
    for name in _names(parameters):
        if name not in params:
            problems.append(_diagnose(module, name, "parameter", params, bufs, mods))
    for name in _names(buffers):
        if name not in bufs:
            problems.append(_diagnose(module, name, "buffer", params, bufs, mods))
    for name in _names(submodules):
        if name not in mods or name == "":
            problems.append(_diagnose(module, name, "submodule", params, bufs, mods))
    if problems:
        raise AssertionError(
            f"{type(module).__name__}: {len(problems)} name(s) not registered:\n"
            + "\n".join(f"- {p}" for p in problems)
        )


def check_state_dict_keys(module, expected_keys) -> None:
    """Check that a module's (or a state dict's) keys are exactly `expected_keys`."""
    if isinstance(module, nn.Module):
        keys = list(module.state_dict().keys())
    elif isinstance(module, Mapping):
        keys = list(module.keys())
    else:
        raise AssertionError(
            f"expected an nn.Module or a state_dict, got {type_name(module)}.\n"
            "Hint: did you forget to return the model?"
        )
    expected = list(expected_keys)
    missing = [k for k in expected if k not in set(keys)]
    unexpected = [k for k in keys if k not in set(expected)]
    if not missing and not unexpected:
        return
    lines = ["state_dict keys do not match the specification."]
    if missing:
        lines.append("Missing: " + _listing(missing))
    if unexpected:
        lines.append("Unexpected: " + _listing(unexpected))
    hint = _keys_hint(missing, unexpected)
    if hint:
        lines.append("Hint: " + hint)
    raise AssertionError("\n".join(lines))


def check_train_eval(module: nn.Module, x, *, differs_in_train: bool = True, seed: int = 0) -> None:
    """Check train()/eval() behaviour: flags reach children, eval is deterministic, train is not.

    `x` is the input, or a tuple of inputs. The module's parameters, buffers (e.g. BatchNorm
    running stats), modes and the global RNG state are restored afterwards.
    """
    _require_module(module)
    modes = {m: m.training for m in module.modules()}
    state = copy.deepcopy(module.state_dict())
    cuda = list(range(torch.cuda.device_count())) if torch.cuda.is_initialized() else []
    with torch.random.fork_rng(devices=cuda):
        try:
            _train_eval_checks(module, x, differs_in_train=differs_in_train, seed=seed)
        finally:
            module.load_state_dict(state)
            for m, training in modes.items():
                m.training = training


def _train_eval_checks(module: nn.Module, x, *, differs_in_train: bool, seed: int) -> None:
    module.eval()
    _check_flags(module, training=False)
    with torch.no_grad():
        first = _forward(module, x, seed)
        second = _forward(module, x, seed + 1)
    diff = _max_diff(first, second)
    if diff > 0:
        raise AssertionError(
            f"{type(module).__name__}: in eval() mode two forward passes on the same input "
            f"differ (max abs diff {fmt_err(diff)}); eval must be deterministic.\n"
            "Hint: randomness such as dropout must be off when self.training is False: use "
            "nn.Dropout, or F.dropout(x, p, training=self.training)."
        )
    module.train()
    _check_flags(module, training=True)
    if differs_in_train:
        with torch.no_grad():
            first = _forward(module, x, seed)
            second = _forward(module, x, seed + 1)
        if _max_diff(first, second) == 0:
            raise AssertionError(
                f"{type(module).__name__}: in train() mode two forward passes on the same "
                "input gave identical outputs, but this model should be random in training "
                "(e.g. dropout).\nHint: check that dropout is applied in forward, with p > 0 "
                "and training=self.training."
            )


# --- helpers --------------------------------------------------------------------------------


def _require_module(module) -> None:
    if isinstance(module, nn.Module):
        return
    hint = "did you forget to return the model?" if module is None else "pass the model itself."
    raise AssertionError(f"expected an nn.Module, got {type_name(module)}.\nHint: {hint}")


def _names(names) -> list[str]:
    return [names] if isinstance(names, str) else list(names)


def _has_frozen(module: nn.Module) -> bool:
    return any(not p.requires_grad for p in module.parameters())


def _unregistered(module: nn.Module) -> list[tuple[str, str]]:
    """(kind, hint) for tensors/modules hidden in plain attributes, lists or dicts."""
    hints = []
    for prefix, sub in module.named_modules():
        for attr, value in vars(sub).items():
            if attr.startswith("_"):
                continue
            where = f"{prefix}.{attr}" if prefix else attr
            found = _container_hint(where, value)
            if found:
                hints.append(found)
    return hints


def _container_hint(where: str, value) -> tuple[str, str] | None:
    if isinstance(value, list | tuple) and any(isinstance(v, nn.Module) for v in value):
        return "modules", (
            f"self.{where} is a python {type(value).__name__} of modules, so they are not "
            "registered; use nn.ModuleList."
        )
    if isinstance(value, dict) and any(isinstance(v, nn.Module) for v in value.values()):
        return "modules", f"self.{where} is a python dict of modules; use nn.ModuleDict."
    if isinstance(value, list | tuple) and any(isinstance(v, torch.Tensor) for v in value):
        return "tensors", f"self.{where} is a python list of tensors; use nn.ParameterList."
    if isinstance(value, torch.Tensor) and not isinstance(value, nn.Parameter):
        return "tensor", (
            f"self.{where} is a plain tensor, so it is not registered: wrap it in "
            "nn.Parameter(...) if it is learned, or use self.register_buffer(...) if not."
        )
    return None


def _lookup(module: nn.Module, dotted: str):
    """Follow a dotted name like a student's code would; returns (owner, value, leaf, detour).

    `detour` is a hint when the path runs through a plain list/dict/tensor attribute.
    """
    owner = module
    parts = dotted.split(".")
    walked = []
    for part in parts[:-1]:
        walked.append(part)
        if isinstance(owner, list | tuple) and part.isdigit() and int(part) < len(owner):
            nxt = owner[int(part)]
        elif isinstance(owner, dict):
            nxt = owner.get(part)
        else:
            nxt = getattr(owner, part, None)
        found = _container_hint(".".join(walked), nxt)
        if found and found[0] == "modules":
            return owner, None, part, found[1]
        if nxt is None:
            return owner, None, part, None
        owner = nxt
    leaf = parts[-1]
    return owner, getattr(owner, leaf, None), leaf, None


_MISSING_TYPE_HINT = {
    "parameter": "create it in __init__ as self.{leaf} = nn.Parameter(...)",
    "buffer": "create it in __init__ with self.register_buffer('{leaf}', tensor)",
    "submodule": "create it in __init__ as self.{leaf} = nn.SomeLayer(...)",
}


def _diagnose(module, name, kind, params, bufs, mods) -> str:
    owner, value, leaf, detour = _lookup(module, name)
    head = f"'{name}' should be a registered {kind}"
    if detour:
        return f"{head}. Hint: {detour}"
    if kind != "parameter" and name in params:
        return f"{head}, but it is a parameter (trained by the optimizer)."
    if kind != "buffer" and name in bufs:
        return f"{head}, but it is a buffer (not trained); use nn.Parameter for learned values."
    if value is None:
        where = "the model" if owner is module else f"'{name.rsplit('.', 1)[0]}'"
        return f"{head}, but {where} has no attribute '{leaf}'. Hint: " + _MISSING_TYPE_HINT[
            kind
        ].format(leaf=leaf)
    found = _container_hint(name, value)
    container = found[1] if found else None
    if container and kind == "buffer" and isinstance(value, torch.Tensor):
        container = (
            f"self.{name} is a plain tensor; register it with self.register_buffer('{leaf}', "
            "tensor) so it moves with .to(device) and is saved in the state_dict."
        )
    if container and kind == "parameter" and isinstance(value, torch.Tensor):
        container = f"self.{name} is a plain tensor; wrap it: self.{leaf} = nn.Parameter(...)."
    if container:
        return f"{head}. Hint: {container}"
    return f"{head}, but it is a {type_name(value)}. Hint: " + _MISSING_TYPE_HINT[kind].format(
        leaf=leaf
    )


def _listing(keys: list[str]) -> str:
    shown = ", ".join(keys[:_MAX_LISTED])
    return shown + (f", ... ({len(keys)} in all)" if len(keys) > _MAX_LISTED else "")


def _keys_hint(missing: list[str], unexpected: list[str]) -> str | None:
    if unexpected and all(k.startswith("module.") for k in unexpected):
        return "keys start with 'module.': the model was wrapped (DataParallel); save .module."
    if unexpected and all(k.startswith("_orig_mod.") for k in unexpected):
        return "keys start with '_orig_mod.': save the model before torch.compile."
    renames = []
    for m in missing:
        prefix, _, leaf = m.rpartition(".")
        for u in unexpected:
            u_prefix, _, u_leaf = u.rpartition(".")
            if u_leaf == leaf and u_prefix != prefix:
                renames.append((prefix, u_prefix))
    renames = list(dict.fromkeys(renames))
    if renames:
        exp, got = renames[0]
        return f"'{got}' looks like it should be called '{exp}'; attribute names must match."
    if missing and all(k.rpartition(".")[2] == "bias" for k in missing):
        return "bias terms are missing; did you pass bias=False?"
    if unexpected and all(k.rpartition(".")[2] == "bias" for k in unexpected):
        return "unexpected bias terms; the specification asks for bias=False."
    return None


def _check_flags(module: nn.Module, training: bool) -> None:
    call = "train()" if training else "eval()"
    for name, sub in module.named_modules():
        if sub.training != training:
            raise AssertionError(
                f"{type(module).__name__}: after .{call} the submodule '{name or '(root)'}' "
                f"still has training={sub.training}.\n"
                "Hint: if you override train()/eval(), call super() so children follow."
            )
    modules_hidden = [hint for kind, hint in _unregistered(module) if kind == "modules"]
    if modules_hidden:
        raise AssertionError(
            f"{type(module).__name__}: .{call} cannot reach modules stored outside the "
            f"module tree.\nHint: {modules_hidden[0]}"
        )


def _forward(module: nn.Module, x, seed: int):
    torch.manual_seed(seed)
    if isinstance(x, tuple):
        return module(*x)
    return module(x)


def _flatten(out) -> list[torch.Tensor]:
    if isinstance(out, torch.Tensor):
        return [out]
    if isinstance(out, Mapping):
        return [t for v in out.values() for t in _flatten(v)]
    if isinstance(out, list | tuple):
        return [t for v in out for t in _flatten(v)]
    return []


def _max_diff(a, b) -> float:
    worst = 0.0
    for x, y in zip(_flatten(a), _flatten(b), strict=True):
        if x.shape != y.shape:
            return float("inf")
        d = (x.double() - y.double()).abs()
        # NaN in the same place counts as equal; NaN elsewhere (or inf - inf) as different.
        d = torch.where(x.isnan() & y.isnan(), torch.zeros_like(d), d)
        d = torch.nan_to_num(d, nan=float("inf"))
        if d.numel():
            worst = max(worst, float(d.max()))
    return worst
