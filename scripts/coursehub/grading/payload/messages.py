"""What the executor and the trusted side agree on: limits, events, cell kinds, messages.

Runs on both sides of the sandbox wall, so it needs the standard library only.
"""

from __future__ import annotations

import ast
import json
import os
import time

MiB = 1024 * 1024
EVENT_PREFIX = ""  # JSON lines; one object per line

# The job always names its cell timeout (the deployment's setting); these are the rest.
DEFAULTS = {
    "output_limit": 1 * MiB,  # output kept per cell (more is dropped, with a note)
    "total_output_limit": 8 * MiB,  # output kept for the whole notebook
    "output_hard_limit": 64 * MiB,  # output received per cell before the cell is stopped
    "startup_timeout": 120,
    "iopub_grace": 15,
    "probe": True,
    "max_payload": 256 * MiB,
}


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

STOP_MESSAGES = {
    "timeout": ("TimeLimitExceeded", "time limit of {limit} exceeded; the sandbox was stopped"),
    "oom": ("MemoryLimitExceeded", "memory limit of {memory} exceeded; the kernel was killed"),
    "died": ("KernelDied", "{detail}"),
    "unresponsive": ("TimeLimitExceeded", "{detail}"),
    "sandbox": ("SandboxDied", "{detail}"),
    "refused": ("NotGraded", "{detail}"),
    "failfast": ("NotRun", "{detail}; fail-fast grading runs nothing after it"),
}


def has_error(cell) -> bool:
    return any(o.get("output_type") == "error" for o in cell.get("outputs", []))


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
