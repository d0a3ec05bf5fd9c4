"""`coursehub doctor`'s checks of the running deployment: hub, proxy, formgraders, data, TLS.

Run where the hub runs (the host in local mode, the hub container in docker mode), so the
hub's own ports and files are at hand.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import ssl
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import requests

from .database import hub_db_url
from .doctor import Check
from .settings import Settings
from .setup import cli_token_path

MIN_FREE_GIB = 10
CERT_WARN_DAYS = 14
TIMEOUT = 10


def public_url(s: Settings) -> str:
    """The proxy's public port on loopback."""
    return f"http://127.0.0.1:{s.port}"


def _reason(exc: Exception) -> str:
    if isinstance(exc, requests.ConnectionError):
        return "connection refused"
    if isinstance(exc, requests.Timeout):
        return f"no answer in {TIMEOUT} s"
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def check_hub(s: Settings, token: str) -> Check:
    url = s.hub_api_loopback
    try:
        version = requests.get(url + "/", timeout=TIMEOUT).json()["version"]
        users = requests.get(
            url + "/users", headers={"Authorization": f"token {token}"}, timeout=TIMEOUT
        ).json()
    except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
        return Check("hub", "FAIL", f"not answering at {url}: {_reason(exc)}")
    running = sum(1 for u in users if u.get("servers", {}).get("", {}).get("ready"))
    return Check("hub", "PASS", f"JupyterHub {version}; {len(users)} users, {running} running")


def check_proxy(s: Settings) -> Check:
    url = public_url(s) + "/hub/api/"
    try:
        answer = requests.get(url, timeout=TIMEOUT)
    except requests.RequestException as exc:
        return Check("proxy", "FAIL", f"not answering at {url}: {_reason(exc)}")
    if answer.status_code != 200:
        return Check("proxy", "FAIL", f"{url} answered {answer.status_code}, not the hub")
    return Check("proxy", "PASS", f"routes {public_url(s)} to the hub")


def check_formgrader(s: Settings, course_id: str) -> Check:
    url = f"{public_url(s)}/services/{course_id}/"
    name = f"formgrader {course_id}"
    try:
        # Up, the formgrader redirects to the hub's login; down, the proxy answers 503.
        answer = requests.get(url, allow_redirects=False, timeout=TIMEOUT)
    except requests.RequestException as exc:
        return Check(name, "FAIL", f"{url}: {_reason(exc)}")
    if answer.status_code in (301, 302, 303):
        return Check(name, "PASS", f"answers at /services/{course_id}/")
    return Check(
        name, "FAIL", f"{url} answered {answer.status_code} (down: see the hub's log for why)"
    )


def check_metrics(s: Settings, token: str) -> Check:
    url = s.hub_api_loopback.removesuffix("/api") + "/metrics"
    try:
        answer = requests.get(url, headers={"Authorization": f"token {token}"}, timeout=TIMEOUT)
    except requests.RequestException as exc:
        return Check("metrics", "FAIL", f"{url}: {_reason(exc)}")
    if answer.status_code != 200:
        return Check("metrics", "FAIL", f"{url} answered {answer.status_code}")
    series = sum(1 for line in answer.text.splitlines() if line.startswith("jupyterhub_"))
    return Check("metrics", "PASS", f"{series} jupyterhub_* samples at /hub/metrics")


def check_database(name: str, url: str, count_sql: str, what: str) -> Check:
    """Connect, run one query; a SQLite file is opened read-only and never created."""
    import sqlalchemy

    shown = url.split("@")[-1] if "@" in url else url
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if not path.is_file():
            return Check(name, "FAIL", f"{path} does not exist")
        url = f"sqlite:///file:{path}?mode=ro&uri=true"
    try:
        engine = sqlalchemy.create_engine(url)
        with engine.connect() as conn:
            count = conn.execute(sqlalchemy.text(count_sql)).scalar()
        engine.dispose()
    except Exception as exc:  # any driver's error becomes the check's one line
        return Check(name, "FAIL", f"{shown}: {_reason(exc)}")
    return Check(name, "PASS", f"{shown}: {count} {what}")


def _tree_bytes(path: Path) -> int:
    """Bytes in a tree, without following links (students control their homes)."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):  # removed while we walk
                total += os.lstat(os.path.join(root, name)).st_size
    return total


def _gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB"


def check_disk(name: str, path: Path, used: int | None = None) -> Check:
    if not path.exists():
        return Check(f"disk {name}", "WARN", f"{path} does not exist")
    used = _tree_bytes(path) if used is None else used
    free = shutil.disk_usage(path).free
    status = "PASS" if free >= MIN_FREE_GIB * 2**30 else "WARN"
    return Check(f"disk {name}", status, f"{_gib(used)} used, {_gib(free)} free on its disk")


def home_volume_sizes(s: Settings) -> dict[str, int]:
    """Docker mode: the size of each student's home volume, from the engine."""
    out = subprocess.run(
        ["docker", "system", "df", "-v", "--format", "{{json .Volumes}}"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    prefix = f"{s.name}-home-"
    sizes = {}
    for volume in json.loads(out.stdout or "[]") if out.returncode == 0 else []:
        if volume["Name"].startswith(prefix):
            sizes[volume["Name"]] = _size_bytes(volume.get("Size", "0B"))
    return sizes


def _size_bytes(text: str) -> int:
    """Docker's human sizes ("1.5GB", "12kB", "0B") in bytes."""
    units = {"B": 1, "kB": 1e3, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12}
    for unit in sorted(units, key=len, reverse=True):
        if text.endswith(unit):
            return int(float(text[: -len(unit)] or 0) * units[unit])
    return 0


def check_disks(s: Settings) -> list[Check]:
    out = [
        check_disk("hub", s.hub_dir),
        check_disk("courses", s.course_root),
        check_disk("exchange", s.exchange_root),
    ]
    if s.mode == "docker":
        sizes = home_volume_sizes(s)
        free = shutil.disk_usage(s.hub_dir).free if s.hub_dir.exists() else 0
        total = sum(sizes.values())
        status = "PASS" if free >= MIN_FREE_GIB * 2**30 else "WARN"
        largest = max(sizes.items(), key=lambda kv: kv[1], default=("none", 0))
        detail = f"{len(sizes)} volumes, {_gib(total)} used (largest {largest[0]}: "
        out.append(Check("disk homes", status, detail + f"{_gib(largest[1])})"))
    else:
        out.append(check_disk("homes", s.home_root))
    return out


def certificate_days_left(host: str, port: int, server_name: str) -> float:
    """Days until the certificate served at host:port for server_name expires (unverified)."""
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    with (
        socket.create_connection((host, port), timeout=TIMEOUT) as raw,
        context.wrap_socket(raw, server_hostname=server_name) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    from cryptography import x509

    expires = x509.load_der_x509_certificate(der).not_valid_after_utc
    return (expires - datetime.now(UTC)).total_seconds() / 86400


def check_tls(s: Settings) -> Check:
    if s.tls == "off":
        return Check("TLS certificate", "SKIP", "COURSEHUB_TLS=off: plain HTTP")
    server_name = s.domain or "localhost"
    address = s.tls_check_address
    host, _, port = address.rpartition(":")
    try:
        days = certificate_days_left(host, int(port), server_name)
    except (OSError, ValueError) as exc:
        return Check("TLS certificate", "FAIL", f"{address}: {_reason(exc)}")
    if days < 0:
        return Check("TLS certificate", "FAIL", f"{server_name}: expired {-days:.0f} days ago")
    status = "PASS" if days >= CERT_WARN_DAYS else "WARN"
    return Check("TLS certificate", status, f"{server_name}: expires in {days:.0f} days")


def deployment_checks(s: Settings, course_for) -> list[Check]:
    """One Check per part of the running deployment; ``course_for`` opens a course."""
    token_path = cli_token_path(s)
    token = token_path.read_text().strip() if token_path.is_file() else ""
    out = [check_hub(s, token), check_proxy(s)]
    out += [check_formgrader(s, course_id) for course_id in s.courses]
    out.append(check_metrics(s, token))
    out.append(check_database("hub database", hub_db_url(s), "select count(*) from users", "users"))
    for course_id in s.courses:
        course = course_for(s, course_id)
        name = f"gradebook {course_id}"
        if not course.has_gradebook():
            out.append(Check(name, "SKIP", "none yet: nbgrader makes it at the first release"))
            continue
        count = "select count(*) from submitted_assignment"
        out.append(check_database(name, course.gradebook_url, count, "submissions"))
    out += check_disks(s)
    out.append(check_tls(s))
    return out
