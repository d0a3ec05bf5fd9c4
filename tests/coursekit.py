"""Factories for throwaway nbgrader courses, shared by the content and grading tests."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import nbformat
from coursehub import content
from coursehub.course import Course
from nbgrader.api import Gradebook


class CourseKit:
    """A course directory in a temp folder: build sources, submit notebooks, autograde, score."""

    def __init__(self, root: Path, course_id: str = "pytorch101", cell_timeout: int = 120):
        self.course = Course(
            course_id=course_id,
            root=root / "course",
            exchange_root=root / "exchange",
            cell_timeout=cell_timeout,
        )
        self.course.write_config()

    def build(self, assignment_id: str) -> nbformat.NotebookNode:
        """Build the source and generate the student version; return the solution notebook."""
        path = content.build(assignment_id, self.course.root)
        self.course.nbgrader("db", "assignment", "add", assignment_id)
        self.course.nbgrader("generate_assignment", assignment_id, "--force")
        return nbformat.read(path, as_version=4)

    def released(self, assignment_id: str) -> nbformat.NotebookNode:
        path = self.course.root / "release" / assignment_id / f"{assignment_id}.ipynb"
        return nbformat.read(path, as_version=4)

    def submit(self, student: str, assignment_id: str, nb: nbformat.NotebookNode | str) -> Path:
        """Place a submission as nbgrader collect would (text = raw file contents)."""
        folder = self.course.root / "submitted" / student / assignment_id
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        release = self.course.root / "release" / assignment_id
        for item in release.iterdir():
            if item.suffix != ".ipynb":
                (shutil.copytree if item.is_dir() else shutil.copy2)(item, folder / item.name)
        path = folder / f"{assignment_id}.ipynb"
        path.write_text(nb if isinstance(nb, str) else nbformat.writes(nb))
        (folder / "timestamp.txt").write_text("2026-11-22 09:00:00.000000 UTC")
        # In-process: `nbgrader db student add` costs 1.7 s of interpreter start per call.
        with Gradebook(f"sqlite:///{self.course.gradebook}") as gb:
            gb.update_or_create_student(student)
        return path

    def autograde(self, assignment_id: str, student: str | None = None, check=True, offline=False):
        args = ["autograde", assignment_id, "--force"]
        if student:
            args.append(f"--student={student}")
        return self.course.nbgrader(*args, check=check, offline=offline)

    def score(self, assignment_id: str, student: str) -> tuple[float, float]:
        return self.course.scores(assignment_id)[student]


def with_cell_source(nb: nbformat.NotebookNode, grade_id: str, source: str):
    """A copy of ``nb`` whose cell ``grade_id`` has new source (for planted wrong solutions)."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            cell.source = source
            return nb
    raise KeyError(f"no cell with grade_id {grade_id!r}")


def corrupt(nb: nbformat.NotebookNode) -> str:
    """Invalid JSON with the notebook's content, as a half-saved file looks."""
    return nbformat.writes(nb)[:-20]
