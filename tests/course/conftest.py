"""A per-assignment timing table at the end of the course tests (the CI log keeps it)."""

from __future__ import annotations

import pytest

TIMINGS = pytest.StashKey[dict]()


@pytest.fixture(scope="session")
def course_timings(pytestconfig) -> dict:
    """assignment id -> {"reference_s", "mutants", "notebooks", "wall_s"} (the grading fixture)."""
    return pytestconfig.stash.setdefault(TIMINGS, {})


def pytest_terminal_summary(terminalreporter, config):
    rows = config.stash.get(TIMINGS, {})
    if not rows:
        return
    write = terminalreporter.write_line
    write("")
    write("course assignments (graded under the test load: two at once, two sandboxes each)")
    head = ("reference s", 11), ("mutants", 8), ("notebooks", 10), ("graded in s", 12)
    write(f"{'assignment':<22} " + " ".join(f"{name:>{width}}" for name, width in head))
    for name, row in sorted(rows.items()):
        write(
            f"{name:<22} {row['reference_s']:11.1f} {row['mutants']:8d} {row['notebooks']:10d} "
            f"{row['wall_s']:12.1f}"
        )
    total = {k: sum(r[k] for r in rows.values()) for k in ("mutants", "notebooks")}
    write(f"{'total':<22} {'':>11} {total['mutants']:8d} {total['notebooks']:10d}")
