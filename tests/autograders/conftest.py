"""Fixtures for the autograders tests: failure capture and notebook-cell simulation."""

from __future__ import annotations

import itertools
import linecache
import sys
import textwrap
from pathlib import Path

import pytest

# Under plain `pytest`, tests/ is on sys.path (for the rootdir conftest) and this folder,
# tests/autograders/, would be imported as a namespace package shadowing the real one.
# A regular package anywhere on sys.path wins over namespace portions, so add the repo root.
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
if "autograders" in sys.modules and getattr(sys.modules["autograders"], "__file__", None) is None:
    del sys.modules["autograders"]  # a namespace package imported before this conftest ran

_cell_numbers = itertools.count(1)


@pytest.fixture
def failure():
    """Call a check that must fail; return its AssertionError message."""

    def run(check, *args, **kwargs) -> str:
        with pytest.raises(AssertionError) as info:
            check(*args, **kwargs)
        return str(info.value)

    return run


@pytest.fixture
def notebook_cell():
    """Run source as a notebook cell would: in __main__, registered in linecache like IPython."""
    added = []

    def run(source: str, namespace: dict | None = None) -> dict:
        source = textwrap.dedent(source)
        filename = f"/tmp/ipykernel_0/cell_{next(_cell_numbers)}.py"
        # IPython stores cells exactly like this, so inspect.getsource finds them.
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        added.append(filename)
        namespace = {"__name__": "__main__"} if namespace is None else namespace
        exec(compile(source, filename, "exec"), namespace)
        return namespace

    yield run
    for filename in added:
        linecache.cache.pop(filename, None)
