"""Notebooks and cells for tests, as plain dicts with nbgrader's metadata as it writes it."""

from __future__ import annotations


def notebook(*cells: dict) -> dict:
    """An nbformat 4 notebook of ``cells`` on the python3 kernel."""
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
        "cells": list(cells),
    }


def code_cell(source: str, nbgrader: dict | None = None) -> dict:
    """A code cell not yet run; ``nbgrader`` is its nbgrader metadata, if any."""
    return {
        "cell_type": "code",
        "source": source,
        "metadata": {"nbgrader": nbgrader} if nbgrader else {},
        "outputs": [],
        "execution_count": None,
    }


def _nbgrader(grade_id: str, grade: bool, solution: bool, locked: bool, points=None) -> dict:
    meta = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "solution": solution,
        "schema_version": 3,
    }
    if points is not None:
        meta["points"] = points
    return meta


def test_cell(source: str, grade_id: str, points: float = 1) -> dict:
    """An autograder test cell: locked, graded, worth ``points``."""
    return code_cell(source, _nbgrader(grade_id, True, False, True, points))


test_cell.__test__ = False  # a factory, not a test, wherever a test module imports it


def solution_cell(source: str, grade_id: str) -> dict:
    """A cell the student answers in."""
    return code_cell(source, _nbgrader(grade_id, False, True, False))


def locked_cell(source: str, grade_id: str) -> dict:
    """A read-only instructor cell (imports, setup)."""
    return code_cell(source, _nbgrader(grade_id, False, False, True))
