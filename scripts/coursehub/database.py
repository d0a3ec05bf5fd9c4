"""Where the hub database and the gradebooks live: SQLite files, or the Postgres service."""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing
from urllib.parse import quote

from .errors import CoursehubError
from .settings import Settings

SQLITE, POSTGRES = "sqlite", "postgres"
DATABASES = (SQLITE, POSTGRES)
PORT = 5432
HUB_DATABASE = "jupyterhub"  # made by docker/postgres/entrypoint.sh


def say(message: str) -> None:
    print(f"coursehub: {message}", flush=True)


def gradebook_database(course_id: str) -> str:
    """The course's Postgres database; course ids are lower-case letters, digits and _."""
    return f"gradebook_{course_id}"


def _postgres_url(s: Settings, database: str) -> str:
    password = quote(s.db_password, safe="")
    return f"postgresql+psycopg2://{s.db_user}:{password}@{s.db_host}:{PORT}/{database}"


def hub_db_url(s: Settings) -> str:
    if s.database == POSTGRES:
        return _postgres_url(s, HUB_DATABASE)
    return f"sqlite:///{s.hub_dir / 'jupyterhub.sqlite'}"


def course_db_url(s: Settings, course_id: str) -> str | None:
    """The gradebook's URL, or None for nbgrader's own default (gradebook.db in the course)."""
    return _postgres_url(s, gradebook_database(course_id)) if s.database == POSTGRES else None


def _connect(s: Settings, database: str = HUB_DATABASE):
    import psycopg2

    return psycopg2.connect(
        host=s.db_host,
        port=PORT,
        user=s.db_user,
        password=s.db_password,
        dbname=database,
        connect_timeout=5,
    )


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def wait_seconds(s: Settings) -> float:
    return s.db_wait  # checked by load_settings: COURSEHUB_DB_WAIT='x' stops there


def wait_until_ready(s: Settings, timeout: float) -> None:
    """Block until Postgres takes our login; one clear error for a wrong password or no server.

    With the profile on, compose starts the hub and the database together (a depends_on on a
    profiled service breaks compose when the profile is off), so the hub waits here.
    """
    import psycopg2

    where = f"{s.db_host}:{PORT}"
    deadline, delay, said = time.monotonic() + timeout, 0.5, False
    while True:
        try:
            _connect(s).close()
        except psycopg2.OperationalError as exc:
            why = _first_line(exc)
            if "password authentication failed" in why:
                raise CoursehubError(
                    f"the database at {where} refused the password of {s.db_user!r}: "
                    "COURSEHUB_DB_PASSWORD must be the same for the hub and the db service "
                    "(after changing it in .env: docker compose up -d, which restarts both)"
                ) from None
            if time.monotonic() > deadline:
                raise CoursehubError(
                    f"no database at {where} after {timeout:.0f} s ({why}): with "
                    "COURSEHUB_DATABASE=postgres turn on the postgres profile "
                    "(COMPOSE_PROFILES=postgres in .env, or docker compose --profile postgres)"
                ) from None
            if not said:
                say(f"waiting for the database at {where} ({why})")
                said = True
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
            continue
        if said:
            say(f"the database at {where} is up")
        return


def ensure_course_databases(s: Settings) -> None:
    """Create each course's gradebook database that does not exist yet (nbgrader adds tables)."""
    with closing(_connect(s)) as conn:
        conn.autocommit = True  # CREATE DATABASE cannot run inside a transaction
        with conn.cursor() as cur:
            for course_id in s.courses:
                name = gradebook_database(course_id)
                cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
                if cur.fetchone() is None:
                    cur.execute(f'CREATE DATABASE "{name}"')
                    say(f"created the gradebook database {name} for {course_id}")


def prepare_postgres(s: Settings) -> None:
    """At every start: wait for the server, then make the course databases that are missing."""
    if s.database != POSTGRES:
        return
    wait_until_ready(s, wait_seconds(s))
    ensure_course_databases(s)


def hub_rows(s: Settings, sql: str, required: bool = False) -> list[tuple] | None:
    """Rows of a read-only query on the hub's own database.

    None when there is no SQLite file yet; when it cannot be read, None, or with
    ``required`` one clear error (collect must not take "unreadable" for "no such user").
    """
    import psycopg2

    path = s.hub_dir / "jupyterhub.sqlite"
    if s.database == SQLITE and not path.is_file():
        return None
    try:
        if s.database == POSTGRES:
            with closing(_connect(s)) as conn, conn.cursor() as cur:
                conn.set_session(readonly=True)
                cur.execute(sql)
                return cur.fetchall()
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)) as db:
            return db.execute(sql).fetchall()
    except (psycopg2.Error, sqlite3.Error) as exc:
        if required:
            raise CoursehubError(f"cannot read the hub database: {_first_line(exc)}") from None
        return None
