"""Per-student CUDA memory cap for notebook kernels.

The hub sets ``COURSEHUB_CUDA_MEMORY_FRACTION`` (a number with 0 < f <= 1) in each student
container so that several students can share one GPU. Every IPython kernel in the student
image runs a startup file (``<venv>/etc/ipython/startup/00-coursehub-cuda-memory-cap.py``)
that calls :func:`apply`, which calls ``torch.cuda.set_per_process_memory_fraction(f, dev)``
for every visible device -- only when the variable is set and CUDA is available.

- unset or empty: nothing happens (torch is not even imported, kernels start fast);
- invalid value: one warning line, no cap;
- no CUDA (CPU-only host, no GPU passed to the container): no cap, no message.

This is a cooperative cap for PyTorch's caching allocator: it bounds what a kernel's torch
allocates, not other CUDA users, and a student can raise it again from their own code.

``python -m cuda_memory_cap`` prints what the hook would do in the current environment.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Mapping
from typing import TextIO

ENV_VAR = "COURSEHUB_CUDA_MEMORY_FRACTION"


def parse_fraction(raw: str | None) -> float | None:
    """Return the fraction in ``raw``; None when unset/blank; ValueError when invalid."""
    if raw is None or not raw.strip():
        return None
    try:
        value = float(raw.strip())
    except ValueError:
        raise ValueError(f"{raw!r} is not a number") from None
    if not math.isfinite(value) or not 0.0 < value <= 1.0:
        raise ValueError(f"{raw!r} is not in the range 0 < f <= 1")
    return value


def _warn(message: str, stream: TextIO | None) -> None:
    line = f"coursehub: WARNING: {message}"
    if stream is not None:
        print(line, file=stream, flush=True)
        return
    # In a Jupyter kernel sys.stderr is the notebook's stream; sys.__stderr__ is the
    # server/container log, where an admin looks. Write to both when they differ.
    print(line, file=sys.stderr, flush=True)
    if sys.__stderr__ is not None and sys.__stderr__ is not sys.stderr:
        print(line, file=sys.__stderr__, flush=True)


def apply(environ: Mapping[str, str] | None = None, stream: TextIO | None = None) -> float | None:
    """Apply the cap from ``environ`` (default ``os.environ``).

    Returns the fraction applied, or None when nothing was applied.
    Never raises: a hook that breaks kernel start-up would be worse than no cap.
    """
    env = os.environ if environ is None else environ
    raw = env.get(ENV_VAR)
    try:
        fraction = parse_fraction(raw)
    except ValueError as exc:
        _warn(
            f"ignoring {ENV_VAR}: {exc}; expected a number with 0 < f <= 1 (no GPU memory cap)",
            stream,
        )
        return None
    if fraction is None:
        return None
    try:
        import torch
    except ImportError:
        return None
    try:
        if not torch.cuda.is_available():
            return None
        count = max(1, int(torch.cuda.device_count()))
        for device in range(count):
            torch.cuda.set_per_process_memory_fraction(fraction, device)
    except Exception as exc:  # a driver problem must not stop the kernel
        _warn(f"could not apply {ENV_VAR}={raw}: {exc}", stream)
        return None
    return fraction


def main(argv: list[str] | None = None) -> int:
    raw = os.environ.get(ENV_VAR)
    try:
        fraction = parse_fraction(raw)
    except ValueError as exc:
        print(f"{ENV_VAR}: invalid ({exc}); kernels start without a cap")
        return 2
    if fraction is None:
        print(f"{ENV_VAR}: unset; kernels start without a GPU memory cap")
        return 0
    applied = apply(stream=sys.stdout)
    if applied is None:
        print(f"{ENV_VAR}={fraction}: CUDA not available here; nothing to cap")
    else:
        print(f"{ENV_VAR}={fraction}: cap applied to every visible CUDA device")
    return 0


if __name__ == "__main__":
    sys.exit(main())
