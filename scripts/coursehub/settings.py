"""Deployment settings: read once from the environment (and an optional .env file).

Every key, its kind and its default are declared once, in coursehub.settings_table.
"""

from __future__ import annotations

import math
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from . import settings_table as table
from .errors import CoursehubError
from .gpus import parse_gpu_ids
from .paths import REPO_ROOT
from .settings_table import DEFAULT_CELL_TIMEOUT, HUB_IMAGE, SETTINGS, STUDENT_IMAGE

COURSE_ID = re.compile(r"^[a-z][a-z0-9_]{1,30}$")
MODES = table.BY_KEY["COURSEHUB_MODE"].choices
DATABASES = table.BY_KEY["COURSEHUB_DATABASE"].choices
# What both DockerSpawner (mem_limit) and docker-py (shm_size) read: a number, K/M/G/T.
SIZE = re.compile(r"^[0-9]+(\.[0-9]+)?[kmgtKMGT]?$")
__all__ = ["DEFAULT_CELL_TIMEOUT", "HUB_IMAGE", "STUDENT_IMAGE", "Settings", "load_settings"]


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
    """Everything an admin can set, parsed; defaults suit a single GPU host."""

    # No defaults here: each comes from settings_table, through load_settings.
    mode: str
    courses: tuple[str, ...]
    data_dir: Path
    ip: str
    port: int
    admin_user: str
    admin_password: str = field(repr=False)
    instructors: tuple[str, ...]
    cull_timeout: int
    late_policy: str
    user_prefix: str
    proxy_cmd: str
    name: str
    tls: str
    domain: str
    tls_check_address: str
    hub_bind_url: str
    hub_connect_url: str
    log_level: str
    student_image: str
    hub_image: str
    datasets_volume: str
    gpus: str
    gpu_ids: tuple[str, ...]
    cuda_memory_fraction: float
    mem_limit: str
    cpu_limit: float
    shm_size: str
    start_timeout: int
    # sqlite (files in the data dir) or postgres (the compose profile's db service).
    database: str
    db_host: str
    db_user: str
    db_password: str = field(repr=False)
    db_wait: float
    uid_base: int = 20000  # not a setting: system uids of students start here
    # The raw keys (environment over .env): key families such as COURSEHUB_LATE_POLICY_<COURSE>.
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
    def hub_api_loopback(self) -> str:
        """The hub's API from beside it (formgraders, doctor): loopback even on 0.0.0.0."""
        return f"http://127.0.0.1:{urlparse(self.hub_bind_url).port}/hub/api"

    def course_dir(self, course_id: str) -> Path:
        return self.course_root / course_id

    def grader_user(self, course_id: str) -> str:
        return f"grader-{course_id}"


def _csv(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip())


def _courses(value: str) -> tuple[str, ...]:
    courses = _csv(value)
    for course in courses:
        if not COURSE_ID.match(course):
            raise CoursehubError(f"course id {course!r}: use lower-case letters, digits and _")
    return courses


def _int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ValueError("expected a whole number") from None


def _port(value: str) -> int:
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise ValueError("expected a port number (1-65535)")
    return int(value)


def _number(value: str, what: str = "a number") -> float:
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"expected {what}")
    return number


def _fraction(value: str) -> float:
    number = _number(value, "a fraction of a GPU between 0 and 1")
    if number > 1:
        raise ValueError("expected a fraction of a GPU between 0 and 1")
    return number


def _size(value: str) -> str:
    if not SIZE.match(value):
        raise ValueError("expected a size such as 8G or 512m")
    return value


def _gpu_ids(value: str) -> tuple[str, ...]:
    try:
        return tuple(parse_gpu_ids(value))
    except CoursehubError:
        raise ValueError("an id appears twice") from None


LISTS = ("csv", "courses", "gpu_ids")
# Each kind in the table parses text into a value, or raises ValueError saying what it expects.
PARSERS = {
    "str": str,
    "csv": _csv,
    "courses": _courses,
    "int": _int,
    "port": _port,
    "number": _number,
    "seconds": lambda v: _number(v, "a number of seconds"),
    "fraction": _fraction,
    "size": _size,
    "gpu_ids": _gpu_ids,
}


def parse(setting: table.Setting, raw: str | None):
    """One key's value from its text (unset: its default), or its one-line error."""
    text = (raw or "").strip()
    # Empty is the default, as compose's ${KEY:-default} makes it; an empty list stays empty.
    if raw is None or not (text or setting.kind in LISTS):
        text = setting.default
    if setting.kind == "choice":
        canonical = {choice.lower(): choice for choice in setting.choices}
        if text.lower() not in canonical:
            raise CoursehubError(
                f"{setting.key}={text!r}: expected one of {', '.join(setting.choices)}"
            )
        return canonical[text.lower()]
    if not text and setting.kind not in ("str", *LISTS):
        return None  # e.g. COURSEHUB_HTTPS_PORT, empty with TLS off
    try:
        return PARSERS[setting.kind](text)
    except ValueError as exc:
        raise CoursehubError(f"{setting.key}={text!r}: {exc}") from None


def load_settings(environ: dict | None = None, dotenv: Path | None = None) -> Settings:
    """Settings from ``environ`` over ``.env`` (next to the repo unless COURSEHUB_ENV_FILE)."""
    environ = dict(os.environ if environ is None else environ)
    dotenv = dotenv or Path(environ.get("COURSEHUB_ENV_FILE") or REPO_ROOT / ".env")
    env = {**read_dotenv(dotenv), **environ}
    values = {s.attr: parse(s, env.get(s.key)) for s in SETTINGS if s.attr and not s.pattern}
    for s in SETTINGS:
        if not s.attr and s.key.startswith("COURSEHUB_") and not s.pattern:
            parse(s, env.get(s.key))  # documented-only keys are still checked here
    docker = values["mode"] == "docker"
    # Local mode keeps SQLite: Postgres is the compose profile's service.
    if not docker:
        values["database"] = "sqlite"
    if values["database"] == "postgres" and not values["db_password"]:
        raise CoursehubError("COURSEHUB_DATABASE=postgres needs COURSEHUB_DB_PASSWORD in .env")
    # Defaults that follow from other settings (the table shows them in words).
    data_dir = env.get("COURSEHUB_DATA_DIR") or ("/srv/coursehub" if docker else REPO_ROOT / "var")
    values["ip"] = values["ip"] or ("0.0.0.0" if docker else "127.0.0.1")
    values["db_host"] = values["db_host"] or f"{values['name']}-db"
    values["hub_bind_url"] = values["hub_bind_url"] or f"http://127.0.0.1:{values['port'] + 1}"
    domain = values["domain"] or "localhost"
    values["tls_check_address"] = values["tls_check_address"] or f"{domain}:443"
    return Settings(data_dir=Path(data_dir).resolve(), env=env, **values)


def main(argv: list[str] | None = None) -> int:
    """``python -m coursehub.settings env-example|markdown``: .env.example or README's table."""
    what = (argv if argv is not None else sys.argv[1:]) or [""]
    render = {"env-example": table.env_example, "markdown": table.markdown}.get(what[0])
    if render is None or len(what) != 1:
        print("usage: python -m coursehub.settings env-example|markdown", file=sys.stderr)
        return 2
    sys.stdout.write(render())
    return 0


if __name__ == "__main__":
    sys.exit(main())
