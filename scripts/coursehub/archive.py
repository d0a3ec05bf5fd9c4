"""Folder trees into and out of tar streams without ever following a link.

Student homes and the exchange hold whatever students made there: links (to
``/etc/shadow``, to another home), FIFOs, device files, names with newlines or bad bytes.
Packing opens every entry relative to its parent's descriptor with ``O_NOFOLLOW`` and
checks the descriptor is the entry it listed, so a link is stored as a link and never
read through, a FIFO as a FIFO (never opened), and devices and sockets are skipped with a
reason. Unpacking accepts only those kinds, under the destination, never through a link
it made itself, and is meant for an empty destination.

Also the helper that docker mode runs in a short-lived container on one student volume:
``python -m coursehub.archive pack DIR NAME`` (tar on stdout) or ``unpack DIR`` (tar on stdin).
"""

from __future__ import annotations

import io
import os
import stat
import sys
import tarfile
from collections.abc import Callable, Iterator

from coursehub.grading.admission import printable

OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
# tarfile only falls back to the numeric id when the name is unknown here: ownership by
# name only for the accounts a host re-creates with new ids (graders), numbers otherwise.
NAMED_OWNERS = ("root", "grader-")
# Python 3.12+ warns without a filter; our own checks below do its job.
EXTRACT_ARGS = {"filter": "fully_trusted"} if hasattr(tarfile, "fully_trusted_filter") else {}


class Exact(io.RawIOBase):
    """Exactly ``size`` bytes of ``fd``: zeros if the file shrank while being read."""

    def __init__(self, fd: int, size: int):
        self.fd, self.left, self.short = fd, size, False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        want = min(len(buffer), self.left)
        if want == 0:
            return 0
        data = os.read(self.fd, want)
        if not data:
            self.short = True
            data = bytes(want)
        buffer[: len(data)] = data
        self.left -= len(data)
        return len(data)


def owner_names(st: os.stat_result, named: bool) -> tuple[str, str]:
    """(uname, gname) to store: empty (so numbers win on restore) unless a named account."""
    if not named:
        return "", ""
    import grp
    import pwd

    try:
        user = pwd.getpwuid(st.st_uid).pw_name
        group = grp.getgrgid(st.st_gid).gr_name
    except KeyError:
        return "", ""
    keep = user.startswith(NAMED_OWNERS) or user == "root"
    return (user, group) if keep else ("", "")


def tarinfo(name: str, st: os.stat_result, kind: bytes, named: bool) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = stat.S_IMODE(st.st_mode)
    info.uid, info.gid = st.st_uid, st.st_gid
    info.uname, info.gname = owner_names(st, named)
    info.mtime = int(st.st_mtime)
    info.size = st.st_size if kind == tarfile.REGTYPE else 0
    return info


def pack(
    tar: tarfile.TarFile,
    root: str,
    arcname: str,
    say: Callable[[str], None],
    skip: Callable[[str], bool] = lambda rel: False,
    named: bool = False,
) -> int:
    """Add ``root`` as ``arcname`` to ``tar``; bytes of file data stored.

    ``skip(rel)`` leaves out entries by their path under ``root`` (files stored otherwise,
    such as databases dumped separately); ``say`` gets a line per entry left out.
    """
    top = os.open(root, OPEN_FLAGS | os.O_DIRECTORY)
    try:
        st = os.fstat(top)
        tar.addfile(tarinfo(arcname, st, tarfile.DIRTYPE, named))
        return _pack_dir(tar, top, arcname, "", say, skip, named, {})
    finally:
        os.close(top)


def _pack_dir(tar, dfd, arcname, rel, say, skip, named, seen) -> int:
    stored = 0
    for name in sorted(os.listdir(dfd)):
        path = f"{rel}/{name}" if rel else name
        member = f"{arcname}/{name}"
        if skip(path):
            continue
        try:
            st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
        except FileNotFoundError:
            continue  # removed since listed
        mode = st.st_mode
        if stat.S_ISLNK(mode):
            info = tarinfo(member, st, tarfile.SYMTYPE, named)
            info.linkname = os.readlink(name, dir_fd=dfd)
            tar.addfile(info)
        elif stat.S_ISFIFO(mode):
            tar.addfile(tarinfo(member, st, tarfile.FIFOTYPE, named))
        elif stat.S_ISDIR(mode) or stat.S_ISREG(mode):
            stored += pack_entry(tar, dfd, name, st, member, path, say, skip, named, seen)
        else:
            kind = "a socket" if stat.S_ISSOCK(mode) else "a device file"
            say(f"skipped {printable(member)}: {kind} (not stored)")
    return stored


def pack_entry(tar, dfd, name, st, member, path, say, skip, named, seen) -> int:
    """One listed folder or file, opened without following links and only if still the same."""
    try:
        flags = OPEN_FLAGS | (os.O_DIRECTORY if stat.S_ISDIR(st.st_mode) else 0)
        fd = os.open(name, flags, dir_fd=dfd)
    except OSError as exc:  # swapped for a link or a FIFO since listed, or unreadable
        say(f"skipped {printable(member)}: {exc.strerror} (changed while being read?)")
        return 0
    try:
        now = os.fstat(fd)
        if (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino):
            say(f"skipped {printable(member)}: replaced while being read")
            return 0
        if stat.S_ISDIR(now.st_mode):
            tar.addfile(tarinfo(member, now, tarfile.DIRTYPE, named))
            return _pack_dir(tar, fd, member, path, say, skip, named, seen)
        key = (now.st_dev, now.st_ino)
        if now.st_nlink > 1 and key in seen:
            info = tarinfo(member, now, tarfile.LNKTYPE, named)
            info.linkname = seen[key]
            tar.addfile(info)
            return 0
        if now.st_nlink > 1:
            seen[key] = member
        info = tarinfo(member, now, tarfile.REGTYPE, named)
        data = Exact(fd, info.size)
        tar.addfile(info, io.BufferedReader(data))
        if data.short:
            say(f"{printable(member)}: shrank while being read (padded with zeros)")
        return info.size
    finally:
        os.close(fd)


def checked(tar: tarfile.TarFile, members: Iterator[tarfile.TarInfo], say) -> Iterator:
    """The members safe to extract into an empty folder; a line to ``say`` for each other."""
    links: set[str] = set()
    files: set[str] = set()
    allowed = (tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE)
    allowed += (tarfile.LNKTYPE, tarfile.FIFOTYPE)
    for member in members:
        parts = member.name.split("/")
        prefixes = {"/".join(parts[:i]) for i in range(1, len(parts))}
        why = ""
        if member.name.startswith("/") or ".." in parts or "" in parts:
            why = "not a plain relative path"
        elif member.type not in allowed:
            why = "not a file, folder, link or FIFO"
        elif prefixes & links or member.name in links | files:
            why = "would be written through a link or over an entry"
        elif member.islnk() and member.linkname not in files:
            why = "hard link to nothing stored before it"
        if why:
            say(f"not restored {printable(member.name)}: {why}")
            continue
        if member.issym():
            links.add(member.name)
        elif member.isreg() or member.islnk():
            files.add(member.name)
        yield member


def unpack(tar: tarfile.TarFile, dest: str, members: Iterator | None = None, say=print) -> None:
    """Extract ``members`` (default: all of ``tar``) into ``dest``, owners and modes kept."""
    tar.extractall(dest, members=checked(tar, members or tar, say), **EXTRACT_ARGS)


def clear(folder: str) -> None:
    """Remove everything inside ``folder`` (which may be a mount point), links not followed."""
    import shutil

    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)


def main(argv: list[str]) -> int:
    """The docker-mode helper: ``pack DIR NAME`` to stdout, ``unpack DIR [--clear]`` from stdin."""
    say = lambda line: print(f"coursehub: {line}", file=sys.stderr, flush=True)  # noqa: E731
    if argv[:1] == ["pack"] and len(argv) == 3:
        with tarfile.open(fileobj=sys.stdout.buffer, mode="w|", format=tarfile.PAX_FORMAT) as tar:
            pack(tar, argv[1], argv[2], say)
        return 0
    if argv[:1] == ["unpack"] and len(argv) in (2, 3):
        if argv[2:] == ["--clear"]:
            clear(argv[1])
        with tarfile.open(fileobj=sys.stdin.buffer, mode="r|") as tar:
            unpack(tar, argv[1], say=say)
        return 0
    say("usage: python -m coursehub.archive pack DIR NAME | unpack DIR [--clear]")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
