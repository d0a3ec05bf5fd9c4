"""A per-assignment timing table at the end of the course tests (the CI log keeps it)."""

from __future__ import annotations

import pytest

TIMINGS = pytest.StashKey[dict]()


@pytest.fixture(scope="session")
def course_timings(pytestconfig) -> dict:
    """assignment id -> {"reference_s", "mutants", "wall_s"}, filled by the grading fixture."""
    return pytestconfig.stash.setdefault(TIMINGS, {})


def pytest_terminal_summary(terminalreporter, config):
    rows = config.stash.get(TIMINGS, {})
    if not rows:
        return
    write = terminalreporter.write_line
    write("")
    write("course assignments (graded under the test load: full run and mutants at once)")
    write(f"{'assignment':<22} {'reference s':>11} {'mutants':>8} {'graded in s':>12}")
    for name, row in sorted(rows.items()):
        write(f"{name:<22} {row['reference_s']:11.1f} {row['mutants']:8d} {row['wall_s']:12.1f}")
    write(
        f"{'total':<22} {'':>11} {sum(r['mutants'] for r in rows.values()):8d} "
        f"{sum(r['wall_s'] for r in rows.values()):12.1f}"
    )
