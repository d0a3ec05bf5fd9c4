"""A real coursehub hub on loopback for tests, and a browser-like client for it."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import requests

REPO = Path(__file__).resolve().parents[1]
COURSE, ASSIGNMENT = "pytorch101", "01_tensors"
COURSEHUB = [sys.executable, "-m", "coursehub"]


def free_port_block(span: int = 12) -> int:
    """A base port whose next ``span`` ports are free (hub, hub API, proxy API, services)."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
        if base + span >= 65535:
            continue
        ok = True
        for port in range(base, base + span):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    ok = False
                    break
        if ok:
            return base
    raise RuntimeError("no free block of ports on 127.0.0.1")


def wait_for(predicate, what: str, timeout: float = 120.0):
    """Poll with exponential backoff until ``predicate()`` is truthy; return its value."""
    delay, deadline = 0.1, time.monotonic() + timeout
    while True:
        try:
            value = predicate()
        except (requests.ConnectionError, OSError):
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(delay)
        delay = min(delay * 1.6, 3.0)


class LocalHub:
    """``coursehub local`` in a private data directory; stopped and cleaned up by ``stop``."""

    def __init__(self, admin_password: str = "instructor-pass-9"):
        base = Path(tempfile.mkdtemp(prefix="coursehub-test-", dir="/tmp"))
        base.chmod(0o755)  # students' own processes must traverse it
        self.data_dir = base / "data"
        self.port = free_port_block()
        self.url = f"http://127.0.0.1:{self.port}"
        self.prefix = f"t{self.port}-"
        self.admin_password = admin_password
        self.env = {
            **os.environ,
            "COURSEHUB_MODE": "local",
            "COURSEHUB_DATA_DIR": str(self.data_dir),
            "COURSEHUB_PORT": str(self.port),
            "COURSEHUB_ADMIN_USER": "admin",
            "COURSEHUB_ADMIN_PASSWORD": admin_password,
            "COURSEHUB_USER_PREFIX": self.prefix,
            "COURSEHUB_ENV_FILE": str(base / "no.env"),
            "COURSEHUB_CULL_TIMEOUT": "3600",
        }
        self.log_path = base / "hub.log"
        self.proc = None

    def start(self, timeout: float = 90) -> LocalHub:
        """`coursehub local`; its supervisor keeps a slow formgrader from failing the start."""
        self._log = open(self.log_path, "w")  # noqa: SIM115 - the hub writes to it until stop()
        self.proc = subprocess.Popen(
            [*COURSEHUB, "local"],
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=REPO,
        )
        wait_for(lambda: self.api_ready(), "the hub API", timeout=timeout)
        return self

    def api_ready(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"hub exited with {self.proc.returncode}:\n{self.log_tail()}")
        return requests.get(self.url + "/hub/api/", timeout=5).status_code == 200

    def log_tail(self, lines: int = 80) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            [*COURSEHUB, *args], env=self.env, capture_output=True, text=True, cwd=REPO
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"coursehub {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
            )
        return proc

    def cli_token(self) -> str:
        return (self.data_dir / "hub" / "cli-token").read_text().strip()

    def api(self, method: str, path: str, **kwargs):
        headers = {"Authorization": f"token {self.cli_token()}"}
        return requests.request(
            method, f"{self.url}/hub/api{path}", headers=headers, timeout=30, **kwargs
        )

    def system_user(self, name: str) -> str:
        return self.prefix + name

    def processes(self) -> dict[int, str]:
        """Pid -> command line of this hub's proxy and formgraders (found in /proc)."""
        marks = (str(self.data_dir), f"--api-port\0{self.port + 2}\0")
        found = {}
        for entry in Path("/proc").iterdir():
            try:
                cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
            except OSError:  # not a pid, or it exited meanwhile
                continue
            if any(mark in cmdline for mark in marks):
                found[int(entry.name)] = cmdline.replace("\0", " ").strip()
        return found

    def formgrader_pids(self) -> list[int]:
        return [pid for pid, cmd in self.processes().items() if "jupyterhub-singleuser" in cmd]

    def terminate(self, timeout: float = 60) -> int:
        """SIGTERM to ``coursehub local`` alone (not its group): it must stop what it started."""
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        # Student servers run in sessions of their own; stop them with their accounts.
        for line in Path("/etc/passwd").read_text().splitlines():
            name = line.split(":", 1)[0]
            if self.owns_account(name):
                subprocess.run(["pkill", "-KILL", "-u", name], capture_output=True)
                subprocess.run(["userdel", name], capture_output=True)
        subprocess.run(["pkill", "-f", f"127.0.0.1:{self.port + 2}"], capture_output=True)

    def owns_account(self, name: str) -> bool:
        """Whether ``stop`` removes this system account (students and every course's grader)."""
        return name.startswith(self.prefix) or name.startswith("grader-")


class Browser:
    """A requests session that behaves like a browser: cookies, redirects, XSRF."""

    def __init__(self, hub: LocalHub):
        self.hub = hub
        self.s = requests.Session()
        # A test CA's bundle behind HTTPS; requests would let REQUESTS_CA_BUNDLE override it.
        self.s.verify = getattr(hub, "verify", True)
        self.s.trust_env = self.s.verify is True

    def _xsrf(self, path: str) -> str:
        page = self.s.get(self.hub.url + path, timeout=30)
        match = re.search(r'name="_xsrf" value="([^"]+)"', page.text)
        return match.group(1) if match else self.s.cookies.get("_xsrf", "")

    def post_form(self, path: str, data: dict) -> requests.Response:
        data = {**data, "_xsrf": self._xsrf(path)}
        return self.s.post(self.hub.url + path, data=data, timeout=60)

    def signup(self, name: str, password: str) -> requests.Response:
        return self.post_form(
            "/hub/signup",
            {
                "username": name,
                "signup_password": password,
                "signup_password_confirmation": password,
            },
        )

    def login(self, name: str, password: str) -> bool:
        self.post_form("/hub/login", {"username": name, "password": password})
        return (
            self.s.get(
                self.hub.url + "/hub/api/user",
                timeout=30,
                headers={"X-XSRFToken": self.s.cookies.get("_xsrf", "")},
            ).status_code
            == 200
        )

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.s.get(self.hub.url + path, timeout=60, **kwargs)

    def server_call(self, method: str, path: str, **kwargs) -> requests.Response:
        """A call to the user's own Jupyter server, with the XSRF header the lab page sends."""
        token = next(
            (c.value for c in self.s.cookies if c.name == "_xsrf" and "/user/" in c.path), ""
        )
        headers = {"X-XSRFToken": token}
        return self.s.request(method, self.hub.url + path, headers=headers, timeout=120, **kwargs)


def spawn(hub, browser, name) -> float:
    """Start ``name``'s server through the hub and return seconds until it is ready."""
    started = time.monotonic()
    response = hub.api("POST", f"/users/{name}/server")
    assert response.status_code in (201, 202), response.text
    wait_for(
        lambda: hub.api("GET", f"/users/{name}").json()["servers"].get("", {}).get("ready"),
        f"{name}'s server",
        timeout=180,
    )
    elapsed = time.monotonic() - started
    # Follows the OAuth redirects and sets the server's XSRF cookie, as a browser would.
    lab = browser.get(f"/user/{name}/lab")
    assert lab.status_code == 200, lab.status_code
    return elapsed


def fill_with_reference(released_nb, reference_nb):
    """The released notebook with every solution cell replaced by the reference answer."""
    answers = {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in reference_nb.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }
    for cell in released_nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    return released_nb


def fetch_and_submit(browser, name, answer=None, course=COURSE):
    """Fetch the released assignment and submit it (filled with ``answer``'s solutions if given)."""
    base = f"/user/{name}"
    listed = browser.server_call("GET", f"{base}/assignments", params={"course_id": course}).json()
    assert listed["success"], listed
    assert ASSIGNMENT in [a["assignment_id"] for a in listed["value"]]
    fetched = browser.server_call(
        "POST", f"{base}/assignments/fetch", data={"course_id": course, "assignment_id": ASSIGNMENT}
    ).json()
    assert fetched["success"], fetched
    path = f"{course}/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
    if answer is not None:
        model = browser.server_call("GET", f"{base}/api/contents/{path}").json()
        nb = fill_with_reference(nbformat.from_dict(model["content"]), answer)
        saved = browser.server_call(
            "PUT",
            f"{base}/api/contents/{path}",
            json={"type": "notebook", "format": "json", "content": nb},
        )
        assert saved.status_code == 200, saved.text
    submitted = browser.server_call(
        "POST",
        f"{base}/assignments/submit",
        data={"course_id": course, "assignment_id": ASSIGNMENT},
    ).json()
    assert submitted["success"], submitted


class IsolatedHub(LocalHub):
    """A LocalHub with a course (so a grader account) of its own: other hubs may run at once."""

    def __init__(self, course: str, **kwargs):
        super().__init__(**kwargs)
        self.course = course
        self.env["COURSEHUB_COURSES"] = course

    def owns_account(self, name: str) -> bool:
        """Its students and its own grader only, not the accounts of hubs running beside it."""
        return name.startswith(self.prefix) or name == f"grader-{self.course}"
