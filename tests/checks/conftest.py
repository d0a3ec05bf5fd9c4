"""Fixtures for the tests of the checks (autograders): failures and notebook-cell simulation."""

from __future__ import annotations

import itertools
import linecache
import textwrap

import pytest

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
