"""Gradient checks: numerical differences, autograd or hand-written gradients, gradcheck."""

from __future__ import annotations

import re

import torch

from ._format import fmt_pair, fmt_shape, type_name, unravel
from .tensors import _check_values

__all__ = ["check_grad", "check_gradcheck", "numerical_grad"]

_DOUBLE_NOTE = (
    "f is evaluated on float64 inputs; make sure it works on double tensors "
    "(e.g. call .double() on modules and parameters it uses)."
)


def numerical_grad(f, x: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Gradient of scalar-valued `f` at `x` by centred differences, computed in float64."""
    base = x.detach().to(torch.float64).clone()
    grad = torch.zeros_like(base)
    flat_x, flat_g = base.view(-1), grad.view(-1)
    with torch.no_grad():
        for i in range(flat_x.numel()):
            orig = float(flat_x[i])
            flat_x[i] = orig + eps
            plus = _scalar(_call(f, base), "f")
            flat_x[i] = orig - eps
            minus = _scalar(_call(f, base), "f")
            flat_x[i] = orig
            flat_g[i] = (plus - minus) / (2 * eps)
    return grad


def check_grad(
    f,
    x: torch.Tensor,
    *,
    analytic=None,
    rtol: float = 1e-4,
    atol: float = 1e-6,
    name: str = "gradient",
) -> torch.Tensor:
    """Compare the gradient of scalar-valued `f` at `x` with centred differences.

    Without `analytic`, the gradient comes from autograd (f(x).backward()); otherwise
    `analytic(x)` must return it (a hand-derived gradient). Both are computed in float64.
    Returns the checked gradient.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type_name(x)}")
    x64 = x.detach().to(torch.float64).clone()
    if analytic is None:
        source = "autograd"
        grad = _autograd(f, x64, name)
    else:
        source = "your gradient"
        grad = _call(analytic, x64.clone())
        if not isinstance(grad, torch.Tensor):
            raise AssertionError(
                f"{name}: the gradient function should return a torch.Tensor, "
                f"got {type_name(grad)}."
            )
        if grad.shape != x64.shape:
            raise AssertionError(
                f"{name}: the gradient must have the same shape as the input "
                f"{fmt_shape(x64.shape)}, got {fmt_shape(grad.shape)}.\n"
                "Hint: each input element gets exactly one partial derivative."
            )
        grad = grad.detach().to(torch.float64)
    numeric = numerical_grad(f, x64)
    try:
        _check_values(
            grad,
            numeric,
            rtol=rtol,
            atol=atol,
            name=name,
            float64=True,
            equal_nan=True,
            labels=("numerical", source),
        )
    except AssertionError as exc:
        head, sep, hint = str(exc).partition("\nHint:")
        note = "\n(numerical = centred finite differences of f, the reference here)"
        raise AssertionError(head + note + sep + hint) from None
    return grad


def check_gradcheck(fn, inputs, **kw) -> bool:
    """Run torch.autograd.gradcheck on float64 copies of `inputs`; fail with a readable message.

    Floating-point tensors in `inputs` (a tensor or a tuple) become float64 leaves with
    requires_grad=True; other inputs pass through. Extra keyword arguments go to gradcheck.
    """
    items = (inputs,) if isinstance(inputs, torch.Tensor) else tuple(inputs)
    prepared = tuple(
        t.detach()
        .to(torch.complex128 if t.is_complex() else torch.float64)
        .clone()
        .requires_grad_(True)
        if isinstance(t, torch.Tensor) and (t.is_floating_point() or t.is_complex())
        else t
        for t in items
    )
    name = _callable_name(fn)
    kw.setdefault("raise_exception", True)
    try:
        ok = torch.autograd.gradcheck(fn, prepared, **kw)
    except RuntimeError as exc:
        text = str(exc)
        match = re.search(r"output (\d+) with respect to input (\d+)", text)
        if "Jacobian mismatch" in text and match:
            report = _jacobian_report(
                fn,
                prepared,
                int(match.group(1)),
                int(match.group(2)),
                eps=kw.get("eps", 1e-6),
                rtol=kw.get("rtol", 1e-3),
                atol=kw.get("atol", 1e-5),
            )
            if report:
                raise AssertionError(f"{name}: gradcheck failed: {report}") from None
        raise AssertionError(_gradcheck_message(name, text)) from None
    if not ok:
        raise AssertionError(
            f"{name}: gradcheck failed: the backward pass does not match numerical gradients."
        )
    return True


def _callable_name(fn) -> str:
    owner = getattr(fn, "__self__", None)
    if isinstance(owner, type):
        # MyFunction.apply reads better as MyFunction.
        return owner.__name__
    return getattr(fn, "__name__", type(fn).__name__)


def _jacobian_report(fn, inputs, out_i, in_j, *, eps, rtol, atol) -> str | None:
    """Locate the worst Jacobian entry of one output/input pair; None if it cannot be redone."""
    # gradcheck numbers only the inputs that require grad.
    differentiable = [
        i for i, t in enumerate(inputs) if isinstance(t, torch.Tensor) and t.requires_grad
    ]
    pos = differentiable[in_j]
    x = inputs[pos]

    n_outputs = 1

    def output(args):
        nonlocal n_outputs
        out = fn(*args)
        if isinstance(out, torch.Tensor):
            return out
        n_outputs = len(out)
        return out[out_i]

    try:
        with torch.enable_grad():
            out = output(inputs)
            flat_out = out.reshape(-1)
            rows = []
            for k in range(flat_out.numel()):
                (g,) = torch.autograd.grad(flat_out[k], x, retain_graph=True, allow_unused=True)
                rows.append(torch.zeros(x.numel(), dtype=x.dtype) if g is None else g.reshape(-1))
        analytic = torch.stack(rows).detach()
        numeric = torch.zeros_like(analytic)
        with torch.no_grad():
            base = x.detach().clone()
            flat = base.view(-1)
            for m in range(flat.numel()):
                args = list(inputs)
                orig = float(flat[m])
                flat[m] = orig + eps
                args[pos] = base.clone()
                plus = output(args).reshape(-1)
                flat[m] = orig - eps
                args[pos] = base.clone()
                minus = output(args).reshape(-1)
                flat[m] = orig
                numeric[:, m] = (plus - minus) / (2 * eps)
    except Exception:  # the report is a nicety: fall back to gradcheck's own text
        return None
    close = (analytic - numeric).abs() <= atol + rtol * numeric.abs()
    if bool(close.all()):
        return None
    err = torch.where(close, torch.full_like(analytic, -1.0), (analytic - numeric).abs())
    err = torch.nan_to_num(err, nan=float("inf"))
    k, m = divmod(int(err.reshape(-1).argmax()), analytic.shape[1])
    num_s, ana_s = fmt_pair(float(numeric[k, m]), float(analytic[k, m]))
    n_wrong = int((~close).sum())
    out_label = "output" if n_outputs == 1 else f"outputs[{out_i}]"
    in_label = "input" if len(inputs) == 1 else f"inputs[{pos}]"
    return (
        f"d {out_label}{_unravel(k, out.shape)} / d {in_label}{_unravel(m, x.shape)} "
        f"is {num_s} numerically, but your backward gives {ana_s}; "
        f"{n_wrong} of {close.numel()} Jacobian entries wrong.\n"
        "Hint: re-derive the formula and remember the chain rule: multiply by grad_output."
    )


def _unravel(flat: int, shape) -> str:
    if len(shape) == 0:
        return ""
    return "[" + ", ".join(str(i) for i in unravel(flat, shape)) + "]"


def _gradcheck_message(name: str, text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    first = lines[0] if lines else "gradcheck failed"
    low = text.lower()
    if "jacobian mismatch" in low:
        hint = (
            "your backward returns wrong values; re-derive the formula and remember the "
            "chain rule: multiply by grad_output."
        )
    elif (
        "does not require grad" in low
        or "not have been used in the graph" in low
        or "expected to be zero" in low
    ):
        hint = (
            "the output is not connected to the inputs; avoid .detach(), .item(), .numpy() "
            "or torch.tensor(...) on intermediate results."
        )
    elif "incorrect number of gradients" in low:
        hint = "backward must return one gradient per input of forward (None for non-tensors)."
    elif "shape" in low or "size" in low:
        hint = "each gradient returned by backward must have the shape of its input."
    elif "reentrant" in low:
        hint = "backward gives different results on repeated calls; it must be deterministic."
    else:
        hint = "check your forward/backward implementation."
    return f"{name}: gradcheck failed: {first}\nHint: {hint}"


def _autograd(f, x64: torch.Tensor, name: str) -> torch.Tensor:
    leaf = x64.clone().requires_grad_(True)
    with torch.enable_grad():
        out = _call(f, leaf)
        if not isinstance(out, torch.Tensor) or not out.requires_grad:
            raise AssertionError(
                f"{name}: the output of f is not connected to its input in the autograd graph "
                f"(got {type_name(out)}"
                + (" without grad_fn" if isinstance(out, torch.Tensor) else "")
                + ").\nHint: avoid .detach(), .item(), .numpy(), torch.no_grad() or "
                "torch.tensor(...) on intermediate results."
            )
        if out.numel() != 1:
            raise AssertionError(
                f"{name}: f must return a single number (a loss), got shape "
                f"{fmt_shape(out.shape)}.\nHint: reduce it with .sum() or .mean()."
            )
        (grad,) = torch.autograd.grad(out.reshape(()), leaf, allow_unused=True)
    if grad is None:
        return torch.zeros_like(x64)
    return grad.detach().to(torch.float64)


def _call(f, x):
    try:
        return f(x)
    except (RuntimeError, TypeError) as exc:
        if "double" in str(exc).lower() or "dtype" in str(exc).lower():
            exc.add_note(_DOUBLE_NOTE)
        raise


def _scalar(value, what: str) -> float:
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise AssertionError(
                f"{what} must return a single number (a loss), got shape "
                f"{fmt_shape(value.shape)}.\nHint: reduce it with .sum() or .mean()."
            )
        return float(value.reshape(()))
    try:
        return float(value)
    except (TypeError, ValueError):
        raise AssertionError(
            f"{what} must return a single number, got {type_name(value)}."
        ) from None
