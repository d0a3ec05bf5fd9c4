"""Submissions that attack with their files, not their code: links, special files, names, sizes.

Each is delivered into the exchange's inbound folder, as a student can write it directly,
and reaches the course only through ``coursehub collect``. The notebook is the reference
solution with a first cell that prints every file the sandbox received (so anything that
leaked would land in the feedback); it must still earn full marks, since only the refused
files are dropped. Canaries mark what must never leak: the gradebook, the instructor's
source notebook, another student's submission, and /etc/shadow.
"""

from __future__ import annotations

import os
import textwrap
from dataclasses import dataclass
from pathlib import Path

from attacks import ASSIGNMENT, FIRST_TASK, cell_source
from coursekit import with_cell_source

CANARY_GRADEBOOK = "CANARY-GRADEBOOK-5f1c"
CANARY_SOURCE = "CANARY-SOURCE-8e2a"
CANARY_VICTIM = "CANARY-VICTIM-93d7"
SHADOW = "/etc/shadow"

PRINT_EVERYTHING = """
import os
for _top, _dirs, _files in os.walk("."):
    _dirs[:] = [d for d in _dirs if d != "many"]
    for _name in _files:
        _path = os.path.join(_top, _name)
        if not _path.endswith(".ipynb"):
            try:
                print("RECEIVED", repr(_path), open(_path, "rb").read(300))
            except OSError as _exc:
                print("UNREADABLE", repr(_path), _exc)
"""


@dataclass
class Places:
    """What an attacker aims at: paths on the grader's side."""

    gradebook: Path
    source_notebook: Path
    victim_submission: Path  # the victim's collected notebook
    victim_inbound: Path  # the victim's folder in the exchange


@dataclass
class FileAttack:
    name: str
    plant: object  # (folder, places) -> None: adds entries to the inbound folder
    reasons: tuple[str, ...]  # each must be in `collect`'s output and the feedback


def probing_notebook(solution):
    source = textwrap.dedent(PRINT_EVERYTHING).strip() + "\n\n" + cell_source(solution, FIRST_TASK)
    return with_cell_source(solution, FIRST_TASK, source)


def _link(target, at: Path) -> None:
    at.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, at)


def absolute_links(folder: Path, p: Places) -> None:
    _link(p.gradebook, folder / "gradebook.db")
    _link(SHADOW, folder / "shadow.txt")


def relative_link_to_source(folder: Path, p: Places) -> None:
    _link(os.path.relpath(p.source_notebook, folder), folder / "solution.ipynb.txt")


def link_to_other_student(folder: Path, p: Places) -> None:
    _link(p.victim_submission, folder / "victim.txt")
    _link(os.path.relpath(p.victim_inbound / f"{ASSIGNMENT}.ipynb", folder), folder / "peer.txt")


def dangling_link(folder: Path, p: Places) -> None:
    _link("/nonexistent/coursehub/file", folder / "gone.txt")


def link_to_directory(folder: Path, p: Places) -> None:
    _link(p.source_notebook.parent, folder / "instructor")


def link_in_subfolder(folder: Path, p: Places) -> None:
    (folder / "data" / "deep").mkdir(parents=True)
    (folder / "data" / "kept.txt").write_text("an honest data file\n")
    _link(p.gradebook, folder / "data" / "deep" / "grades.csv")


def hard_link(folder: Path, p: Places) -> None:
    os.link(p.gradebook, folder / "hard.db")


def fifo(folder: Path, p: Places) -> None:
    os.mkfifo(folder / "pipe")


def hostile_name(folder: Path, p: Places) -> None:
    (folder / "evil\n\x1b[2J$(id)\x07.txt").write_text("x")
    (folder / os.fsdecode(b"latin1-\xe9.txt")).write_text("x")


def many_files(folder: Path, p: Places) -> None:
    many = folder / "many"
    many.mkdir()
    for i in range(10_000):
        (many / f"{i:05d}.txt").write_text("x")


def sparse_file(folder: Path, p: Places) -> None:
    with open(folder / "big.bin", "wb") as f:
        f.truncate(2 << 30)


FILE_ATTACKS = [
    FileAttack("file-absolute-links", absolute_links, ("symbolic link to",)),
    FileAttack("file-relative-link", relative_link_to_source, ("symbolic link to",)),
    FileAttack("file-link-to-peer", link_to_other_student, ("symbolic link to",)),
    FileAttack("file-dangling-link", dangling_link, ("symbolic link to",)),
    FileAttack("file-link-to-folder", link_to_directory, ("symbolic link to",)),
    FileAttack("file-link-in-subfolder", link_in_subfolder, ("data/deep/grades.csv",)),
    FileAttack("file-hard-link", hard_link, ("hard link",)),
    FileAttack("file-fifo", fifo, ("fifo",)),
    FileAttack("file-hostile-name", hostile_name, ("control characters", "not valid utf-8")),
    FileAttack("file-many", many_files, ("files per submission",)),
    FileAttack("file-sparse-2gb", sparse_file, ("per-file limit",)),
]
