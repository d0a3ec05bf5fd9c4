"""`coursehub backup` / `restore` on a temporary local-mode data folder (no hub, no docker)."""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import sqlite3
import stat
import subprocess
import sys
import tarfile
import time
from contextlib import closing
from pathlib import Path

import pytest
from coursehub.cli import main
from hubkit import REPO, free_port_block

COURSE = "bkunit"
STUDENT_UID = 20001
WEIRD = os.fsdecode(b"we\nird \xff -name")
SKIPPED = {"hub/proxy.pid", "home/alice/tty0", "home/alice/sock"}


def make_db(path: Path, sql: str) -> None:
    with closing(sqlite3.connect(path)) as db:
        db.executescript(sql)
        db.commit()


def make_data(root: Path) -> Path:
    """A data folder as `coursehub local` leaves it after a graded class, plus a hostile home."""
    data = root / "data"
    hub, course, home = data / "hub", data / "courses" / COURSE, data / "home" / "alice"
    for folder in (hub, course / "source" / "a", data / "exchange" / COURSE / "outbound" / "a"):
        folder.mkdir(parents=True)
    make_db(
        hub / "jupyterhub.sqlite",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, admin BOOLEAN);"
        "INSERT INTO users VALUES (1, 'admin', 1), (2, 'alice', 0), (3, 'bob', 0);",
    )
    (hub / "jupyterhub_cookie_secret").write_bytes(os.urandom(32))
    (hub / "proxy.pid").write_text("123")
    make_db(
        course / "gradebook.db",
        "CREATE TABLE grade (student TEXT, score REAL); INSERT INTO grade VALUES ('alice', 17);",
    )
    (course / "source" / "a" / "a.ipynb").write_text("{}")
    (data / "exchange" / COURSE / "outbound" / "a" / "a.ipynb").write_text("{}")
    (data / "exchange").chmod(0o1777)
    home.mkdir(parents=True)
    (home / "notes.txt").write_text("my own notes\n")
    (home / "private").mkdir(mode=0o500)
    os.link(home / "notes.txt", home / "notes-again.txt")
    (home / "passwd").symlink_to("/etc/passwd")
    (home / "etc").symlink_to("/etc")
    (home / WEIRD).write_text("hard to name\n")
    os.mkfifo(home / "pipe")
    os.mknod(home / "tty0", stat.S_IFCHR | 0o600, os.makedev(5, 0))
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(home / "sock"))
    for path in [home, *home.iterdir()]:
        os.chown(path, STUDENT_UID, STUDENT_UID, follow_symlinks=False)
    home.chmod(0o700)
    (home / "private").chmod(0o500)
    return data


def tree(data: Path) -> dict[str, tuple]:
    """Every entry under ``data``: kind, mode, owner and content or link target."""
    seen = {}
    for folder, dirs, files in os.walk(data):
        for name in dirs + files:
            path = Path(folder, name)
            st = path.lstat()
            if stat.S_ISREG(st.st_mode) and not name.endswith(("sqlite", ".db")):
                what = path.read_bytes()
            elif stat.S_ISLNK(st.st_mode):
                what = os.readlink(path)
            else:
                what = None
            rel = str(path.relative_to(data))
            seen[rel] = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_uid, what)
    return seen


def rows(db: Path, sql: str) -> list:
    with closing(sqlite3.connect(db)) as conn:
        return conn.execute(sql).fetchall()


@pytest.fixture
def env(tmp_path, monkeypatch):
    """Settings for a local deployment in ``tmp_path``, for in-process and child CLIs alike."""
    knobs = {
        "COURSEHUB_MODE": "local",
        "COURSEHUB_DATA_DIR": str(tmp_path / "data"),
        "COURSEHUB_ENV_FILE": str(tmp_path / "no.env"),
        "COURSEHUB_COURSES": COURSE,
        "COURSEHUB_PORT": str(free_port_block(2)),
    }
    for key, value in knobs.items():
        monkeypatch.setenv(key, value)
    return {**os.environ, **knobs}


def coursehub(env, *args, **kwargs) -> subprocess.CompletedProcess:
    """The CLI as its own process (for DEST/SRC ``-``: the archive on stdout/stdin)."""
    kwargs.setdefault("stdout", subprocess.PIPE)
    return subprocess.run(
        [sys.executable, "-m", "coursehub", *args],
        env=env,
        cwd=REPO,
        stderr=subprocess.PIPE,
        timeout=120,
        **kwargs,
    )


@pytest.fixture
def cli(env, capsys):
    """The CLI in this process (fast): (exit status, stderr)."""

    def run(*args: str) -> tuple[int, str]:
        capsys.readouterr()
        status = main(list(args))
        return status, capsys.readouterr().err

    return run


@pytest.fixture
def archived(tmp_path, cli):
    """The data folder, its tree before the backup, the archive and the backup's stderr."""
    data = make_data(tmp_path)
    before = tree(data)
    target = tmp_path / "class.tar"
    status, err = cli("backup", str(target))
    assert status == 0, err
    return data, before, target, err


def test_round_trip_restores_every_file_owner_mode_and_database(tmp_path, env):
    """Through stdout and stdin, as `docker exec ... backup - > FILE` does."""
    data = make_data(tmp_path)
    before = tree(data)
    target = tmp_path / "class.tar"
    with open(target, "wb") as out:
        made = coursehub(env, "backup", "-", stdout=out)
    assert made.returncode == 0, made.stderr.decode()
    shutil.rmtree(data)
    with open(target, "rb") as archive:
        back = coursehub(env, "restore", "-", stdin=archive)
    assert back.returncode == 0, back.stderr.decode()
    assert "start the hub now: sudo .venv/bin/coursehub local" in back.stderr.decode()
    expected = {k: v for k, v in before.items() if k not in SKIPPED}
    assert tree(data) == expected
    assert rows(data / "courses" / COURSE / "gradebook.db", "SELECT * FROM grade") == [
        ("alice", 17.0)
    ]
    assert len(rows(data / "hub" / "jupyterhub.sqlite", "SELECT * FROM users")) == 3
    notes = data / "home" / "alice" / "notes.txt"
    assert notes.stat().st_ino == (notes.parent / "notes-again.txt").stat().st_ino
    with tarfile.open(target) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
    assert manifest["courses"] == [COURSE] and manifest["homes"] == ["alice"]
    assert manifest["students"] == ["alice", "bob"] and manifest["mode"] == "local"
    assert manifest["database"] == "sqlite" and manifest["databases"] == []
    assert manifest["sizes"]["homes"]["alice"] == len("my own notes\n") + len("hard to name\n")
    print(f"archive: {target.stat().st_size} bytes; manifest sizes {manifest['sizes']}")


def test_restore_refuses_existing_state_without_force(cli, archived):
    data, before, target, _ = archived
    (data / "home" / "alice" / "after-backup.txt").write_text("new")
    status, err = cli("restore", str(target))
    lines = err.strip().splitlines()
    assert status == 1 and len(lines) == 1, lines
    assert "already holds a deployment (a hub database, 1 gradebook(s), 1 home(s))" in lines[0]
    assert "--force" in lines[0]
    assert (data / "home" / "alice" / "after-backup.txt").exists()
    status, err = cli("restore", "--force", str(target))
    assert status == 0, err
    assert not (data / "home" / "alice" / "after-backup.txt").exists()
    assert tree(data) == {k: v for k, v in before.items() if k not in SKIPPED}


def test_home_links_fifos_and_devices_are_stored_as_what_they_are(archived):
    _, _, target, log = archived
    with tarfile.open(target) as tar:
        members = {m.name: m for m in tar.getmembers()}
        data = b"".join(tar.extractfile(m).read() for m in members.values() if m.isreg())
    home = "homes/alice"
    assert members[f"{home}/passwd"].issym()
    assert members[f"{home}/passwd"].linkname == "/etc/passwd"
    assert members[f"{home}/etc"].issym() and not any(n.startswith(f"{home}/etc/") for n in members)
    assert b"root:x:0:0" not in data  # no link was read through
    assert members[f"{home}/pipe"].isfifo()
    assert members[f"{home}/{WEIRD}"].isreg() and members[f"{home}/{WEIRD}"].uid == STUDENT_UID
    assert f"{home}/tty0" not in members and f"{home}/sock" not in members
    assert "homes/alice/tty0: a device file (not stored)" in log
    assert "homes/alice/sock: a socket (not stored)" in log
    assert "hub/proxy.pid" not in members and "hub/jupyterhub.sqlite" in members


def test_database_written_during_backup_is_dumped_consistently(tmp_path, cli):
    data = make_data(tmp_path)
    db = data / "hub" / "jupyterhub.sqlite"
    # Every transaction rewrites every row: a copy of the file mid-transaction holds two
    # values of v (or is corrupt); the dump must hold one.
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert writer.stdout.readline().strip() == "writing"
        target = tmp_path / "busy.tar"
        started = time.monotonic()
        status, err = cli("backup", str(target))
        print(f"backup of a busy database: {time.monotonic() - started:.1f} s")
        assert status == 0, err
        during = rows(db, "SELECT max(v) FROM t")[0][0]
    finally:
        writer.kill()
        writer.wait()
    with tarfile.open(target) as tar:
        tar.extract("hub/jupyterhub.sqlite", tmp_path / "out")
    copy = tmp_path / "out" / "hub" / "jupyterhub.sqlite"
    assert rows(copy, "PRAGMA integrity_check") == [("ok",)]
    values = rows(copy, "SELECT DISTINCT v FROM t")
    print(f"v in the dump: {values}; after the backup: {during}")
    assert len(values) == 1 and 0 < values[0][0] < during, (values, during)


WRITER = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], timeout=60, isolation_level=None)
db.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v INTEGER, pad BLOB)")
db.execute("BEGIN")
db.executemany("INSERT INTO t VALUES (?, 0, randomblob(3000))", ((k,) for k in range(2000)))
db.execute("COMMIT")
# A small page cache spills the update into the file before COMMIT: most of the time the
# file holds a half-written transaction (its old pages in the journal), as in a busy hub.
db.execute("PRAGMA cache_size = 20")
print("writing", flush=True)
while True:
    db.execute("BEGIN")
    db.execute("UPDATE t SET v = v + 1")
    time.sleep(0.3)
    db.execute("COMMIT")
    time.sleep(0.05)
"""


def test_truncated_and_foreign_archives_are_refused_in_one_line(tmp_path, cli, archived):
    data, _, target, _ = archived
    cut = tmp_path / "cut.tar"
    cut.write_bytes(target.read_bytes()[: target.stat().st_size // 2])
    shutil.rmtree(data)
    status, err = cli("restore", str(cut))
    assert status == 1 and ("truncated" in err or "not a readable tar" in err), err
    assert err.count("error:") == 1
    foreign = tmp_path / "foreign.tar"
    with tarfile.open(foreign, "w") as tar:
        tar.add(REPO / "README.md", "README.md")
    shutil.rmtree(data)
    status, err = cli("restore", str(foreign))
    assert status == 1
    assert err.strip() == (
        "coursehub: error: not a coursehub backup: it does not start with coursehub-backup"
    )


def test_postgres_without_its_db_container_is_refused_in_one_line(tmp_path, cli, monkeypatch):
    make_data(tmp_path)
    # Postgres is a docker-mode setting; the refusal comes before anything is read.
    monkeypatch.setenv("COURSEHUB_MODE", "docker")
    monkeypatch.setenv("COURSEHUB_NAME", f"chunit{os.getpid()}")  # no such deployment
    monkeypatch.setenv("COURSEHUB_DATABASE", "postgres")
    monkeypatch.setenv("COURSEHUB_DB_PASSWORD", "unused-here")
    expected = (
        f"the database container chunit{os.getpid()}-db is not running: "
        "start it: docker compose --profile postgres up -d db"
        if shutil.which("docker")
        else "the docker command is not installed here"
    )
    status, err = cli("backup", str(tmp_path / "x.tar"))
    assert status == 1 and err.count("\n") == 1
    assert err.strip().endswith(expected), err
    assert not (tmp_path / "x.tar").exists() and not (tmp_path / "x.tar.partial").exists()
    status, err = cli("restore", str(tmp_path / "x.tar"))
    assert status == 1 and err.count("\n") == 1 and err.strip().endswith(expected), err


def test_postgres_dump_member_names_take_only_coursehub_databases():
    from coursehub.pgbackup import database_of, member_name, user_rows

    for db in ("jupyterhub", f"gradebook_{COURSE}", "gradebook_py2"):
        assert member_name(db) == f"databases/{db}.pgdump"
        assert database_of(member_name(db)) == db
    # An archive must never drop and replace the server's own databases, nor reach outside.
    for hostile in (
        "databases/postgres.pgdump",
        "databases/template1.pgdump",
        "databases/gradebook_.pgdump",
        "databases/gradebook_X.pgdump",
        'databases/gradebook_a"; DROP DATABASE postgres; --.pgdump',
        "databases/../jupyterhub.pgdump",
        "databases/sub/jupyterhub.pgdump",
        "databases/jupyterhub.sql",
        "hub/jupyterhub.pgdump",
        "databases",
    ):
        assert database_of(hostile) is None, hostile
    with pytest.raises(Exception, match="'postgres' is not a coursehub database"):
        member_name("postgres")
    assert user_rows(["admin|t", "alice|f", "bob|f", ""]) == (["alice", "bob"], ["admin"])


def test_backup_of_another_database_kind_is_refused_in_one_line(tmp_path, cli):
    """A Postgres backup into a SQLite deployment: the users would silently not be there."""
    target = tmp_path / "pg.tar"
    marker = {"format": 1, "coursehub_version": "x", "mode": "docker", "database": "postgres"}
    with tarfile.open(target, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in (
            ("coursehub-backup", json.dumps(marker).encode()),
            ("databases/jupyterhub.pgdump", b"PGDMP not really"),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    status, err = cli("restore", str(target))
    assert status == 1 and err.count("\n") == 1, err
    assert "this backup's hub database is postgres but this deployment has " in err
    assert "COURSEHUB_DATABASE=sqlite: set it to postgres in .env" in err


def test_entry_swapped_for_a_link_after_listing_is_never_read(tmp_path):
    """The race a student can try: a file listed, then replaced by a link before it is read."""
    from coursehub import archive

    home = tmp_path / "home"
    home.mkdir()
    (home / "notes").write_text("mine")
    (home / "other").write_text("another file")
    listed = {name: os.stat(home / name, follow_symlinks=False) for name in ("notes", "other")}
    (home / "notes").unlink()
    (home / "notes").symlink_to("/etc/passwd")
    (home / "other").rename(home / "other-old")
    (home / "other").write_text("a new file of the same name")
    said = []
    with tarfile.open(tmp_path / "t.tar", "w", format=tarfile.PAX_FORMAT) as tar:
        fd = os.open(home, os.O_RDONLY | os.O_DIRECTORY)
        try:
            for name, st in listed.items():
                stored = archive.pack_entry(
                    tar, fd, name, st, f"h/{name}", name, said.append, lambda r: False, False, {}
                )
                assert stored == 0
        finally:
            os.close(fd)
    with tarfile.open(tmp_path / "t.tar") as tar:
        assert tar.getnames() == []
    assert said[0].startswith("skipped h/notes: ") and "changed while being read" in said[0]
    assert said[1] == "skipped h/other: replaced while being read"
