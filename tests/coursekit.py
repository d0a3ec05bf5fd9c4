"""Factories for throwaway nbgrader courses, shared by the content and grading tests."""

from __future__ import annotations

import copy
import grp
import os
import secrets
import shutil
import tempfile
from pathlib import Path

import nbformat
from coursehub import content
from coursehub.accounts import chown_tree, ensure_system_user
from coursehub.course import Course
from nbgrader.api import Gradebook


def shared_temp_dir(prefix: str) -> Path:
    """A temp folder other accounts can traverse (pytest's own is private to root)."""
    base = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    base.chmod(0o755)
    return base


class CourseKit:
    """A course directory in a temp folder: build sources, submit notebooks, autograde, score.

    With ``grader_user`` the course belongs to that system account and every nbgrader step
    runs as it, as in production (``root`` must then be traversable by it).
    """

    def __init__(
        self,
        root: Path,
        course_id: str = "pytorch101",
        cell_timeout: int = 120,
        grader_user: str | None = None,
    ):
        self.course = Course(
            course_id=course_id,
            root=root / "course",
            exchange_root=root / "exchange",
            cell_timeout=cell_timeout,
            grader_user=grader_user,
        )
        if grader_user:
            ensure_system_user(grader_user, self.course.root)
            self.course.exchange_root.mkdir(mode=0o755)
            self.course.exchange_root.chmod(0o1777)  # as setup.prepare makes it
        self.course.write_config()
        self._own(self.course.root)

    def _own(self, path: Path) -> None:
        if self.course.grader_user:
            chown_tree(path, self.course.grader_user)

    def build(self, assignment_id: str) -> nbformat.NotebookNode:
        """Build the source and generate the student version; return the solution notebook."""
        path = content.build(assignment_id, self.course.root)
        self._own(self.course.root / "source")
        self.course.run_nbgrader("db", "assignment", "add", assignment_id)
        self.course.run_nbgrader("generate_assignment", assignment_id, "--force")
        return nbformat.read(path, as_version=4)

    def release(self, assignment_id: str) -> Path:
        """Release to the exchange (as the grader); return the course's inbound folder."""
        self.course.run_nbgrader("release_assignment", assignment_id, "--force")
        return self.course.exchange_root / self.course.course_id / "inbound"

    def deliver(
        self, student: str, uid: int, assignment_id: str, nb: nbformat.NotebookNode, extra=None
    ) -> Path:
        """Put a submission in the exchange's inbound folder as ``nbgrader submit`` would.

        The folder is the student's (``uid``), group-readable by the grader; ``extra``
        (a callable taking the folder) then adds whatever the student chooses to put there.
        """
        stamp = "2026-11-22 09:00:00.000000 UTC"
        inbound = self.course.exchange_root / self.course.course_id / "inbound"
        folder = inbound / f"{student}+{assignment_id}+{stamp}"
        folder.mkdir()
        (folder / f"{assignment_id}.ipynb").write_text(nbformat.writes(nb))
        (folder / "timestamp.txt").write_text(stamp)
        (folder / "submission_secret.txt").write_text(secrets.token_hex(16))  # names feedback
        if extra:
            extra(folder)
        gid = grp.getgrnam(self.course.grader_user).gr_gid if self.course.grader_user else 0
        for path in [folder, *folder.rglob("*")]:
            os.chown(path, uid, gid, follow_symlinks=False)
            if not path.is_symlink():
                path.chmod(0o2770 if path.is_dir() else 0o660)
        with Gradebook(f"sqlite:///{self.course.gradebook}") as gb:
            gb.update_or_create_student(student)
        return folder

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
        return self.course.run_nbgrader(*args, check=check, offline=offline)

    def score(self, assignment_id: str, student: str) -> tuple[float, float]:
        return self.course.scores(assignment_id)[student]


def with_cell_source(nb: nbformat.NotebookNode, grade_id: str, source: str):
    """A copy of ``nb`` whose cell ``grade_id`` has new source (for planted wrong solutions)."""
    return with_cell_sources(nb, {grade_id: source})


def with_cell_sources(nb: nbformat.NotebookNode, sources: dict[str, str]):
    """A copy of ``nb`` with new sources for the cells named by grade_id."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in sources:
            cell.source = sources[grade_id]
    missing = set(sources) - {c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells}
    if missing:
        raise KeyError(f"no cell with grade_id {sorted(missing)}")
    return nb


def mistake_planter(assignment_id: str):
    """``plant(name, cell, (old, new), ...)``: a mutant that edits the reference solution cell.

    Mutants made this way follow the reference when it changes; an edit that no longer
    applies (its ``old`` text is not in the cell exactly once) fails loudly.
    """
    cells = {
        cell.metadata["nbgrader"]["grade_id"]: cell.source
        for cell in content.read_source(content.source_path(assignment_id)).cells
        if cell.metadata.get("nbgrader", {}).get("solution") and cell.cell_type == "code"
    }

    def plant(name: str, cell: str, *replacements: tuple[str, str]) -> dict:
        source = cells[cell]
        for old, new in replacements:
            assert source.count(old) == 1, f"mutant edit for {cell!r} does not apply: {old!r}"
            source = source.replace(old, new)
        return {"name": name, "cell": cell, "source": source}

    return plant


def task_groups(nb: nbformat.NotebookNode) -> dict[str, dict[str, list[str]]]:
    """The notebook's tasks: each run of solution cells with the test cells that follow it.

    Named after the task's first solution cell: {"solutions": [...], "tests": [...]}.
    """
    groups: dict[str, dict[str, list[str]]] = {}
    current = None
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("grade_id"):
            continue
        if meta.get("solution"):
            if current is None or groups[current]["tests"]:
                current = meta["grade_id"]
                groups[current] = {"solutions": [], "tests": []}
            groups[current]["solutions"].append(meta["grade_id"])
        elif meta.get("grade"):
            if current is None:
                raise ValueError(f"test cell {meta['grade_id']!r} comes before any solution")
            groups[current]["tests"].append(meta["grade_id"])
    empty = [task for task, g in groups.items() if not g["tests"]]
    if empty:
        raise ValueError(f"solution cells with no test cell after them: {empty}")
    return groups


def cell_scores(course, assignment_id: str, student: str) -> dict[str, tuple[float, float]]:
    """grade_id -> (score, max score) for every graded cell of one student's submission."""
    with Gradebook(f"sqlite:///{course.gradebook}") as gb:
        notebook = gb.find_submission_notebook(assignment_id, assignment_id, student)
        return {g.name: (g.score, g.max_score) for g in notebook.grades}


def corrupt(nb: nbformat.NotebookNode) -> str:
    """Invalid JSON with the notebook's content, as a half-saved file looks."""
    return nbformat.writes(nb)[:-20]


# A small graded class for the report and LMS export tests: who made which mistake is known.
CLASS_ASSIGNMENT = "00_math_foundations"
CLASS_DUE = "2026-11-22 12:00:00 UTC"
CLASS_LATE_STAMP = "2026-11-23 10:30:00.000000 UTC"  # 22.5 h after CLASS_DUE
# student -> (mutant name or None for the reference solution, whether submitted late)
CLASS_SUBMISSIONS = {
    "ada": (None, False),
    "ben": ("matmul_uses_at", False),
    "cai": ("matmul_no_shape_check", True),
    "dee": ("power_wrong_order", False),
    "eli": ("low_rank_no_sigma", False),
    "fay": ("chain_rule_missing_sigmoid_derivative", False),
    "gus": ("gd_wrong_sign", False),
    "hal": ("variance_biased", False),
    "jan": ("low_rank_off_by_one", False),  # eli's message with other numbers
}
CLASS_ABSENT = "ivy"  # enrolled, never submitted


def class_student_names(student: str) -> tuple[str, str, str]:
    """First name, last name and email recorded for a class student."""
    return student.capitalize(), f"{student.capitalize()}son", f"{student}@uni.example"


def graded_class(root: Path, mutants: list[dict], stream=None) -> CourseKit:
    """Build 00_math_foundations, submit CLASS_SUBMISSIONS and grade them in bwrap sandboxes.

    One fail-fast run: the reference fails nothing so runs in full; each mutant stops at
    its one failing task (the later test cells score 0 as "NotRun").
    """
    from coursehub.grading.parallel import GradingRun

    by_name = {m["name"]: m for m in mutants}
    kit = CourseKit(root)
    solution = kit.build(CLASS_ASSIGNMENT)
    with Gradebook(f"sqlite:///{kit.course.gradebook}") as gb:
        gb.update_or_create_assignment(CLASS_ASSIGNMENT, duedate=CLASS_DUE)
        for student in [*CLASS_SUBMISSIONS, CLASS_ABSENT]:
            first, last, email = class_student_names(student)
            gb.update_or_create_student(student, first_name=first, last_name=last, email=email)
    for student, (mutant, late) in CLASS_SUBMISSIONS.items():
        nb = solution
        if mutant:
            nb = with_cell_source(solution, by_name[mutant]["cell"], by_name[mutant]["source"])
        path = kit.submit(student, CLASS_ASSIGNMENT, nb)
        if late:
            (path.parent / "timestamp.txt").write_text(CLASS_LATE_STAMP)
    run = GradingRun(
        kit.course, CLASS_ASSIGNMENT, jobs=2, sandbox="bwrap", stream=stream, fail_fast=True
    )
    summary = run.grade()
    if summary.infra_failures or summary.nbgrader_failed:
        raise RuntimeError(f"grading the class failed: {summary.line()}")
    return kit


_graded_classes: dict[str, CourseKit] = {}


def class_mutants() -> list[dict]:
    """The planted wrong solutions of CLASS_ASSIGNMENT (tests/course/mutants)."""
    import importlib.util

    path = Path(__file__).parent / "course" / "mutants" / f"{CLASS_ASSIGNMENT}.py"
    spec = importlib.util.spec_from_file_location("class_mutants", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.MUTANTS


def shared_graded_class(tmp_path_factory) -> CourseKit:
    """graded_class once per pytest run: the report and the export tests read the same one."""
    if "kit" not in _graded_classes:
        _graded_classes["kit"] = graded_class(tmp_path_factory.mktemp("class"), class_mutants())
    return _graded_classes["kit"]


def cli_data_dir(kit: CourseKit, where: Path) -> Path:
    """A COURSEHUB_DATA_DIR whose default course (pytorch101) is ``kit``'s course."""
    courses = where / "data" / "courses"
    courses.mkdir(parents=True, exist_ok=True)
    link = courses / kit.course.course_id
    if not link.is_symlink():
        link.symlink_to(kit.course.root)
    return where / "data"
