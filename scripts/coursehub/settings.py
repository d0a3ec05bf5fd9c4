"""Deployment settings: read once from the environment (and an optional .env file)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from .errors import CoursehubError
from .paths import REPO_ROOT

COURSE_ID = re.compile(r"^[a-z][a-z0-9_]{1,30}$")
MODES = ("local", "docker")
DATABASES = ("sqlite", "postgres")


def read_dotenv(path: Path) -> dict[str, str]:
    """KEY=VALUE lines; blank lines and # comments skipped; optional quotes stripped."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip().isidentifier():
            raise CoursehubError(f"{path}:{number}: expected KEY=VALUE, got {raw!r}")
        values[key.strip()] = value.strip().strip("'\"")
    return values


@dataclass(frozen=True)
class Settings:
    """Everything an admin can set; defaults suit a single GPU host."""

    mode: str = "local"
    courses: tuple[str, ...] = ("pytorch101",)
    data_dir: Path = REPO_ROOT / "var"
    ip: str = "127.0.0.1"
    port: int = 8000
    admin_user: str = "admin"
    admin_password: str = ""
    instructors: tuple[str, ...] = ()
    cull_timeout: int = 3600
    user_prefix: str = "ch-"
    uid_base: int = 20000
    proxy_cmd: str = ""
    # sqlite (files in the data dir) or postgres (the compose profile's db service).
    database: str = "sqlite"
    db_host: str = ""
    db_user: str = "coursehub"
    db_password: str = field(default="", repr=False)
    env: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def course_root(self) -> Path:
        return self.data_dir / "courses"

    @property
    def exchange_root(self) -> Path:
        return self.data_dir / "exchange"

    @property
    def home_root(self) -> Path:
        return self.data_dir / "home"

    @property
    def hub_dir(self) -> Path:
        return self.data_dir / "hub"

    @property
    def hub_bind_url(self) -> str:
        """Where the hub's own API listens (the student containers' way in, in docker)."""
        return self.get("COURSEHUB_HUB_BIND_URL", f"http://127.0.0.1:{self.port + 1}")

    @property
    def hub_api_loopback(self) -> str:
        """The hub's API from beside it (formgraders, doctor): loopback even on 0.0.0.0."""
        return f"http://127.0.0.1:{urlparse(self.hub_bind_url).port}/hub/api"

    def course_dir(self, course_id: str) -> Path:
        return self.course_root / course_id

    def grader_user(self, course_id: str) -> str:
        return f"grader-{course_id}"

    def get(self, key: str, default: str = "") -> str:
        return self.env.get(key, default)


def _csv(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip())


def load_settings(environ: dict | None = None, dotenv: Path | None = None) -> Settings:
    """Settings from ``environ`` over ``.env`` (next to the repo unless COURSEHUB_ENV_FILE)."""
    environ = dict(os.environ if environ is None else environ)
    dotenv = dotenv or Path(environ.get("COURSEHUB_ENV_FILE", REPO_ROOT / ".env"))
    env = {**read_dotenv(dotenv), **environ}

    mode = env.get("COURSEHUB_MODE", "local")
    if mode not in MODES:
        raise CoursehubError(f"COURSEHUB_MODE={mode!r}: expected one of {', '.join(MODES)}")
    courses = _csv(env.get("COURSEHUB_COURSES", "pytorch101"))
    for course in courses:
        if not COURSE_ID.match(course):
            raise CoursehubError(f"course id {course!r}: use lower-case letters, digits and _")
    try:
        port = int(env.get("COURSEHUB_PORT", "8000"))
        cull = int(env.get("COURSEHUB_CULL_TIMEOUT", "3600"))
    except ValueError as exc:
        raise CoursehubError(
            f"COURSEHUB_PORT / COURSEHUB_CULL_TIMEOUT must be integers: {exc}"
        ) from None
    default_data = "/srv/coursehub" if mode == "docker" else str(REPO_ROOT / "var")
    # Local mode keeps SQLite: Postgres is the compose profile's service.
    database = env.get("COURSEHUB_DATABASE", "sqlite") if mode == "docker" else "sqlite"
    if database not in DATABASES:
        raise CoursehubError(
            f"COURSEHUB_DATABASE={database!r}: expected one of {', '.join(DATABASES)}"
        )
    if database == "postgres" and not env.get("COURSEHUB_DB_PASSWORD"):
        raise CoursehubError("COURSEHUB_DATABASE=postgres needs COURSEHUB_DB_PASSWORD in .env")
    return Settings(
        mode=mode,
        courses=courses,
        data_dir=Path(env.get("COURSEHUB_DATA_DIR", default_data)).resolve(),
        ip=env.get("COURSEHUB_IP", "127.0.0.1" if mode == "local" else "0.0.0.0"),
        port=port,
        admin_user=env.get("COURSEHUB_ADMIN_USER", "admin"),
        admin_password=env.get("COURSEHUB_ADMIN_PASSWORD", ""),
        instructors=_csv(env.get("COURSEHUB_INSTRUCTORS", "")),
        cull_timeout=cull,
        user_prefix=env.get("COURSEHUB_USER_PREFIX", "ch-"),
        proxy_cmd=env.get("COURSEHUB_PROXY_CMD", ""),
        database=database,
        db_host=env.get("COURSEHUB_DB_HOST", f"{env.get('COURSEHUB_NAME', 'coursehub')}-db"),
        db_user=env.get("COURSEHUB_DB_USER", "coursehub"),
        db_password=env.get("COURSEHUB_DB_PASSWORD", ""),
        env=env,
    )
