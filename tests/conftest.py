"""Shared pytest fixtures: factories for nbgrader courses."""

from __future__ import annotations

import pytest
from coursekit import CourseKit


@pytest.fixture
def make_course(tmp_path_factory):
    """Factory: a fresh throwaway nbgrader course directory per call."""

    def factory(**kwargs) -> CourseKit:
        return CourseKit(tmp_path_factory.mktemp("course"), **kwargs)

    return factory
