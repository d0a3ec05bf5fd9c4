"""Per-assignment runtime of the reference solutions, executed as nbgrader would (offline).

    .venv/bin/python benchmarks/assignments.py [ASSIGNMENT...]

Builds each assignment's source notebook (the reference solution), executes it once with
nbclient in a fresh kernel with NBGRADER_EXECUTION set (as autograding does), and prints
wall time per assignment against the 60 s budget. Run it on an otherwise idle machine.
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from coursehub import content  # noqa: E402

BUDGET_S = 60.0


def run(assignment_id: str) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        path = content.build(assignment_id, Path(tmp))
        nb = nbformat.read(path, as_version=4)
        os.environ["NBGRADER_EXECUTION"] = "autograde"
        client = NotebookClient(
            nb,
            timeout=600,
            kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
        )
        started = time.perf_counter()
        client.execute()
        elapsed = time.perf_counter() - started
    errors = sum(
        1
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.output_type == "error"
    )
    return elapsed, errors


def main(argv: list[str]) -> int:
    ids = argv or content.list_assignments()
    print(
        f"reference solutions, {os.cpu_count()} cores ({platform.machine()}),"
        f" budget {BUDGET_S:.0f} s"
    )
    print(f"{'assignment':<22} {'seconds':>8}  {'errors':>6}  verdict")
    worst = 0.0
    for assignment_id in ids:
        seconds, errors = run(assignment_id)
        worst = max(worst, seconds)
        verdict = (
            "ok" if seconds <= BUDGET_S and not errors else "OVER" if errors == 0 else "ERRORS"
        )
        print(f"{assignment_id:<22} {seconds:8.1f}  {errors:6d}  {verdict}", flush=True)
    print(f"slowest: {worst:.1f} s ({worst / BUDGET_S:.0%} of the budget)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
