"""`coursehub restore`: a `coursehub backup` archive back into a stopped deployment."""

from __future__ import annotations

import itertools
import json
import os
import socket
import subprocess
import sys
import tarfile
from pathlib import Path

from coursehub.progress import Progress

from . import archive
from .accounts import ensure_system_user
from .backup import (
    FORMAT,
    GRADEBOOK,
    HOME_MOUNT,
    HUB_DB,
    MARKER,
    database_kind,
    docker,
    helper,
    helper_image,
    home_volume,
    homes,
    rename,
    say,
)
from .errors import CoursehubError
from .pgbackup import SECTION as DATABASES
from .pgbackup import Postgres, database_of
from .roster import USERNAME
from .settings import COURSE_ID, Settings

SECTIONS = ("hub", DATABASES, "courses", "exchange", "homes")


def refuse_running_hub(settings: Settings) -> None:
    """A hub writing its database while it is replaced would corrupt it: one line and stop."""
    if settings.mode == "docker":
        hub = f"{settings.name}-hub"
        state = docker("inspect", "--format", "{{.State.Running}}", hub)
        if state.returncode == 0 and state.stdout.strip() == "true":
            raise CoursehubError(
                f"the hub container {hub} is running: `docker compose stop hub`, then "
                "`docker compose run --rm -T hub coursehub restore - < BACKUP.tar`"
            )
        return
    with socket.socket() as probe:
        probe.settimeout(1)
        if probe.connect_ex(("127.0.0.1", settings.port)) == 0:
            raise CoursehubError(
                f"something answers on port {settings.port} (the hub?): stop it before restoring"
            )


def existing_state(settings: Settings, pg: Postgres | None) -> list[str]:
    """What a restore would replace, in words; empty for a fresh deployment."""
    found = []
    # The db service makes an empty jupyterhub database at its first start: not state.
    filled = pg.with_data() if pg is not None else []
    if filled:
        found.append(f"Postgres database(s) with tables: {', '.join(filled)}")
    if (settings.hub_dir / HUB_DB).exists():
        found.append("a hub database")
    books = list(settings.course_root.glob(f"*/{GRADEBOOK}"))
    if books:
        found.append(f"{len(books)} gradebook(s)")
    users = homes(settings) if settings.mode == "docker" or settings.home_root.is_dir() else []
    if users:
        found.append(f"{len(users)} home(s)")
    return found


def open_source(src: str):
    if src == "-":
        if sys.stdin.isatty():
            raise CoursehubError("restore - reads the archive from stdin: redirect it (< FILE)")
        return sys.stdin.buffer
    path = Path(src)
    if not path.is_file():
        raise CoursehubError(f"no backup archive at {path}")
    return open(path, "rb")  # noqa: SIM115 - closed by restore()


def restore(settings: Settings, src: str, force: bool = False) -> dict:
    """Restore ``src`` (a path or ``-``); the archive's manifest."""
    kind = database_kind(settings)
    refuse_running_hub(settings)
    pg = Postgres(settings) if kind == "postgres" else None
    if pg is not None:
        pg.require_running()
    found = existing_state(settings, pg)
    if found and not force:
        raise CoursehubError(
            f"{settings.data_dir} already holds a deployment ({', '.join(found)}): "
            "restore --force replaces it"
        )
    stream = open_source(src)
    try:
        with tarfile.open(fileobj=stream, mode="r|*") as tar:
            return Restore(settings, tar, force, pg).run()
    except tarfile.TarError as exc:
        raise CoursehubError(f"{src} is not a readable tar archive: {exc}") from None
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()


class Restore:
    """One pass over the archive: the data folder first, then (docker) each home volume."""

    def __init__(self, settings: Settings, tar: tarfile.TarFile, force: bool, pg: Postgres | None):
        self.settings, self.tar, self.force, self.pg = settings, tar, force, pg
        self.members = iter(tar)
        self.manifest: dict | None = None
        self.held: tarfile.TarInfo | None = None
        self.graders_made = False
        self.bar: Progress | None = None
        self.current = ""

    def run(self) -> dict:
        first = next(self.members, None)
        if first is None or first.name != MARKER:
            raise CoursehubError(f"not a coursehub backup: it does not start with {MARKER}")
        marker = json.loads(self.tar.extractfile(first).read())
        if marker.get("format") != FORMAT:
            raise CoursehubError(
                f"backup format {marker.get('format')!r} is not the one this coursehub reads "
                f"({FORMAT}); restore with coursehub {marker.get('coursehub_version', '?')}"
            )
        kind = marker.get("database", "sqlite")  # archives from before Postgres: SQLite
        if kind != self.settings.database:
            raise CoursehubError(
                f"this backup's hub database is {kind} but this deployment has "
                f"COURSEHUB_DATABASE={self.settings.database}: set it to {kind} in .env "
                "(users and grades are not converted)"
            )
        self.prepare_folders()
        with Progress(stream=sys.stderr) as self.bar:
            archive.unpack(self.tar, str(self.settings.data_dir), self.data_members(), say)
            self.step("")
            if self.held is not None:
                self.restore_volumes()
        if self.manifest is None:
            raise CoursehubError(
                "the archive ends before its manifest.json: it is truncated; what it held "
                "is restored, the rest is missing"
            )
        return self.manifest

    def prepare_folders(self) -> None:
        s = self.settings
        folders = [s.hub_dir, s.course_root, s.exchange_root]
        folders += [s.home_root] if s.mode == "local" else []
        for folder in folders:
            folder.mkdir(parents=True, exist_ok=True)
            if self.force:
                archive.clear(str(folder))  # may be a mount point: emptied, not removed

    def step(self, key: str) -> None:
        """Progress: one item each time the archive moves on to the next part."""
        if key != self.current:
            if self.current:
                self.bar.item(self.current, "restored")
            self.current = key
            if key:
                self.bar.start(key)

    def data_members(self):
        """Members for the data folder, renamed to their place in it; stops at docker homes."""
        for member in self.members:
            if member.name == "manifest.json":
                self.manifest = json.loads(self.tar.extractfile(member).read())
                continue
            parts = member.name.split("/")
            if parts[0] not in SECTIONS:
                say(f"not restored {archive.printable(member.name)}: not part of a backup")
                continue
            if parts[0] == DATABASES:
                self.restore_database(member)
                continue
            if parts[0] == "homes" and self.settings.mode == "docker":
                if len(parts) == 1:
                    continue  # volumes, not a folder, in docker mode
                self.held = member
                return
            self.step("/".join(parts[:2]) if parts[0] in ("courses", "homes") else parts[0])
            if parts[0] == "courses" and len(parts) == 2:
                self.grader_for(parts[1], member)
            if parts[0] == "homes":
                home = self.settings.home_root.relative_to(self.settings.data_dir)
                member.name = rename(member.name, "homes", str(home))
                if member.islnk():
                    member.linkname = rename(member.linkname, "homes", str(home))
            yield member

    def restore_database(self, member: tarfile.TarInfo) -> None:
        """One ``databases/<db>.pgdump`` through pg_restore into a new, empty ``<db>``."""
        database = database_of(member.name) if member.isreg() else None
        if database is None or self.pg is None:
            if member.name != DATABASES:
                say(f"not restored {archive.printable(member.name)}: not a coursehub database")
            return
        self.step(DATABASES)
        self.pg.restore(database, self.tar.extractfile(member))
        self.bar.note(f"{database}: restored")

    def grader_for(self, course: str, member: tarfile.TarInfo) -> None:
        """Grader accounts exist before their files land, so ownership follows their names."""
        if not (member.uname.startswith("grader-") and os.geteuid() == 0):
            return
        if not self.graders_made:  # the configured courses first, in the hub's own order
            for configured in self.settings.courses:
                folder = self.settings.course_dir(configured)
                ensure_system_user(self.settings.grader_user(configured), folder)
            self.graders_made = True
        if COURSE_ID.match(course):
            ensure_system_user(member.uname, self.settings.course_dir(course))

    def restore_volumes(self) -> None:
        """Each ``homes/<user>/`` into the volume the deployment mounts for that user."""
        image = helper_image(self.settings)
        user, proc, out = "", None, None
        for member in itertools.chain([self.held], self.members):
            if member.name == "manifest.json":
                self.manifest = json.loads(self.tar.extractfile(member).read())
                continue
            parts = member.name.split("/")
            if parts[0] != "homes" or len(parts) < 2 or not USERNAME.match(parts[1]):
                say(f"not restored {archive.printable(member.name)}: not a home")
                continue
            if parts[1] != user:
                self.finish_volume(user, proc, out)
                user = parts[1]
                self.step(f"homes/{user}")
                proc, out = self.open_volume(image, home_volume(self.settings, user))
            member.name = rename(member.name, f"homes/{user}", ".")
            if member.islnk():
                member.linkname = rename(member.linkname, f"homes/{user}", ".")
            out.addfile(member, self.tar.extractfile(member) if member.isreg() else None)
        self.finish_volume(user, proc, out)
        self.step("")

    def open_volume(self, image: str, volume: str):
        made = docker("volume", "create", volume)
        if made.returncode != 0:
            raise CoursehubError(f"cannot create volume {volume}: {made.stderr.strip()}")
        args = ["unpack", HOME_MOUNT, *(["--clear"] if self.force else [])]
        proc = subprocess.Popen(helper(image, volume, *args, write=True), stdin=subprocess.PIPE)
        return proc, tarfile.open(fileobj=proc.stdin, mode="w|", format=tarfile.PAX_FORMAT)

    @staticmethod
    def finish_volume(user: str, proc, out) -> None:
        if proc is None:
            return
        out.close()
        proc.stdin.close()
        if proc.wait() != 0:
            raise CoursehubError(f"writing {user}'s home volume failed (exit {proc.returncode})")
