"""Every admin-facing setting, declared once: .env.example and README's table come from here."""

from __future__ import annotations

from dataclasses import dataclass

# One constant each: the compose file, the CLI, the spawner and the grading engine use these.
STUDENT_IMAGE = "coursehub/student:latest"
HUB_IMAGE = "coursehub/hub:latest"
DEFAULT_CELL_TIMEOUT = 300  # seconds per notebook cell at grading; training cells run long

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


@dataclass(frozen=True)
class Setting:
    """One key: how it parses, its default, and the words .env.example and README show."""

    key: str
    kind: str  # a parser in coursehub.settings.PARSERS, or "choice" (one of ``choices``)
    default: str
    help: str  # one line, README's table
    section: str
    note: str = ""  # the comment above the line in .env.example ('' = shares the one above)
    choices: tuple[str, ...] = ()
    example: str = "line"  # in .env.example: "line", "commented" (as # KEY=...), or "" (absent)
    sample: str | None = None  # the value .env.example shows when it is not the default
    shown: str = ""  # README's default when the code derives it (from the mode, the port...)
    attr: str = ""  # the Settings attribute it fills ('' = documented and checked only)

    @property
    def pattern(self) -> bool:
        """A family of keys such as COURSEHUB_LATE_POLICY_<COURSE>."""
        return "<" in self.key


WHO, WHERE, HTTPS = "who and what", "where", "HTTPS (docker compose; README: HTTPS)"
DB = "database (docker compose)"
STUDENTS, BUILD = "student containers (docker compose)", "building the images"
LOCAL, ADVANCED = "local mode only (`coursehub local`)", "advanced (not in .env.example)"
SECTIONS = (WHO, WHERE, HTTPS, DB, STUDENTS, BUILD, LOCAL, ADVANCED)

S = Setting
# fmt: off
SETTINGS: tuple[Setting, ...] = (
    S("COURSEHUB_COURSES", "courses", "pytorch101",
      "Courses on this hub, comma-separated ids (lower-case letters, digits, `_`).", WHO,
      "Courses on this hub, comma-separated ids (lower-case letters, digits, _).",
      attr="courses"),
    S("COURSEHUB_ADMIN_USER", "str", "admin", "The first admin's hub name.", WHO,
      "The first admin: created at start-up with this password if it does not exist yet\n"
      "(8+ characters, not a common password). Empty: sign up as this user at /hub/signup.",
      attr="admin_user"),
    S("COURSEHUB_ADMIN_PASSWORD", "str", "",
      "The first admin's password, set when that user is created (empty: sign up).", WHO,
      attr="admin_password"),
    S("COURSEHUB_INSTRUCTORS", "csv", "",
      "Hub users who grade every course (formgrader access), comma-separated.", WHO,
      "Hub users who grade every course (formgrader access), comma-separated.",
      attr="instructors"),
    S("COURSEHUB_CULL_TIMEOUT", "int", "3600",
      "Stop servers idle for this many seconds (0 = never).", WHO,
      "Stop servers idle for this many seconds (0 = never).", attr="cull_timeout"),
    S("COURSEHUB_LATE_POLICY", "str", "none",
      "Late penalty at autograde: none, per-hour:P, per-day:P or zero-after:HOURS.", WHO,
      "Late penalty at autograde (after `coursehub release ID --due DATE`): none, per-hour:P or\n"
      "per-day:P (P% of the max score per started hour/day late), zero-after:HOURS (score 0\n"
      "when more than HOURS late). COURSEHUB_LATE_POLICY_<COURSE> overrides it for one course.",
      attr="late_policy"),
    S("COURSEHUB_LATE_POLICY_<COURSE>", "str", "",
      "One course's late penalty (course id in upper case), over COURSEHUB_LATE_POLICY.", WHO,
      example=""),
    S("COURSEHUB_PORT", "port", "8000",
      "Public HTTP port (the hub; with TLS acme/own a redirect to HTTPS).", WHERE,
      "Public HTTP port (the hub with COURSEHUB_TLS=off, else a redirect to HTTPS), and the\n"
      "host address the proxy publishes its ports on (docker compose).", attr="port"),
    S("COURSEHUB_BIND", "str", "0.0.0.0", "Host address the proxy publishes its ports on.",
      WHERE),
    S("COURSEHUB_NAME", "str", "coursehub",
      "Prefix of every container, volume and network the deployment creates.", WHERE,
      "Prefix of every container, volume and network the deployment creates.", attr="name"),
    S("COURSEHUB_TLS", "choice", "off",
      "off (plain HTTP: loopback and tests), acme (Let's Encrypt) or own (your certificate).",
      HTTPS,
      "off: plain HTTP, for loopback (COURSEHUB_BIND=127.0.0.1) and tests only.\n"
      "acme: a Let's Encrypt certificate for COURSEHUB_DOMAIN (needs COURSEHUB_PORT=80 and\n"
      "COURSEHUB_HTTPS_PORT=443 reachable from the internet). own: COURSEHUB_TLS_CERT/_KEY.",
      choices=("off", "acme", "own"), attr="tls"),
    S("COURSEHUB_HTTPS_PORT", "port", "",
      "Public HTTPS port with acme or own (normally 443).", HTTPS,
      "Public HTTPS port with acme or own (normally 443). Empty with off."),
    S("COURSEHUB_DOMAIN", "str", "", "acme: the host name students use (DNS points here).",
      HTTPS,
      "acme: the host name students use (its DNS points here), and Let's Encrypt's contact.",
      attr="domain"),
    S("COURSEHUB_ACME_EMAIL", "str", "", "acme: Let's Encrypt's contact e-mail.", HTTPS),
    S("COURSEHUB_TLS_CERT", "str", "", "own: host path of the PEM certificate chain.", HTTPS,
      "own: host paths of the PEM certificate chain and its unencrypted key, mounted read-only."),
    S("COURSEHUB_TLS_KEY", "str", "", "own: host path of its unencrypted PEM key.", HTTPS),
    S("COURSEHUB_DATABASE", "choice", "sqlite",
      "sqlite (files in the volumes) or postgres (the db service); local mode: sqlite.", DB,
      "sqlite (default): the hub database and each course's gradebook.db are files in the\n"
      "volumes. postgres: both live in the db service (Debian's PostgreSQL 15, data in the\n"
      "<COURSEHUB_NAME>-db volume); also turn on its profile below. Local mode always uses\n"
      "SQLite. Switching keeps nothing: an existing deployment's users and grades stay in SQLite.",
      choices=("sqlite", "postgres"), attr="database"),
    S("COMPOSE_PROFILES", "str", "",
      "`postgres` starts the db service with `docker compose up`.", DB,
      "Starts the db service with `docker compose up` (same as --profile postgres).",
      example="commented", sample="postgres"),
    S("COURSEHUB_DB_PASSWORD", "str", "",
      "Password of the db service's `coursehub` role (required with postgres).", DB,
      "Password of the db service's `coursehub` role, required with postgres; set again at every\n"
      "start of the db service. Only the hub's containers can reach the database.",
      attr="db_password"),
    S("COURSEHUB_DB_WAIT", "seconds", "120",
      "Seconds the hub waits for the db service at start.", DB,
      "Seconds the hub waits for the db service at start before it gives up with one line.",
      attr="db_wait"),
    S("COURSEHUB_GPUS", "choice", "auto",
      "auto, none, shared, or one-each (round-robin over COURSEHUB_GPU_IDS).", STUDENTS,
      "GPUs: auto (all shared if the engine has an NVIDIA runtime, else CPU), none, shared,\n"
      "one-each (round-robin over COURSEHUB_GPU_IDS, kept across restarts).",
      choices=("auto", "none", "shared", "one-each"), attr="gpus"),
    S("COURSEHUB_GPU_IDS", "gpu_ids", "", "GPU ids for one-each, e.g. `0,1,2,3`.", STUDENTS,
      attr="gpu_ids"),
    S("COURSEHUB_CUDA_MEMORY_FRACTION", "fraction", "0",
      "Cap each student's CUDA memory at this fraction of a GPU (0 = no cap).", STUDENTS,
      "Cap each student's CUDA memory at this fraction of a GPU (0 = no cap).",
      attr="cuda_memory_fraction"),
    S("COURSEHUB_MEM_LIMIT", "size", "8G", "Memory limit of each student container.",
      STUDENTS, attr="mem_limit"),
    S("COURSEHUB_CPU_LIMIT", "number", "2", "CPUs of each student container.", STUDENTS,
      attr="cpu_limit"),
    S("COURSEHUB_SHM_SIZE", "size", "2g", "Shared memory (/dev/shm) for DataLoader workers.",
      STUDENTS, "Shared memory for DataLoader workers (Docker's default of 64 MB breaks them).",
      attr="shm_size"),
    S("COURSEHUB_START_TIMEOUT", "int", "600",
      "Seconds a (first, cold) student container start may take.", STUDENTS,
      "Seconds a (first, cold) container start may take.", attr="start_timeout"),
    S("TORCH_INDEX_URL", "str", "",
      "Where torch comes from (empty: PyPI's CUDA 13 build; or a download.pytorch.org index).",
      BUILD,
      "Where torch/torchvision come from. Empty: PyPI's CUDA 13 build (needs driver >= 580).\n"
      "Older driver: https://download.pytorch.org/whl/cu126 ; no GPU: .../whl/cpu"),
    S("EXTRA_CA_CERTS", "str", "",
      "Extra CA certificates (PEM text) for building behind a TLS-intercepting proxy.", BUILD,
      "Extra CA certificates (PEM text) for building behind a TLS-intercepting proxy."),
    S("COURSEHUB_DATA_DIR", "str", "",
      "Where the hub database, courses, exchange and homes live.", LOCAL,
      "Where the hub database, courses, exchange and homes live (default: ./var).",
      example="commented", sample="/srv/coursehub", shown="./var (docker: /srv/coursehub)"),
    S("COURSEHUB_IP", "str", "", "Address the hub listens on.", LOCAL, sample="127.0.0.1",
      shown="127.0.0.1 (docker: 0.0.0.0)", attr="ip"),
    S("COURSEHUB_USER_PREFIX", "str", "ch-",
      "A student's system account is this prefix + their hub name.", LOCAL,
      "A student's system account is this prefix + their hub name.", attr="user_prefix"),
    S("COURSEHUB_MODE", "choice", "local",
      "local (`coursehub local`) or docker (set by the compose file).", ADVANCED,
      choices=("local", "docker"), example="", attr="mode"),
    S("COURSEHUB_ENV_FILE", "str", "", "The .env file to read.", ADVANCED, example="",
      shown="./.env"),
    S("COURSEHUB_REPO", "str", "", "The checkout holding hub_config and the course sources.",
      ADVANCED, example="", shown="this checkout"),
    S("COURSEHUB_STUDENT_IMAGE", "str", STUDENT_IMAGE,
      "Image of student containers and docker grading sandboxes.", ADVANCED, example="",
      attr="student_image"),
    S("COURSEHUB_HUB_IMAGE", "str", HUB_IMAGE,
      "Image for backup/restore helpers when the hub's own image is unknown.", ADVANCED,
      example="", attr="hub_image"),
    S("COURSEHUB_HUB_BIND_URL", "str", "", "Where the hub's own API listens.", ADVANCED,
      example="", shown="http://127.0.0.1:<PORT+1>", attr="hub_bind_url"),
    S("COURSEHUB_HUB_CONNECT_URL", "str", "",
      "How servers reach the hub's API when not at its bind URL.", ADVANCED, example="",
      attr="hub_connect_url"),
    S("COURSEHUB_TLS_CHECK_ADDRESS", "str", "",
      "host:port where `coursehub doctor` reads the served certificate.", ADVANCED,
      example="", shown="<DOMAIN or localhost>:443", attr="tls_check_address"),
    S("COURSEHUB_LOG_LEVEL", "choice", "INFO",
      "JupyterHub's log level: DEBUG, INFO, WARNING, ERROR or CRITICAL.", ADVANCED,
      choices=LOG_LEVELS, example="", attr="log_level"),
    S("COURSEHUB_PROXY_CMD", "str", "",
      "configurable-http-proxy to run (empty: the repo's npm install, else PATH).", ADVANCED,
      example="", attr="proxy_cmd"),
    S("COURSEHUB_DB_HOST", "str", "", "Postgres host.", ADVANCED, example="",
      shown="<COURSEHUB_NAME>-db", attr="db_host"),
    S("COURSEHUB_DB_USER", "str", "coursehub", "Postgres role.", ADVANCED, example="",
      attr="db_user"),
    S("COURSEHUB_DATASETS", "str", "", "Datasets folder (bwrap grading, the datasets CLI).",
      ADVANCED, example="", shown="/srv/datasets"),
    S("COURSEHUB_DATASETS_VOLUME", "str", "coursehub-datasets",
      "Docker volume mounted as datasets in docker grading sandboxes.", ADVANCED, example="",
      attr="datasets_volume"),
    S("COURSEHUB_SANDBOX", "choice", "auto",
      "Grading sandbox: auto (docker in docker mode, bwrap in local mode), docker or bwrap.",
      ADVANCED, choices=("auto", "docker", "bwrap"), example=""),
    S("COURSEHUB_KEEP_GRADING_DIR", "str", "",
      "Non-empty: keep each grading run's work folder (debugging).", ADVANCED, example=""),
    S("COURSEHUB_DEBUG", "str", "", "Non-empty: the CLI prints tracebacks.", ADVANCED,
      example=""),
    S("COURSEHUB_PYTHON", "str", "", "The Python 3.11 scripts/bootstrap uses.", ADVANCED,
      example="", shown="python3.11 on PATH"),
)
# fmt: on

# Passed between coursehub's own processes and containers; an admin never sets these.
INTERNAL = frozenset(
    {
        "COURSEHUB_EXCHANGE_ROOT",  # hub -> student server (nbgrader's exchange)
        "COURSEHUB_USER",  # hub -> student server
        "COURSEHUB_START_DROPPED",  # student image's start.sh, after it drops root
        "COURSEHUB_UPSTREAM",  # compose -> proxy: the hub's address
        "COURSEHUB_REDIRECT_PORT",  # proxy's entrypoint -> Caddyfile
        "COURSEHUB_WORKDIR",  # grading sandbox payload
        "COURSEHUB_GRADING_MODE",  # grading driver -> nbgrader's preprocessor
        "COURSEHUB_GRADING_DIR",
        "COURSEHUB_GRADING_DRIVER_PID",
        "COURSEHUB_FAIL_FAST",
        "COURSEHUB_SANDBOX_BROKER",  # supervisor -> formgrader
        "COURSEHUB_SANDBOX_OWNER",
    }
)

BY_KEY = {s.key: s for s in SETTINGS}


def _example_value(s: Setting) -> str:
    return s.default if s.sample is None else s.sample


def env_example() -> str:
    """The text of .env.example."""
    out = [
        "# coursehub settings. Copy to .env and edit; environment variables override this file.",
        "# docker compose reads it for the deployment; `coursehub local` reads it in local mode.",
    ]
    for section in SECTIONS:
        rows = [s for s in SETTINGS if s.section == section and s.example]
        if not rows:
            continue
        out += ["", f"# --- {section} ".ljust(88, "-")]
        for s in rows:
            out += [f"# {line}".rstrip() for line in s.note.splitlines()]
            hash_ = "# " if s.example == "commented" else ""
            out.append(f"{hash_}{s.key}={_example_value(s)}")
    return "\n".join(out) + "\n"


def markdown() -> str:
    """README's settings table (between its settings-table markers)."""
    out = ["| Setting | Default | What it does |", "| --- | --- | --- |"]
    for section in SECTIONS:
        out.append(f"| **{section.replace('|', '/')}** | | |")
        for s in (s for s in SETTINGS if s.section == section):
            default = s.shown or s.default
            default = f"`{default}`" if default else "(empty)"
            help_ = s.help.replace("|", "/")
            out.append(f"| `{s.key}` | {default} | {help_} |")
    return "\n".join(out) + "\n"
