"""Course content: jupytext percent-format sources with nbgrader metadata, built to notebooks."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import jupytext
import nbformat

from .errors import CoursehubError
from .paths import REPO_ROOT

SOURCE_ROOT = REPO_ROOT / "course" / "source"
NBGRADER_KEYS = {"grade", "grade_id", "locked", "schema_version", "solution", "task"}
ASSIGNMENT_ID = re.compile(r"^[0-9]{2}_[a-z0-9_]+$")
# Written into every .ipynb so the text header stays minimal and round trips exactly.
_TEXT_FORMAT = "py:percent"


def list_assignments(source_root: Path = SOURCE_ROOT) -> list[str]:
    """Assignment ids (folder names) that hold a notebook source of the same name."""
    if not source_root.is_dir():
        raise CoursehubError(f"no course sources at {source_root} (set COURSEHUB_REPO?)")
    return sorted(p.name for p in source_root.iterdir() if (p / f"{p.name}.py").is_file())


def source_path(assignment_id: str, source_root: Path = SOURCE_ROOT) -> Path:
    if not ASSIGNMENT_ID.match(assignment_id):
        raise CoursehubError(
            f"invalid assignment id {assignment_id!r}: expected NN_name, e.g. 01_tensors"
        )
    path = source_root / assignment_id / f"{assignment_id}.py"
    if not path.is_file():
        known = ", ".join(list_assignments(source_root)) or "none"
        raise CoursehubError(f"unknown assignment {assignment_id!r} (known: {known})")
    return path


def read_source(path: Path) -> nbformat.NotebookNode:
    """Read a percent-format source and check its nbgrader metadata."""
    try:
        nb = jupytext.read(path, fmt=_TEXT_FORMAT)
    except Exception as exc:  # jupytext raises many types; the user needs the file name
        raise CoursehubError(f"{path}: cannot parse notebook source: {exc}") from exc
    nb.metadata.pop("jupytext", None)
    validate_nbgrader_metadata(nb, str(path))
    return nb


def validate_nbgrader_metadata(nb: nbformat.NotebookNode, where: str) -> None:
    """Raise CoursehubError for metadata nbgrader would reject or mis-grade."""
    seen: set[str] = set()
    graded = 0
    for index, cell in enumerate(nb.cells, start=1):
        meta = cell.metadata.get("nbgrader")
        if meta is None:
            continue
        missing = NBGRADER_KEYS - meta.keys()
        if missing:
            raise CoursehubError(
                f"{where}: cell {index}: nbgrader metadata lacks {sorted(missing)}"
            )
        grade_id = meta["grade_id"]
        if grade_id in seen:
            raise CoursehubError(f"{where}: cell {index}: duplicate grade_id {grade_id!r}")
        seen.add(grade_id)
        if meta["grade"]:
            graded += 1
            if not isinstance(meta.get("points"), int | float) or meta["points"] <= 0:
                raise CoursehubError(
                    f"{where}: cell {index} ({grade_id}): graded cell needs points > 0"
                )
        if (
            meta["solution"]
            and "### BEGIN SOLUTION" not in cell.source
            and cell.cell_type == "code"
        ):
            raise CoursehubError(
                f"{where}: cell {index} ({grade_id}): solution cell has no ### BEGIN SOLUTION"
            )
    if not graded:
        raise CoursehubError(f"{where}: no graded cells")


def total_points(nb: nbformat.NotebookNode) -> float:
    return sum(
        c.metadata["nbgrader"].get("points", 0)
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("grade")
    )


def to_ipynb_text(nb: nbformat.NotebookNode) -> str:
    return nbformat.writes(nb, version=4)


def to_source_text(nb: nbformat.NotebookNode) -> str:
    """The percent-format text for a notebook, as the course sources are written."""
    nb = nbformat.reads(nbformat.writes(nb), as_version=4)
    nb.metadata["jupytext"] = {"notebook_metadata_filter": "kernelspec,-all"}
    text = jupytext.writes(nb, fmt=_TEXT_FORMAT)
    return text


def build(assignment_id: str, course_dir: Path, source_root: Path = SOURCE_ROOT) -> Path:
    """Build one assignment into ``<course_dir>/source/<id>/`` and return the notebook path."""
    src = source_path(assignment_id, source_root)
    nb = read_source(src)
    dest = Path(course_dir) / "source" / assignment_id
    dest.mkdir(parents=True, exist_ok=True)
    for item in src.parent.iterdir():
        if item == src or item.name.startswith((".", "__pycache__")) or item.suffix == ".ipynb":
            continue
        target = dest / item.name
        if item.is_dir():
            shutil.copytree(item, target, dirs_exist_ok=True)
        else:
            shutil.copy2(item, target)
    out = dest / f"{assignment_id}.ipynb"
    tmp = out.with_suffix(".ipynb.tmp")
    tmp.write_text(to_ipynb_text(nb))
    tmp.replace(out)
    return out
