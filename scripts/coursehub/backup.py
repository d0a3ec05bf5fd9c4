"""`coursehub backup` and `coursehub restore`: the whole deployment as one tar stream.

Layout: ``coursehub-backup`` (format marker, first), ``hub/`` (database dumped, cookie
secret, CLI token, GPU assignments), ``databases/<db>.pgdump`` (Postgres only: the hub's and
each gradebook's pg_dump), ``courses/<course>/`` (SQLite gradebooks dumped), ``exchange/``,
``homes/<user>/`` and ``manifest.json`` (last: a truncated archive has none). Databases are
dumped through their own consistent-copy mechanism while the hub runs; every tree goes
through ``archive.pack``, which never follows a link. In docker mode the homes are volumes
the hub does not mount: a short-lived container from the hub's own image reads (or
writes) one volume at a time, with no network and only the capabilities that needs.
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

from coursehub.progress import Progress

from . import archive
from .errors import CoursehubError
from .pgbackup import Postgres, member_name
from .roster import USERNAME
from .settings import COURSE_ID, Settings

FORMAT = 1
MARKER = "coursehub-backup"
HUB_DB = "jupyterhub.sqlite"
GRADEBOOK = "gradebook.db"
COMPRESSIONS = {"none": "", "gz": "gz", "xz": "xz"}
HOME_MOUNT = "/coursehub-home"


def say(line: str) -> None:
    """Everything goes to stderr: stdout may be the archive itself."""
    print(f"coursehub: {line}", file=sys.stderr, flush=True)


# --- databases: SQLite files here, Postgres in the db service (pgbackup.py) -----------


def dump_sqlite(source: Path, target: Path) -> None:
    """SQLite's online backup API: one consistent snapshot while others write."""
    with (
        closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=60)) as src,
        closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst)


KINDS = ("sqlite", "postgres")


def database_kind(settings: Settings) -> str:
    """The hub database's kind, or one line saying backup cannot handle it."""
    kind = settings.database
    if kind not in KINDS:
        raise CoursehubError(
            f"COURSEHUB_DATABASE={kind}: backup and restore handle {' and '.join(KINDS)} only"
        )
    return kind


# --- where things are ----------------------------------------------------------------


def deployment_name(settings: Settings) -> str:
    return settings.name


def docker(*args: str, **kwargs) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["docker", *args], capture_output=True, text=True, **kwargs)
    except FileNotFoundError:
        raise CoursehubError("the docker command is not installed here") from None


def home_volume(settings: Settings, user: str) -> str:
    return f"{deployment_name(settings)}-home-{user}"


def homes(settings: Settings) -> list[str]:
    """Users with a home: folders under the home root (local), home volumes (docker)."""
    if settings.mode == "local":
        root = settings.home_root
        return sorted(p.name for p in root.iterdir() if p.is_dir() and USERNAME.match(p.name))
    prefix = home_volume(settings, "")
    listed = docker("volume", "ls", "--format", "{{.Name}}", "--filter", f"name={prefix}")
    if listed.returncode != 0:
        raise CoursehubError(f"cannot list Docker volumes: {listed.stderr.strip()}")
    names = [v[len(prefix) :] for v in listed.stdout.split() if v.startswith(prefix)]
    return sorted(n for n in names if USERNAME.match(n))


def helper_image(settings: Settings) -> str:
    """The image this hub runs from (so the helper runs this very code), else the default."""
    me = os.environ.get("HOSTNAME", "")
    found = docker("inspect", "--format", "{{.Image}}", me) if me else None
    if found and found.returncode == 0 and found.stdout.strip():
        return found.stdout.strip()
    return settings.hub_image


def helper(image: str, volume: str, *args: str, write: bool = False) -> list[str]:
    """``docker run`` of the archive helper on one volume: no network, minimal capabilities."""
    # Reading needs to pass the students' private modes; writing needs to create files in
    # their folders and hand them back to their uids: nothing else.
    caps = ("CHOWN", "DAC_OVERRIDE", "FOWNER") if write else ("DAC_READ_SEARCH",)
    mount = f"type=volume,src={volume},dst={HOME_MOUNT}" + ("" if write else ",readonly")
    return [
        "docker", "run", "--rm", "-i", "--network", "none", "--read-only",
        "--user", "0:0", "--cap-drop", "ALL",
        *(arg for cap in caps for arg in ("--cap-add", cap)),
        "--security-opt", "no-new-privileges", "--memory", "512m", "--pids-limit", "64",
        "--log-driver", "none", "--mount", mount, "--entrypoint", "python", image,
        "-m", "coursehub.archive", *args,
    ]  # fmt: skip


# --- backup --------------------------------------------------------------------------


def open_target(dest: str, compress: str | None):
    """(binary stream, tar mode, path being written or None); refused before any work."""
    if compress is None:
        suffixes = "".join(Path(dest).suffixes[-2:]) if dest != "-" else ""
        compress = "gz" if suffixes.endswith((".gz", ".tgz")) else "none"
        compress = "xz" if suffixes.endswith(".xz") else compress
    mode = "w|" + COMPRESSIONS[compress]
    if dest == "-":
        if sys.stdout.isatty():
            raise CoursehubError("refusing to write an archive to a terminal: redirect stdout")
        return sys.stdout.buffer, mode, None
    path = Path(dest).resolve()
    if not path.parent.is_dir():
        raise CoursehubError(f"cannot write {path}: folder {path.parent} does not exist")
    if path.is_dir():
        raise CoursehubError(f"cannot write {path}: it is a folder (give a file name)")
    partial = path.with_name(path.name + ".partial")
    return open(partial, "wb"), mode, path  # noqa: SIM115 - closed by backup()


def add_bytes(tar: tarfile.TarFile, name: str, data: bytes, like: os.stat_result | None) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(datetime.now(UTC).timestamp()), 0o600
    if like is not None:
        info.mode, info.uid, info.gid = like.st_mode & 0o7777, like.st_uid, like.st_gid
        info.uname, info.gname = archive.owner_names(like, named=True)
        info.mtime = int(like.st_mtime)
    tar.addfile(info, io.BytesIO(data))


def add_dump(tar, source: Path, name: str, tmp: Path) -> int:
    """Dump SQLite ``source`` consistently and store it as ``name`` with the original's owner."""
    dumped = tmp / "dump"
    dumped.unlink(missing_ok=True)
    dump_sqlite(source, dumped)
    data = dumped.read_bytes()
    add_bytes(tar, name, data, source.stat())
    return len(data)


def is_db_file(rel: str, base: str) -> bool:
    """The live database and its journals: stored as a dump instead."""
    return rel in (base, f"{base}-journal", f"{base}-wal", f"{base}-shm")


def add_postgres(tar, pg: Postgres, databases: list[str], tmp: Path, bar: Progress) -> int:
    """Each database's ``pg_dump -Fc`` as ``databases/<db>.pgdump``; bytes stored."""
    bar.start("databases")
    stored = 0
    for database in databases:
        dumped = tmp / "dump.pgdump"
        size = pg.dump(database, dumped)
        info = tarfile.TarInfo(member_name(database))
        info.size, info.mode = size, 0o600
        info.mtime = int(datetime.now(UTC).timestamp())
        with open(dumped, "rb") as data:
            tar.addfile(info, data)
        stored += size
    bar.item("databases", f"pg_dump of {', '.join(databases)}, {human(stored)}")
    return stored


def hub_users(db: Path) -> tuple[list[str], list[str]]:
    """(students, staff) from the dumped hub database."""
    if not db.is_file():
        return [], []
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        rows = conn.execute("SELECT name, admin FROM users ORDER BY name").fetchall()
    return [n for n, admin in rows if not admin], [n for n, admin in rows if admin]


def backup(settings: Settings, dest: str, compress: str | None = None) -> dict:
    """Write the archive; the manifest it ends with."""
    kind = database_kind(settings)
    pg = Postgres(settings) if kind == "postgres" else None
    databases = pg.to_back_up() if pg is not None else []
    if pg is None and not (settings.hub_dir / HUB_DB).is_file():
        raise CoursehubError(f"nothing to back up: no hub database in {settings.hub_dir}")
    users_with_homes = homes(settings)
    courses = sorted(
        p.name for p in settings.course_root.glob("*") if p.is_dir() and COURSE_ID.match(p.name)
    )
    for folder in (settings.course_root, settings.exchange_root):
        if not folder.is_dir():
            raise CoursehubError(
                f"{folder} is missing: is {settings.data_dir} a coursehub data dir?"
            )
    stream, mode, path = open_target(dest, compress)
    manifest = {
        "format": FORMAT,
        "coursehub_version": version(),
        "mode": settings.mode,
        "database": kind,
        "name": deployment_name(settings),
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "courses": courses,
        "homes": users_with_homes,
        "databases": databases,
        "sizes": {},
    }
    sizes = manifest["sizes"]
    steps = 3 + len(courses) + len(users_with_homes) + (pg is not None)  # marker step: hub
    try:
        with (
            tempfile.TemporaryDirectory(prefix="coursehub-backup-") as tmp,
            tarfile.open(fileobj=stream, mode=mode, format=tarfile.PAX_FORMAT) as tar,
            Progress(stream=sys.stderr, expected=steps) as bar,
        ):
            keys = ("format", "coursehub_version", "mode", "database", "created")
            marker = {k: manifest[k] for k in keys}
            add_bytes(tar, MARKER, json.dumps(marker).encode() + b"\n", None)
            bar.start("hub")
            stored = archive.pack(
                tar, str(settings.hub_dir), "hub", bar.note,
                lambda rel: is_db_file(rel, HUB_DB) or rel.endswith(".pid"), named=True,
            )  # fmt: skip
            if pg is None:
                stored += add_dump(tar, settings.hub_dir / HUB_DB, f"hub/{HUB_DB}", Path(tmp))
                manifest["students"], manifest["admins"] = hub_users(Path(tmp) / "dump")
            else:
                manifest["students"], manifest["admins"] = pg.users()
            sizes["hub"] = stored
            bar.item("hub", f"{'sqlite database dumped, ' if pg is None else ''}{human(stored)}")
            if pg is not None:
                sizes["databases"] = add_postgres(tar, pg, databases, Path(tmp), bar)
            sizes["courses"] = pack_courses(tar, settings, courses, Path(tmp), bar)
            bar.start("exchange")
            sizes["exchange"] = archive.pack(
                tar, str(settings.exchange_root), "exchange", bar.note, named=True
            )
            bar.item("exchange", human(sizes["exchange"]))
            sizes["homes"] = pack_homes(tar, settings, users_with_homes, bar)
            sizes["total"] = sizes["hub"] + sizes.get("databases", 0) + sizes["courses"]
            sizes["total"] += sizes["exchange"]
            sizes["total"] += sum(sizes["homes"].values())
            add_bytes(tar, "manifest.json", json.dumps(manifest, indent=1).encode(), None)
            bar.item("manifest", f"{human(sizes['total'])} of files in all")
        stream.flush()
    except BaseException:
        if path is not None:
            stream.close()
            Path(stream.name).unlink(missing_ok=True)
        raise
    if path is not None:
        stream.close()
        os.chmod(stream.name, 0o600)  # hub secrets and every student's work
        os.replace(stream.name, path)
    return manifest


def pack_courses(tar, settings: Settings, courses, tmp: Path, bar: Progress) -> int:
    root = settings.course_root
    top = root.stat()
    info = archive.tarinfo("courses", top, tarfile.DIRTYPE, named=True)
    tar.addfile(info)
    total = 0
    for course in courses:
        bar.start(course)
        folder = root / course
        stored = archive.pack(
            tar, str(folder), f"courses/{course}", bar.note,
            lambda rel: is_db_file(rel, GRADEBOOK), named=True,
        )  # fmt: skip
        what = "no gradebook"
        if (folder / GRADEBOOK).is_file():
            # A SQLite gradebook (with Postgres they are databases/gradebook_<course>).
            stored += add_dump(tar, folder / GRADEBOOK, f"courses/{course}/{GRADEBOOK}", tmp)
            what = "gradebook dumped"
        total += stored
        bar.item(course, f"{what}, {human(stored)}")
    return total


def pack_homes(tar, settings: Settings, users: list[str], bar: Progress) -> dict[str, int]:
    sizes = {}
    if settings.mode == "local":
        tar.addfile(archive.tarinfo("homes", settings.home_root.stat(), tarfile.DIRTYPE, True))
    else:
        info = tarfile.TarInfo("homes")
        info.type, info.mode = tarfile.DIRTYPE, 0o755
        tar.addfile(info)
    image = helper_image(settings) if settings.mode == "docker" and users else ""
    for user in users:
        bar.start(user)
        if settings.mode == "local":
            sizes[user] = archive.pack(
                tar, str(settings.home_root / user), f"homes/{user}", bar.note
            )
        else:
            sizes[user] = copy_volume(tar, image, home_volume(settings, user), f"homes/{user}")
        bar.item(user, f"home, {human(sizes[user])}")
    return sizes


def copy_volume(tar: tarfile.TarFile, image: str, volume: str, arcname: str) -> int:
    """Stream one volume's tar from the helper into ``tar`` under ``arcname``."""
    proc = subprocess.Popen(
        helper(image, volume, "pack", HOME_MOUNT, arcname),
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    stored = 0
    try:
        with tarfile.open(fileobj=proc.stdout, mode="r|") as inner:
            for member in inner:
                rename(member.name, arcname, arcname)  # only what belongs there
                if member.islnk():
                    rename(member.linkname, arcname, arcname)
                data = inner.extractfile(member) if member.isreg() else None
                tar.addfile(member, data)
                stored += member.size if member.isreg() else 0
    except tarfile.TarError as exc:
        proc.kill()
        raise CoursehubError(f"reading volume {volume} failed: {exc}") from None
    finally:
        proc.stdout.close()
    if proc.wait() != 0:
        raise CoursehubError(f"reading volume {volume} failed (helper exit {proc.returncode})")
    return stored


def rename(name: str, old: str, new: str) -> str:
    """``old/x`` -> ``new/x``; anything not under ``old`` is a broken archive."""
    if name == old:
        return new
    if not name.startswith(old + "/"):
        raise CoursehubError(f"unexpected entry {name!r} outside {old!r} in the archive")
    return new + name[len(old) :]


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as package_version

    try:
        return package_version("coursehub")
    except PackageNotFoundError:
        return "unknown"


def human(size: int) -> str:
    from .status import human as status_human

    return status_human(size)
