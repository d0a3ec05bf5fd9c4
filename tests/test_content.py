"""Course sources: percent-format .py with nbgrader metadata, built to notebooks losslessly."""

from __future__ import annotations

import nbformat
import pytest
from coursehub import content
from coursehub.errors import CoursehubError

ASSIGNMENTS = content.list_assignments()


@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_source_to_notebook_round_trip_is_lossless(assignment_id):
    path = content.source_path(assignment_id)
    nb = content.read_source(path)
    rebuilt = nbformat.reads(content.to_ipynb_text(nb), as_version=4)
    assert content.to_source_text(rebuilt) == path.read_text()


@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_built_notebook_carries_nbgrader_metadata_and_points(assignment_id, tmp_path):
    out = content.build(assignment_id, tmp_path)
    nb = nbformat.read(out, as_version=4)
    nbformat.validate(nb)
    graded = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert graded and content.total_points(nb) > 0
    assert nb.metadata["kernelspec"]["name"] == "python3"


def write_source(tmp_path, cells: str):
    folder = tmp_path / "source" / "09_x"
    folder.mkdir(parents=True)
    header = (
        "# ---\n# jupyter:\n#   kernelspec:\n#     display_name: Python 3\n"
        "#     language: python\n#     name: python3\n# ---\n\n"
    )
    (folder / "09_x.py").write_text(header + cells)
    return tmp_path / "source"


def test_duplicate_grade_id_is_refused(tmp_path):
    meta = (
        '{"grade": true, "grade_id": "t", "locked": true, "points": 1, '
        '"schema_version": 3, "solution": false, "task": false}'
    )
    root = write_source(
        tmp_path, f"# %% nbgrader={meta}\nassert True\n\n# %% nbgrader={meta}\nassert True\n"
    )
    with pytest.raises(CoursehubError, match="duplicate grade_id 't'"):
        content.build("09_x", tmp_path / "course", source_root=root)


def test_incomplete_nbgrader_metadata_is_refused(tmp_path):
    root = write_source(
        tmp_path, '# %% nbgrader={"grade": true, "grade_id": "t", "points": 1}\nassert True\n'
    )
    with pytest.raises(CoursehubError, match="lacks"):
        content.build("09_x", tmp_path / "course", source_root=root)
    assert not (tmp_path / "course").exists()


def test_notebook_without_graded_cells_is_refused(tmp_path):
    root = write_source(tmp_path, "# %%\nx = 1\n")
    with pytest.raises(CoursehubError, match="no graded cells"):
        content.build("09_x", tmp_path / "course", source_root=root)
