"""Admission: the one place a submission's files enter the course.

Students write the exchange's inbound folder directly, so nothing there is trusted: not
names, not types, not sizes, not counts, and not that a path stays what it was between two
looks. Only regular files and folders are admitted. Every entry is looked at with
``lstat`` relative to its parent folder's descriptor and opened with ``O_NOFOLLOW``, then
checked again on the open descriptor, so a link is never followed and a swap between the
look and the open is caught. Refused: symbolic links, hard-linked files (a second name of
some other file), FIFOs, sockets, device files, names with control characters or that are
not UTF-8, and whatever passes the per-file, per-submission or file-count limits.

Used at collect (``admit_copy``: inbound -> submitted), before autograding
(``refuse_in_place`` on submitted/, for files placed there by other means), and where
files go into a sandbox (``walk``, via ``backends.iter_files``).
"""

from __future__ import annotations

import fnmatch
import os
import stat
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

MiB = 1 << 20
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: opening a FIFO swapped in after the lstat must not hang the grader.
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
KINDS = {
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
}


@dataclass(frozen=True)
class Limits:
    """What one submission may hold (the notebook and its supporting files)."""

    file_bytes: int = 64 * MiB
    total_bytes: int = 128 * MiB
    files: int = 1000
    depth: int = 16


@dataclass(frozen=True)
class Refusal:
    path: str  # relative to the submission folder, as the student named it
    reason: str

    def line(self) -> str:
        return f"{printable(self.path)}: {self.reason}"


@dataclass
class Entry:
    """One regular file that passed every check (its parent's descriptor stays open)."""

    rel: str
    dir_fd: int
    name: str
    size: int
    ino: tuple[int, int]


@dataclass
class Report:
    admitted: list[str] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    total_bytes: int = 0


def printable(name: str) -> str:
    """A name as it can be shown on one line: control characters and bad bytes escaped."""
    if name.isprintable() and _utf8(name):
        return name
    return ascii(name)[1:-1]


def _utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
        return True
    except UnicodeEncodeError:  # undecodable bytes arrive as lone surrogates
        return False


def name_problem(name: str) -> str | None:
    """Why a file name is refused, or None."""
    if name in ("", ".", "..") or "/" in name:
        return "not a plain file name"
    if not _utf8(name):
        return "the name is not valid UTF-8"
    if any(ord(c) < 32 or ord(c) == 127 or c in "\u2028\u2029" for c in name):
        return "the name holds control characters"
    return None


def file_problem(st: os.stat_result, limits: Limits, count: int, total: int) -> str | None:
    """Why a non-folder entry is refused, given the files and bytes admitted before it."""
    kind = stat.S_IFMT(st.st_mode)
    if kind != stat.S_IFREG:
        return KINDS.get(kind, "not a regular file or folder")
    if st.st_nlink > 1:
        return f"a hard link (the file has {st.st_nlink} names)"
    if st.st_size > limits.file_bytes:
        return f"{human(st.st_size)} is over the {human(limits.file_bytes)} per-file limit"
    if count >= limits.files:
        return f"over the limit of {limits.files} files per submission"
    if total + st.st_size > limits.total_bytes:
        return f"the submission would pass its {human(limits.total_bytes)} limit"
    return None


def folder_problem(depth: int, count: int, limits: Limits) -> str | None:
    if depth >= limits.depth:
        return f"folders nested deeper than {limits.depth} levels"
    if count >= limits.files:
        return f"over the limit of {limits.files} files per submission"
    return None


def _ignored(name: str, ignore: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatch(name, pattern) for pattern in ignore)


def walk(
    root: Path, limits: Limits = Limits(), ignore: tuple[str, ...] = ()
) -> Iterator[Entry | Refusal]:
    """Admitted files (``Entry``) and refusals, breadth first (top-level notebooks first).

    Names matching ``ignore`` (nbgrader's ``CourseDirectory.ignore``: checkpoints, caches)
    are skipped silently. An ``Entry`` is valid until the walk moves on: at most the root
    and one folder are open at a time, whatever the shape of the tree. Folders count
    against the file limit too.
    """
    try:
        root_fd = os.open(root, _DIR_FLAGS)
    except OSError as exc:
        yield Refusal(".", f"the submission is not a readable folder ({exc.strerror})")
        return
    root_st = os.fstat(root_fd)
    queue = deque([("", (root_st.st_dev, root_st.st_ino), 0)])
    count = total = 0
    try:
        while queue:
            rel_dir, ino, depth = queue.popleft()
            try:
                dir_fd = _open_dir(root_fd, rel_dir, ino)
            except OSError as exc:
                yield Refusal(rel_dir, f"cannot open the folder ({exc.strerror or exc})")
                continue
            try:
                prefix = rel_dir + "/" if rel_dir else ""
                for name in sorted(os.listdir(dir_fd)):
                    if _ignored(name, ignore):
                        continue
                    rel = prefix + name
                    why, st = name_problem(name), None
                    if why is None:
                        try:
                            st = os.lstat(name, dir_fd=dir_fd)
                        except OSError as exc:
                            why = f"vanished while being read ({exc.strerror})"
                    if why is None and stat.S_ISDIR(st.st_mode):
                        why = folder_problem(depth, count, limits)
                        if why is None:
                            count += 1
                            queue.append((rel, (st.st_dev, st.st_ino), depth + 1))
                            continue
                    elif why is None and stat.S_ISLNK(st.st_mode):
                        target = printable(os.readlink(name, dir_fd=dir_fd))[:120]
                        why = f"a symbolic link to '{target}' (links are never followed)"
                    elif why is None:
                        why = file_problem(st, limits, count, total)
                    if why:
                        yield Refusal(rel, why)
                        continue
                    count += 1
                    total += st.st_size
                    yield Entry(rel, dir_fd, name, st.st_size, (st.st_dev, st.st_ino))
            finally:
                if dir_fd != root_fd:
                    os.close(dir_fd)
    finally:
        os.close(root_fd)


def _open_dir(root_fd: int, rel_dir: str, ino: tuple[int, int]) -> int:
    """The folder ``rel_dir`` under ``root_fd``, reached through no link, as first seen."""
    if not rel_dir:
        return root_fd
    fd = root_fd
    for part in rel_dir.split("/"):
        child = os.open(part, _DIR_FLAGS, dir_fd=fd)
        if fd != root_fd:
            os.close(fd)
        fd = child
    st = os.fstat(fd)
    if (st.st_dev, st.st_ino) != ino:
        os.close(fd)
        raise OSError(0, "changed while being read")
    return fd


def open_entry(entry: Entry) -> int:
    """A read descriptor for an admitted file; OSError if it is no longer what was checked."""
    fd = os.open(entry.name, _FILE_FLAGS, dir_fd=entry.dir_fd)
    st = os.fstat(fd)
    if (
        not stat.S_ISREG(st.st_mode)
        or (st.st_dev, st.st_ino) != entry.ino
        or st.st_nlink > 1
        or st.st_size != entry.size
    ):
        os.close(fd)
        raise OSError(0, "changed while being read")
    os.set_blocking(fd, True)
    return fd


def read_entry(entry: Entry, chunk: int = MiB) -> Iterator[bytes]:
    """The file's bytes, at most ``entry.size`` of them (a file that grows is cut off)."""
    fd = open_entry(entry)
    try:
        left = entry.size
        while left > 0:
            data = os.read(fd, min(chunk, left))
            if not data:
                raise OSError(0, "shrank while being read")
            left -= len(data)
            yield data
    finally:
        os.close(fd)


def admit_copy(
    src: Path, dest: Path, limits: Limits = Limits(), ignore: tuple[str, ...] = ()
) -> Report:
    """Copy what is admitted from ``src`` to the new folder ``dest``; report the rest.

    ``dest`` must not exist. Its files are created with ``O_EXCL | O_NOFOLLOW`` under
    descriptors of folders made here, so nothing in ``src`` can redirect a write.
    """
    report = Report()
    dest = Path(dest)
    os.mkdir(dest, 0o755)
    made = {"": os.open(dest, _DIR_FLAGS)}
    try:
        for item in walk(Path(src), limits, ignore):
            if isinstance(item, Refusal):
                report.refused.append(item)
                continue
            parent = _dest_dir(made, item.rel.rpartition("/")[0])
            try:
                _copy_entry(item, parent)
            except OSError as exc:
                report.refused.append(Refusal(item.rel, exc.strerror or str(exc)))
                continue
            report.admitted.append(item.rel)
            report.total_bytes += item.size
    finally:
        for fd in made.values():
            os.close(fd)
    return report


def _dest_dir(made: dict[str, int], rel_dir: str) -> int:
    if rel_dir in made:
        return made[rel_dir]
    parent_rel, _, name = rel_dir.rpartition("/")
    parent = _dest_dir(made, parent_rel)
    os.mkdir(name, 0o755, dir_fd=parent)
    made[rel_dir] = os.open(name, _DIR_FLAGS, dir_fd=parent)
    return made[rel_dir]


def _copy_entry(entry: Entry, dest_dir: int) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    out = os.open(entry.name, flags, 0o644, dir_fd=dest_dir)
    try:
        for data in read_entry(entry):
            view = memoryview(data)
            while view:
                view = view[os.write(out, view) :]
    except OSError:
        os.close(out)
        os.unlink(entry.name, dir_fd=dest_dir)
        raise
    os.close(out)


def refuse_in_place(
    root: Path, quarantine: Path, limits: Limits = Limits(), ignore: tuple[str, ...] = ()
) -> list[Refusal]:
    """Move every entry of ``root`` that would be refused into ``quarantine``.

    For trees that should already be clean (submitted/): whatever is found is moved out
    (renamed, never opened) and listed in ``quarantine/REFUSED.txt``.
    """
    refused = [r for r in walk(Path(root), limits, ignore) if isinstance(r, Refusal)]
    if refused:
        quarantine_files(Path(root), refused, Path(quarantine))
    return refused


def quarantine_files(root: Path, refused: list[Refusal], quarantine: Path) -> None:
    """Rename refused entries (links, FIFOs, ... as they are) to ``quarantine/files/N``.

    Renaming never follows a link or opens a file, and each parent folder is opened with
    ``O_NOFOLLOW``, so a folder swapped for a link cannot redirect the move. What cannot
    be moved (e.g. a folder the student made unwritable) stays, and REFUSED.txt says so.
    """
    files = quarantine / "files"
    files.mkdir(parents=True, exist_ok=True, mode=0o700)
    quarantine.chmod(0o700)
    start = len(os.listdir(files))
    lines = []
    files_fd = os.open(files, _DIR_FLAGS)
    try:
        for number, refusal in enumerate(refused, start=start + 1):
            where = f"{number:05d}"
            if refusal.path != ".":
                try:
                    _rename_out(Path(root), refusal.path, files_fd, where)
                except OSError as exc:
                    where = f"left in place ({exc.strerror or exc})"
            lines.append(f"{where}\t{refusal.line()}\n")
    finally:
        os.close(files_fd)
    with open(quarantine / "REFUSED.txt", "a") as f:
        f.writelines(lines)


def _rename_out(root: Path, rel: str, dest_fd: int, dest_name: str) -> None:
    """Rename ``root/rel`` into ``dest_fd``, reaching it through no link at all."""
    fd = os.open(root, _DIR_FLAGS)
    try:
        *parents, name = rel.split("/")
        for part in parents:
            child = os.open(part, _DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = child
        os.rename(name, dest_name, src_dir_fd=fd, dst_dir_fd=dest_fd)
    finally:
        os.close(fd)


def reasons_path(course_root: Path, student: str, assignment_id: str) -> Path:
    """Where a student's refused files are explained (in the course folder, grader-only)."""
    return Path(course_root) / "quarantine" / student / assignment_id / "reasons.txt"


def write_reasons(path: Path, refused: list[Refusal]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(path, "a") as f:
        f.writelines(r.line() + "\n" for r in refused)


def read_reasons(path: Path, most: int = 20) -> list[str]:
    """The first ``most`` recorded reasons and a count of the rest (for feedback)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return []
    with os.fdopen(fd, errors="replace") as f:
        lines = f.read(4 * MiB).splitlines()
    if len(lines) > most:
        lines = [*lines[:most], f"... and {len(lines) - most} more"]
    return lines


def human(n: int) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", MiB), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} bytes"
