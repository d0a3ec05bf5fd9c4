"""Formatting helpers shared by the student-facing failure messages."""

from __future__ import annotations

import math

import torch


def fmt_value(value) -> str:
    """Format a number compactly (6 significant digits)."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return f"{value:.6g}"


def fmt_pair(expected, got) -> tuple[str, str]:
    """Format two numbers so that different values never print identically."""
    for digits in (6, 9, 12, 17):
        e, g = _fmt_digits(expected, digits), _fmt_digits(got, digits)
        if e != g or expected == got:
            return e, g
    return e, g


def _fmt_digits(value, digits: int) -> str:
    if isinstance(value, bool | int):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return f"{value:.{digits}g}"


def fmt_err(value: float) -> str:
    """Format an error or tolerance (3 significant digits)."""
    if math.isnan(value):
        return "nan"
    return f"{value:.3g}"


def fmt_shape(shape) -> str:
    """Format a shape as a tuple: (3, 4), (5,) or () for a scalar."""
    return str(tuple(shape))


def fmt_index(index: tuple[int, ...]) -> str:
    """Format an element index as a student would type it."""
    if len(index) == 0:
        return "the (only) value"
    if len(index) == 1:
        return f"index {index[0]}"
    return f"index ({', '.join(str(i) for i in index)})"


def type_name(obj) -> str:
    """Name an object's type the way a student would recognise it."""
    if isinstance(obj, torch.Tensor):
        return "torch.Tensor"
    cls = type(obj)
    if cls.__module__ in ("builtins", "__main__"):
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


def unravel(flat: int, shape) -> tuple[int, ...]:
    """Multi-dimensional index of a flat (row-major) position."""
    # Not torch.unravel_index: its first call imports sympy, seconds in a fresh kernel.
    index = []
    for size in reversed(tuple(shape)):
        flat, i = divmod(flat, size)
        index.append(i)
    return tuple(reversed(index))
