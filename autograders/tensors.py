"""Checks on tensors: type, shape, dtype, device and values within tolerances."""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch

from ._format import fmt_err, fmt_index, fmt_pair, fmt_shape, type_name, unravel

__all__ = ["check_close", "check_tensor"]

# Same defaults as torch.testing.assert_close; copied because that table is private API.
_DEFAULT_TOLERANCES: dict[torch.dtype, tuple[float, float]] = {
    torch.float16: (1e-3, 1e-5),
    torch.bfloat16: (1.6e-2, 1e-5),
    torch.float32: (1.3e-6, 1e-5),
    torch.float64: (1e-7, 1e-7),
    torch.complex32: (1e-3, 1e-5),
    torch.complex64: (1.3e-6, 1e-5),
    torch.complex128: (1e-7, 1e-7),
}


def check_tensor(
    actual,
    expected=None,
    *,
    shape=None,
    dtype=None,
    device=None,
    rtol: float | None = None,
    atol: float | None = None,
    name: str = "result",
    float64: bool = False,
    equal_nan: bool = True,
) -> None:
    """Check that `actual` is a tensor of the given shape/dtype/device, close to `expected`.

    `expected` may be a tensor, a NumPy array, or a nested list / number; its shape is
    always checked, its dtype only when `dtype` is given. `shape` entries may be None (any
    size). `device` is compared by type ("cpu", "cuda"). Tolerances default per dtype as in
    torch.testing.assert_close (exact for integer/bool tensors); giving only one of rtol/atol
    keeps the default for the other. `float64=True` computes the comparison in float64.
    NaN matches NaN when `equal_nan` (default), and infinities must match exactly.
    """
    _require_tensor(actual, name)
    expected_t = None if expected is None else _as_tensor(expected)
    if shape is not None:
        _check_shape(actual, tuple(shape), name)
    if expected_t is not None:
        _check_shape(actual, tuple(expected_t.shape), name)
    if dtype is not None:
        _check_dtype(actual, _as_dtype(dtype), name)
    if device is not None:
        _check_device(actual, device, name)
    if expected_t is not None:
        # Python numbers carry no precision of their own: only the tensors' dtypes set defaults.
        from_python = not (isinstance(expected, torch.Tensor) or _is_numpy(expected))
        _check_values(
            actual.detach().cpu(),
            expected_t.detach().cpu(),
            rtol=rtol,
            atol=atol,
            name=name,
            float64=float64,
            equal_nan=equal_nan,
            tolerance_dtypes=(actual.dtype,) if from_python else None,
        )


def check_close(
    actual, expected, *, rtol: float = 1e-5, atol: float = 1e-8, name: str = "result"
) -> None:
    """Check that a number (python, NumPy or tensor) is within `atol + rtol * |expected|`."""
    if actual is None:
        raise AssertionError(
            f"{name}: expected a number close to {_describe(expected)}, got None.\n"
            "Hint: did you forget a `return` statement?"
        )
    _require_plain(actual, name)
    if not _is_numeric(actual):
        raise AssertionError(
            f"{name}: expected a number close to {_describe(expected)}, "
            f"got a {type_name(actual)}: {_short_repr(actual)}."
        )
    actual_t = _as_tensor(actual).detach().cpu()
    expected_t = _as_tensor(expected).detach().cpu()
    if actual_t.shape != expected_t.shape:
        if actual_t.numel() == 1 and expected_t.numel() == 1:
            # A one-element tensor is an acceptable answer for a scalar question.
            actual_t, expected_t = actual_t.reshape(()), expected_t.reshape(())
        else:
            raise AssertionError(
                f"{name}: expected shape {fmt_shape(expected_t.shape)}, "
                f"got shape {fmt_shape(actual_t.shape)}."
            )
    _check_values(
        actual_t, expected_t, rtol=rtol, atol=atol, name=name, float64=True, equal_nan=True
    )


# --- type -----------------------------------------------------------------------------------


# A subclass's __torch_function__ would run the submission's code inside every comparison
# (and could answer "equal"); nn.Parameter disables it, so it is the one subclass allowed.
PLAIN_TENSOR_TYPES = (torch.Tensor, torch.nn.Parameter)


def _require_plain(actual, name: str) -> None:
    if isinstance(actual, torch.Tensor) and type(actual) not in PLAIN_TENSOR_TYPES:
        subclass = type(actual).__qualname__
        raise AssertionError(
            f"{name}: expected a plain torch.Tensor, got the subclass {subclass}.\n"
            "Hint: return ordinary tensors (x.as_subclass(torch.Tensor) turns one back)."
        )


def _require_tensor(actual, name: str) -> None:
    if isinstance(actual, torch.Tensor):
        _require_plain(actual, name)
        return
    got = f"got {type_name(actual)}"
    if actual is None:
        hint = "did you forget a `return` statement?"
    elif _is_numpy(actual):
        hint = "convert a NumPy array with torch.from_numpy(...), or stay in torch throughout."
    elif isinstance(actual, numbers.Number):
        got += f" {actual!r}"
        hint = "did you call .item() or float()? Return the tensor itself."
    elif isinstance(actual, list | tuple):
        hint = "build a tensor with torch.tensor(...) or torch.stack(...) instead of a list."
    else:
        hint = "return a tensor."
    raise AssertionError(f"{name}: expected a torch.Tensor, {got}.\nHint: {hint}")


def _is_numeric(value) -> bool:
    return isinstance(value, torch.Tensor | numbers.Number) or _is_numpy(value)


def _is_numpy(value) -> bool:
    return isinstance(value, np.ndarray | np.generic)


def _as_tensor(value) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value
    if _is_numpy(value):
        return torch.from_numpy(np.asarray(value).copy())
    try:
        tensor = torch.as_tensor(value)
        if tensor.is_floating_point():
            # torch would round python floats to float32; keep what the author wrote.
            tensor = torch.as_tensor(value, dtype=torch.float64)
        return tensor
    except (TypeError, ValueError, RuntimeError) as exc:
        raise TypeError(f"cannot turn {type_name(value)} into a tensor to compare: {exc}") from exc


def _describe(value) -> str:
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, numbers.Number):
        return fmt_pair(value, value)[0]
    return _short_repr(value)


def _short_repr(value, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --- shape ----------------------------------------------------------------------------------


def _check_shape(actual: torch.Tensor, expected: tuple, name: str) -> None:
    got = tuple(actual.shape)
    if len(got) == len(expected) and all(
        e is None or e == -1 or e == g for e, g in zip(expected, got, strict=True)
    ):
        return
    shown = "(" + ", ".join("*" if e is None or e == -1 else str(e) for e in expected)
    shown += ",)" if len(expected) == 1 else ")"
    msg = f"{name}: wrong shape, expected {shown}, got {fmt_shape(got)}."
    hint = _shape_hint(got, expected)
    raise AssertionError(msg + (f"\nHint: {hint}" if hint else ""))


def _shape_hint(got: tuple, expected: tuple) -> str | None:
    if any(e is None or e == -1 for e in expected):
        return None
    numel_got, numel_exp = _prod(got), _prod(expected)
    if got == tuple(reversed(expected)) and len(got) == 2:
        return "the two dimensions are swapped; check your transpose or the order of the operands."
    if len(got) == len(expected) and sorted(got) == sorted(expected):
        return "same sizes in a different order; check permute/transpose."
    if [s for s in got if s != 1] == [s for s in expected if s != 1]:
        return "the shapes differ only by dimensions of size 1; check keepdim=, squeeze/unsqueeze."
    if len(got) == 0:
        return "got a single number; did you reduce (sum/mean) over everything? Pass dim=..."
    if numel_got == numel_exp:
        return "same number of elements; check your reshape/view."
    if len(got) > len(expected) and numel_got > numel_exp:
        return (
            "more elements than expected; maybe unintended broadcasting "
            "(e.g. a (N,) tensor combined with an (N, 1) tensor)."
        )
    return None


def _prod(shape) -> int:
    out = 1
    for s in shape:
        out *= s
    return out


# --- dtype / device -------------------------------------------------------------------------


def _as_dtype(dtype) -> torch.dtype:
    if isinstance(dtype, torch.dtype):
        return dtype
    if isinstance(dtype, str):
        resolved = getattr(torch, dtype.removeprefix("torch."), None)
        if isinstance(resolved, torch.dtype):
            return resolved
    raise TypeError(f"not a torch dtype: {dtype!r}")


def _check_dtype(actual: torch.Tensor, expected: torch.dtype, name: str) -> None:
    got = actual.dtype
    if got == expected:
        return
    hint = f"convert with .to({expected})"
    if expected.is_floating_point and got == torch.float64:
        hint += "; float64 usually comes from NumPy (torch.from_numpy keeps the dtype)"
    elif expected.is_floating_point and not got.is_floating_point:
        hint += "; integer/bool tensors come from integer data, e.g. torch.tensor([1, 2])"
    elif not expected.is_floating_point and expected != torch.bool and got.is_floating_point:
        hint += "; indices and class labels must be integers (.long())"
    raise AssertionError(f"{name}: wrong dtype, expected {expected}, got {got}.\nHint: {hint}.")


def _check_device(actual: torch.Tensor, device, name: str) -> None:
    expected = torch.device(device).type
    got = actual.device.type
    if got == expected:
        return
    raise AssertionError(
        f"{name}: wrong device, expected a tensor on {expected}, got one on {got}.\n"
        "Hint: move it with .to(device), and create new tensors with device=x.device."
    )


# --- values ---------------------------------------------------------------------------------


def _default_tolerances(*dtypes: torch.dtype) -> tuple[float, float]:
    pairs = [_DEFAULT_TOLERANCES.get(d, (0.0, 0.0)) for d in dtypes]
    return max(p[0] for p in pairs), max(p[1] for p in pairs)


def _comparison_dtype(a: torch.dtype, e: torch.dtype, float64: bool) -> torch.dtype:
    common = torch.promote_types(a, e)
    if common.is_complex:
        return torch.complex128 if float64 else common
    if float64 or not common.is_floating_point:
        # Integers are compared via float64 too so that the error arithmetic cannot overflow.
        return torch.float64
    return common


def _check_values(
    actual: torch.Tensor,
    expected: torch.Tensor,
    *,
    rtol: float | None,
    atol: float | None,
    name: str,
    float64: bool,
    equal_nan: bool,
    labels: tuple[str, str] = ("expected", "got"),
    tolerance_dtypes: tuple[torch.dtype, ...] | None = None,
) -> None:
    default_rtol, default_atol = _default_tolerances(
        *(tolerance_dtypes or (actual.dtype, expected.dtype))
    )
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol
    cmp_dtype = _comparison_dtype(actual.dtype, expected.dtype, float64)
    a = actual.to(cmp_dtype)
    e = expected.to(cmp_dtype)

    # The difference is computed in the comparison dtype, the tolerance always in float64
    # (an atol rounded to bfloat16 would not be the one the caller asked for).
    diff = (a - e).abs().to(torch.float64)
    tolerance = atol + rtol * e.abs().to(torch.float64)
    # a == e accepts equal infinities (their difference is nan); tolerance would be inf for them.
    close = (a == e) | ((diff <= tolerance) & a.isfinite() & e.isfinite())
    if equal_nan:
        close |= a.isnan() & e.isnan()
    if bool(close.all()):
        return

    wrong = ~close
    n_wrong, n_total = int(wrong.sum()), close.numel()
    # A nan error (nan or mismatched inf involved) is the worst kind of wrong.
    err = torch.where(diff.isnan(), torch.full_like(diff, float("inf")), diff).to(torch.float64)
    err = torch.where(wrong, err, torch.full_like(err, -1.0))
    flat = int(err.reshape(-1).argmax())
    index = unravel(flat, close.shape)
    exp_s, got_s = fmt_pair(_element(expected, index), _element(actual, index))
    err_v = float(diff.reshape(-1)[flat])
    tol_v = float(tolerance.reshape(-1)[flat])

    exp_l, got_l = labels
    if index:
        first = f"{name}: values differ at {fmt_index(index)}: {exp_l} {exp_s}, {got_l} {got_s}"
        first += f"; {n_wrong} of {n_total} elements wrong."
    else:
        first = f"{name}: {exp_l} {exp_s}, {got_l} {got_s}."
    lines = [first]
    if rtol == 0 and atol == 0:
        lines.append("(the values must be exactly equal)")
    elif math.isfinite(err_v):
        lines.append(
            f"(abs err {fmt_err(err_v)} > tolerance {fmt_err(tol_v)}"
            f" = atol {fmt_err(atol)} + rtol {fmt_err(rtol)} * |{exp_l}|)"
        )
    hint = _value_hint(a, e, wrong, equal_nan)
    if hint:
        lines.append(f"Hint: {hint}")
    raise AssertionError("\n".join(lines))


def _element(t: torch.Tensor, index: tuple[int, ...]):
    value = t[index].item() if index else t.item()
    return value


def _value_hint(a: torch.Tensor, e: torch.Tensor, wrong: torch.Tensor, equal_nan: bool) -> str:
    bad_nan = a.isnan() & ~e.isnan() if equal_nan else a.isnan()
    if bool((bad_nan & wrong).any()):
        return (
            "your result contains NaN; it usually comes from 0/0, log of 0 or a negative "
            "number, or sqrt of a negative number. Look for a numerically stable formula."
        )
    bad_inf = a.isinf() & ~e.isinf()
    if bool((bad_inf & wrong).any()):
        return "your result contains inf; look for a division by zero or exp() overflow."
    if a.is_complex() or not bool(e.isfinite().all()) or not bool(a.isfinite().all()):
        return ""
    scale = float(e.abs().max()) if e.numel() else 0.0
    tol = 1e-4 * max(scale, 1e-12)
    if scale > 0 and float((a + e).abs().max()) <= tol:
        return "the values have the opposite sign of what is expected."
    square = e.dim() == 2 and e.shape[0] == e.shape[1] and e.shape[0] > 1
    if square and float((a - e.T).abs().max()) <= tol:
        return "your result is the transpose of the expected one."
    if scale > 0 and bool((a == 0).all()):
        return "your result is all zeros; is the output ever filled in?"
    nonzero = e.abs() > 1e-12 * scale
    if scale > 0 and int(nonzero.sum()) >= 2 and bool((a[~nonzero].abs() <= tol).all()):
        ratios = a[nonzero] / e[nonzero]
        ratio = float(ratios.median())
        if abs(ratio - 1) > 1e-3 and ratio != 0 and float((ratios - ratio).abs().max()) <= 1e-4:
            return (
                f"every value is off by the same factor ({ratio:.4g}); "
                "check for a missing or extra scale (mean vs sum, 1/N, sqrt(d))."
            )
    return ""
