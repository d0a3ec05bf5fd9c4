"""The docker compose deployment on a real Docker engine, under a throwaway name, for tests."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from contextlib import contextmanager

import pytest
import requests
from hubkit import REPO, Browser, free_port_block, wait_for


def engine_available() -> bool:
    return (
        shutil.which("docker") is not None
        and subprocess.run(["docker", "info"], capture_output=True).returncode == 0
    )


def require_engine() -> None:
    """Skip without a Docker engine, or fail when COURSEHUB_REQUIRE_DOCKER says there is one."""
    if engine_available():
        return
    if os.environ.get("COURSEHUB_REQUIRE_DOCKER"):
        pytest.fail("COURSEHUB_REQUIRE_DOCKER is set but no Docker engine answers `docker info`")
    pytest.skip("no Docker engine reachable (set COURSEHUB_REQUIRE_DOCKER=1 to fail instead)")


@contextmanager
def deployed(hub: ComposeHub, build: bool = True):
    """``hub`` up (built first); its compose logs printed and all of it removed afterwards."""
    require_engine()
    try:
        yield hub.up(build=build)
    finally:
        print("--- compose logs ---\n" + hub.logs())
        hub.destroy()


def enrol_and_sign_up(stack: ComposeHub, passwords: dict[str, str]) -> dict[str, Browser]:
    """Put the students on the roster, then each signs up and logs in; their browsers."""
    roster = "username\n" + "".join(f"{name}\n" for name in passwords)
    stack.hub_exec("sh", "-c", f"printf '{roster}' > /tmp/roster.csv")
    stack.cli("students", "import", "/tmp/roster.csv")
    browsers = {}
    for name, password in passwords.items():
        browser = Browser(stack)
        browser.signup(name, password)
        assert browser.login(name, password), f"{name} cannot log in"
        browsers[name] = browser
    return browsers


def compose_command() -> list[str]:
    """`docker compose` (v2) where it works, else Debian's `docker-compose` 1.29."""
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    raise RuntimeError("neither `docker compose` nor `docker-compose` is installed")


class ComposeHub:
    """``docker compose up -d --build`` with every name prefixed, so nothing real is touched."""

    def __init__(
        self,
        admin_password: str = "instructor-pass-9",
        env: dict[str, str] | None = None,
        profiles: tuple[str, ...] = (),
    ):
        """``env`` adds or overrides .env knobs; ``profiles`` turns on optional services."""
        self.port = free_port_block(2)
        self.name = f"chtest{self.port}"
        self.url = f"http://127.0.0.1:{self.port}"
        # The proxy's HTTPS port (COURSEHUB_TLS=own/acme; unused when off), and what requests
        # verify its certificate against (a test's own CA bundle).
        self.https_port = self.port + 1
        self.verify: bool | str = True
        self.admin_password = admin_password
        self.compose = [*compose_command(), "-p", self.name]
        self.compose += [arg for profile in profiles for arg in ("--profile", profile)]
        self.env = {
            **os.environ,
            "COURSEHUB_NAME": self.name,
            "COURSEHUB_BIND": "127.0.0.1",
            "COURSEHUB_PORT": str(self.port),
            "COURSEHUB_HTTPS_PORT": str(self.https_port),
            "COURSEHUB_ADMIN_PASSWORD": admin_password,
            "COURSEHUB_MEM_LIMIT": "3G",
            "COURSEHUB_CPU_LIMIT": "2",
            **(env or {}),
        }
        self.hub_container = f"{self.name}-hub"

    def run(self, *args, check=True, timeout=1800, **kwargs) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            list(args),
            env=self.env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=timeout,
            **kwargs,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"{' '.join(args)} failed ({proc.returncode}):\n"
                f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
            )
        return proc

    def up(self, build: bool = True) -> ComposeHub:
        started = time.monotonic()
        self.run(*self.compose, "up", "-d", *(["--build"] if build else []))
        print(f"compose up{' --build' if build else ''}: {time.monotonic() - started:.0f} s")
        self.wait_ready()
        return self

    def wait_ready(self) -> None:
        started = time.monotonic()
        wait_for(self.api_ready, "the hub in docker", timeout=180)
        print(f"hub ready {time.monotonic() - started:.0f} s after start")

    def api_ready(self) -> bool:
        answer = requests.get(self.url + "/hub/api/", timeout=5, verify=self.verify)
        return answer.status_code == 200

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.run("docker", "exec", self.hub_container, "coursehub", *args, check=check)

    def cli_token(self) -> str:
        return self.run(
            "docker", "exec", self.hub_container, "cat", "/srv/coursehub/hub/cli-token"
        ).stdout.strip()

    def api(self, method: str, path: str, **kwargs):
        headers = {"Authorization": f"token {self.cli_token()}"}
        return requests.request(
            method,
            f"{self.url}/hub/api{path}",
            headers=headers,
            timeout=30,
            verify=self.verify,
            **kwargs,
        )

    def user_container(self, name: str) -> str:
        return f"{self.name}-{name}"

    def exec_as(self, name: str, *cmd: str, uid: int | None = None) -> subprocess.CompletedProcess:
        """Run ``cmd`` in ``name``'s container as the student's own uid."""
        uid = uid if uid is not None else self.uid_of(name)
        return self.run(
            "docker", "exec", "-u", f"{uid}:{uid}", self.user_container(name), *cmd, check=False
        )

    def uid_of(self, name: str) -> int:
        out = self.run("docker", "top", self.user_container(name), "-eo", "pid,uid,cmd").stdout
        for line in out.splitlines()[1:]:
            _pid, uid, cmd = line.split(None, 2)
            if "jupyterhub-singleuser" in cmd and "start.sh" not in cmd:
                return int(uid)
        raise AssertionError(f"no jupyterhub-singleuser process in {name}'s container:\n{out}")

    def hub_exec(self, *cmd: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.run("docker", "exec", self.hub_container, *cmd, check=check)

    def export_grades(self) -> str:
        """`coursehub export`'s CSV: what a backup and restore must keep to the byte."""
        self.cli("export", "--output=/tmp/grades.csv")
        return self.hub_exec("cat", "/tmp/grades.csv").stdout

    def backup(self, archive) -> subprocess.CompletedProcess:
        """The README's `compose exec -T hub coursehub backup - > FILE` (stderr as text)."""
        with open(archive, "wb") as out:
            made = subprocess.run(
                [*self.compose, "exec", "-T", "hub", "coursehub", "backup", "-"],
                stdout=out, stderr=subprocess.PIPE, env=self.env, cwd=REPO, timeout=600,
            )  # fmt: skip
        made.stderr = made.stderr.decode()
        return made

    def restore(self, archive, *args: str) -> subprocess.CompletedProcess:
        """The README's `compose run --rm -T hub coursehub restore - < FILE`."""
        with open(archive, "rb") as backup:
            return subprocess.run(
                [*self.compose, "run", "--rm", "-T", "hub", "coursehub", "restore", *args, "-"],
                stdin=backup, capture_output=True, text=True, env=self.env, cwd=REPO, timeout=600,
            )  # fmt: skip

    def volumes(self) -> list[str]:
        out = self.run("docker", "volume", "ls", "--format", "{{.Name}}").stdout.split()
        return sorted(v for v in out if v.startswith(self.name + "-"))

    def logs(self) -> str:
        parts = [self.run(*self.compose, "logs", "--no-color", "--tail", "150", check=False).stdout]
        for container in self.run(
            "docker", "ps", "-a", "--format", "{{.Names}}", check=False
        ).stdout.split():
            if container.startswith(self.name + "-") and container != self.hub_container:
                parts.append(
                    f"--- {container} ---\n"
                    + self.run("docker", "logs", "--tail", "60", container, check=False).stderr
                )
        return "\n".join(parts)

    def destroy(self) -> None:
        self.run(*self.compose, "down", "--remove-orphans", check=False)
        names = self.run(
            "docker", "ps", "-aq", "--filter", f"name={self.name}-", check=False
        ).stdout.split()
        if names:
            self.run("docker", "rm", "-f", *names, check=False)
        if self.volumes():
            self.run("docker", "volume", "rm", *self.volumes(), check=False)
        # The private network and the hub-to-database one (made with or without the profile).
        self.run("docker", "network", "rm", self.name, f"{self.name}-db", check=False)


def inspect(obj: str) -> dict:
    proc = subprocess.run(["docker", "inspect", obj], capture_output=True, text=True)
    return json.loads(proc.stdout)[0] if proc.returncode == 0 else {}
