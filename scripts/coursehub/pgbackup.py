"""The Postgres side of `coursehub backup` / `restore`: pg_dump and pg_restore in the db service.

The hub image has the Docker CLI and socket but no Postgres client: the dumps run with the
db container's own binaries (always the server's version) as its ``postgres`` superuser over
the local socket (peer authentication: no password crosses a command line). ``pg_dump``
takes one consistent snapshot per database while the hub writes. Each database is one
``databases/<name>.pgdump`` member (custom format); only the hub's ``jupyterhub`` and the
``gradebook_<course>`` databases are dumped or restored, whatever an archive names.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

from .database import HUB_DATABASE, gradebook_database
from .errors import CoursehubError
from .settings import Settings

SECTION = "databases"
SUFFIX = ".pgdump"
OURS = re.compile(rf"^({HUB_DATABASE}|{gradebook_database('')}[a-z][a-z0-9_]{{1,30}})$")


def member_name(database: str) -> str:
    """The archive member that holds ``database``'s dump."""
    if not OURS.match(database):
        raise CoursehubError(f"{database!r} is not a coursehub database")
    return f"{SECTION}/{database}{SUFFIX}"


def database_of(member: str) -> str | None:
    """The database a ``databases/`` member restores into; None for any other name."""
    folder, _, file = member.partition("/")
    name = file[: -len(SUFFIX)] if file.endswith(SUFFIX) else ""
    return name if folder == SECTION and OURS.match(name) else None


def user_rows(lines: list[str]) -> tuple[list[str], list[str]]:
    """(students, staff) from ``name|admin`` lines of psql's unaligned output."""
    rows = [line.rsplit("|", 1) for line in lines if "|" in line]
    return [n for n, a in rows if a != "t"], [n for n, a in rows if a == "t"]


class Postgres:
    """The compose deployment's db container, reached through ``docker exec``."""

    def __init__(self, settings: Settings):
        self.container = f"{settings.name}-db"
        self.role = settings.db_user

    def exec(self, *cmd: str, stdin: bool = False) -> list[str]:
        return [
            "docker",
            "exec",
            *(["-i"] if stdin else []),
            "-u",
            "postgres",
            self.container,
            *cmd,
        ]

    def run(self, *cmd: str, **kwargs) -> subprocess.CompletedProcess:
        try:
            return subprocess.run(self.exec(*cmd), capture_output=True, text=True, **kwargs)
        except FileNotFoundError:
            raise CoursehubError("the docker command is not installed here") from None

    def require_running(self, timeout: float = 90) -> None:
        """One line when the db service is not up; else wait until its real server answers."""
        state = self.run_docker("inspect", "--format", "{{.State.Running}}", self.container)
        if state.stdout.strip() != "true":
            raise CoursehubError(
                f"the database container {self.container} is not running: "
                "start it: docker compose --profile postgres up -d db"
            )
        # Just after `up -d db` the entrypoint's set-up server may answer on the socket and
        # then stop; the real server is the one listening on TCP. As the healthcheck asks
        # (a role pg_hba.conf lets in over TCP, or each probe is a FATAL line in its log).
        ready = ("pg_isready", "-q", "-h", "127.0.0.1", "-U", self.role, "-d", HUB_DATABASE)
        deadline = time.monotonic() + timeout
        while self.run(*ready).returncode != 0:
            if time.monotonic() > deadline:
                raise CoursehubError(
                    f"the database in {self.container} does not accept connections after "
                    f"{timeout:.0f} s: see docker compose logs db"
                )
            time.sleep(0.5)

    @staticmethod
    def run_docker(*args: str) -> subprocess.CompletedProcess:
        try:
            return subprocess.run(["docker", *args], capture_output=True, text=True)
        except FileNotFoundError:
            raise CoursehubError("the docker command is not installed here") from None

    def sql(self, database: str, query: str) -> list[str]:
        """Rows of ``query`` (columns joined by |), or one line saying why not."""
        proc = self.run("psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-d", database, "-c", query)
        if proc.returncode != 0:
            why = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise CoursehubError(f"psql on {self.container}/{database} failed: {why}")
        return proc.stdout.splitlines()

    def databases(self) -> list[str]:
        """The hub's database and every course's gradebook database, hub first."""
        names = self.sql("postgres", "SELECT datname FROM pg_database ORDER BY datname")
        ours = [n for n in names if OURS.match(n)]
        return sorted(ours, key=lambda n: (n != HUB_DATABASE, n))

    def to_back_up(self) -> list[str]:
        """The databases a backup dumps; one line when there is nothing to dump from."""
        self.require_running()
        found = self.databases()
        if HUB_DATABASE not in found:
            raise CoursehubError(
                f"nothing to back up: no {HUB_DATABASE} database in {self.container}"
            )
        return found

    def users(self) -> tuple[list[str], list[str]]:
        """(students, staff) of the hub database, for the manifest."""
        return user_rows(self.sql(HUB_DATABASE, "SELECT name, admin FROM users ORDER BY name"))

    def with_data(self) -> list[str]:
        """Our databases that hold tables: what a restore without --force must not replace."""
        query = "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        return [db for db in self.databases() if self.sql(db, query) != ["0"]]

    def dump(self, database: str, target: Path) -> int:
        """``pg_dump -Fc`` of ``database`` into ``target``; its size."""
        with open(target, "wb") as out:
            proc = subprocess.run(
                self.exec("pg_dump", "-Fc", "-d", database), stdout=out, stderr=subprocess.PIPE
            )
        if proc.returncode != 0:
            why = (proc.stderr.decode(errors="replace").strip().splitlines() or ["?"])[-1]
            raise CoursehubError(f"pg_dump of {database} in {self.container} failed: {why}")
        return target.stat().st_size

    def restore(self, database: str, dump) -> None:
        """Replace ``database`` with an empty one owned by the hub's role, then load ``dump``."""
        # Dropped and made again rather than pg_restore --clean: tables the dump lacks (from
        # a newer JupyterHub, or written since) would otherwise stay behind.
        self.sql("postgres", f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        self.sql("postgres", f'CREATE DATABASE "{database}" OWNER "{self.role}"')
        args = ["--no-owner", f"--role={self.role}", "--exit-on-error", "-d", database]
        proc = subprocess.Popen(
            self.exec("pg_restore", *args, stdin=True),
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            shutil.copyfileobj(dump, proc.stdin)
        except BrokenPipeError:
            pass  # pg_restore stopped early: its own message follows
        finally:
            proc.stdin.close()
        err = proc.stderr.read().decode(errors="replace")
        if proc.wait() != 0:
            why = (err.strip().splitlines() or ["?"])[-1]
            raise CoursehubError(f"pg_restore of {database} in {self.container} failed: {why}")
