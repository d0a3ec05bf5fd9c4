"""Run JupyterHub and one formgrader per course; restart a formgrader that exits; stop all.

Why formgraders are not JupyterHub-managed services: JupyterHub (app.py ``start_service``)
gives a managed service a deadline to answer (a fixed 10 s in 5.x, a per-service timeout in 6)
and exits at start when one misses it, without stopping the proxy or the service it started;
on a busy host that is a failed start (a restart loop in docker), and a formgrader that dies
later is never restarted. Declared as external services (URL and token, no command) the hub
only logs a warning while one is down and the proxy routes to it as soon as it answers, so
this process starts them, restarts them, and cleans up after the hub.
"""

from __future__ import annotations

import ctypes
import json
import os
import pwd
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from coursehub.grading.broker import BROKER_ENV

from .paths import REPO_ROOT, account_path, venv_bin
from .settings import Settings
from .setup import read_or_create_token

HUB_CONFIG = REPO_ROOT / "hub_config" / "jupyterhub_config.py"
PR_SET_PDEATHSIG = 1


def say(message: str) -> None:
    print(f"coursehub: {message}", flush=True)


@dataclass(frozen=True)
class Formgrader:
    """One course's formgrader: a jupyterhub-singleuser server run as the course's grader."""

    course_id: str
    url: str
    token: str
    user: str
    cwd: Path


def formgraders(settings: Settings) -> list[Formgrader]:
    """The formgrader of every course; the hub config and this supervisor share it."""
    return [
        Formgrader(
            course_id=course_id,
            url=f"http://127.0.0.1:{settings.port + 10 + index}",
            token=read_or_create_token(settings.hub_dir / f"service-{course_id}-token"),
            user=settings.grader_user(course_id),
            cwd=settings.course_dir(course_id),
        )
        for index, course_id in enumerate(settings.courses)
    ]


def formgrader_env(settings: Settings, fg: Formgrader) -> dict[str, str]:
    """What JupyterHub's service spawner would set (jupyterhub/spawner.py ``get_env``)."""
    prefix = f"/services/{fg.course_id}/"
    scopes = json.dumps(["access:services", f"access:services!service={fg.course_id}"])
    keep = {k: os.environ[k] for k in ("LANG", "LC_ALL") if k in os.environ}
    # Its grading engine picks the sandbox (docker or bwrap), GPUs and datasets from the
    # deployment's settings, as `coursehub autograde` does; the admin's password stays out.
    deployment = {
        k: v
        for k, v in settings.env.items()
        if k.startswith("COURSEHUB_") and k != "COURSEHUB_ADMIN_PASSWORD"
    }
    return {
        **keep,
        **deployment,
        "HOME": str(fg.cwd),
        "USER": fg.user,
        "SHELL": "/bin/bash",
        "PATH": account_path(),
        "JUPYTERHUB_SERVICE_NAME": fg.course_id,
        "JUPYTERHUB_API_TOKEN": fg.token,
        "JUPYTERHUB_CLIENT_ID": f"service-{fg.course_id}",
        # The formgrader runs beside the hub: loopback even when the hub binds 0.0.0.0.
        "JUPYTERHUB_API_URL": settings.hub_api_loopback,
        "JUPYTERHUB_BASE_URL": "/",
        "JUPYTERHUB_HOST": "",
        "JUPYTERHUB_SERVICE_PREFIX": prefix,
        "JUPYTERHUB_SERVICE_URL": fg.url,
        "JUPYTERHUB_OAUTH_CALLBACK_URL": prefix + "oauth_callback",
        "JUPYTERHUB_OAUTH_SCOPES": scopes,
        "JUPYTERHUB_OAUTH_ACCESS_SCOPES": scopes,
        "JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES": "[]",
        "JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED": "False",
        "JUPYTERHUB_USER": fg.user,
        "JUPYTERHUB_SERVER_NAME": "",
        "JUPYTERHUB_DEFAULT_URL": "/lab",
        **({BROKER_ENV: broker_path(fg.course_id)} if settings.mode == "docker" else {}),
    }


def broker_path(course_id: str) -> str:
    """Docker mode: the Unix socket on which root runs sandboxes for this course's grader."""
    return f"/run/coursehub/sandbox-{course_id}.sock"


def start_brokers(settings: Settings, formgraders: list[Formgrader]) -> None:
    """Docker mode: root starts the formgraders' grading sandboxes (grading/broker.py)."""
    from coursehub.grading import sandbox_execute as sx
    from coursehub.grading.broker import Broker

    image = settings.student_image

    def settings_for(limits: dict) -> dict:
        return {
            "sandbox": "docker",
            "image": image,
            "limits": limits,
            "gpus": sx.deployment_gpus("docker"),
            "datasets": sx.resolve_datasets("auto", "docker"),
        }

    def run_sandbox(nb: dict, files_dir: str, limits: dict) -> dict:
        return sx.execute(nb, files_dir, settings_for(limits))

    for fg in formgraders:
        try:
            gid = pwd.getpwnam(fg.user).pw_gid
            Broker(broker_path(fg.course_id), gid, run_sandbox).start()
        except (KeyError, OSError) as exc:
            say(f"no sandbox broker for {fg.course_id} (its formgrader cannot autograde): {exc}")


def _die_with_parent() -> None:
    """In the child: get SIGTERM if the supervisor dies (even by SIGKILL), not orphaned."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _stop(proc: subprocess.Popen, grace: float) -> None:
    """SIGTERM to its process group, then SIGKILL after ``grace`` seconds."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        if proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, sig)
            proc.wait(timeout=wait)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass


def _stop_stale_proxy(pid_file: Path) -> None:
    """The proxy JupyterHub left running when it exited without its cleanup (crash, kill)."""
    try:
        pid = int(pid_file.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return
    if b"configurable-http-proxy" not in cmdline:
        return  # a recycled pid: not ours to kill
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            break
        for _ in range(50):
            if not Path(f"/proc/{pid}").exists():
                break
            time.sleep(0.1)
    pid_file.unlink(missing_ok=True)


class Supervisor:
    """The hub and the formgraders as children; ``run`` returns the hub's exit status."""

    def __init__(self, settings: Settings, hub_env: dict[str, str]):
        self.settings = settings
        # JupyterHub upgrades its database by running `alembic` from PATH (jupyterhub/dbutil.py):
        # this venv's, also under sudo, whose PATH has no venv (the hub would exit at start).
        path = os.pathsep.join([str(Path(sys.executable).parent), hub_env.get("PATH", os.defpath)])
        self.hub_env = {**hub_env, "PATH": path}
        self.formgraders = formgraders(settings)
        self.procs: dict[str, subprocess.Popen] = {}
        self.backoff = {fg.course_id: 1.0 for fg in self.formgraders}
        self.next_start: dict[str, float | None] = {fg.course_id: None for fg in self.formgraders}
        self.started_at: dict[str, float] = {}
        self.hub: subprocess.Popen | None = None
        self.signalled = 0

    def start_formgrader(self, fg: Formgrader) -> None:
        """Start it; on failure (its account gone, say) say why and leave it to the retries."""
        self.started_at[fg.course_id] = time.monotonic()
        self.procs.pop(fg.course_id, None)
        try:
            switch = {}
            if os.geteuid() == 0:
                entry = pwd.getpwnam(fg.user)
                switch = {
                    "user": entry.pw_uid,
                    "group": entry.pw_gid,
                    "extra_groups": os.getgrouplist(fg.user, entry.pw_gid),
                }
            self.procs[fg.course_id] = subprocess.Popen(
                [venv_bin("jupyterhub-singleuser"), f"--ServerApp.root_dir={fg.cwd}"],
                env=formgrader_env(self.settings, fg),
                cwd=fg.cwd,
                start_new_session=True,  # signals reach it from this supervisor only
                preexec_fn=_die_with_parent,  # runs after the uid switch, which would clear it
                **switch,
            )
        except (KeyError, OSError, subprocess.SubprocessError) as exc:
            say(f"cannot start formgrader {fg.course_id}: {exc}")

    def restart_exited(self) -> None:
        now = time.monotonic()
        for fg in self.formgraders:
            cid = fg.course_id
            proc = self.procs.get(cid)
            if proc is not None and proc.poll() is None:
                continue
            if self.next_start[cid] is None:
                # Crash loops back off (1 s doubling to 30 s); a long run resets the delay.
                delay = 1.0 if now - self.started_at[cid] > 60 else self.backoff[cid]
                self.backoff[cid] = min(delay * 2, 30.0)
                self.next_start[cid] = now + delay
                how = f"exited with status {proc.returncode}" if proc else "is not running"
                say(f"formgrader {cid} {how}; restarting in {delay:g} s")
            elif now >= self.next_start[cid]:
                self.next_start[cid] = None
                self.start_formgrader(fg)

    def run(self) -> int:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, self._on_signal)
        try:
            if self.settings.mode == "docker" and os.geteuid() == 0:
                start_brokers(self.settings, self.formgraders)
            for fg in self.formgraders:
                self.start_formgrader(fg)
            jupyterhub = venv_bin("jupyterhub")
            self.hub = subprocess.Popen(
                [jupyterhub, "-f", str(HUB_CONFIG)],
                env=self.hub_env,
                process_group=0,  # a terminal's Ctrl-C reaches this supervisor, which forwards
                preexec_fn=_die_with_parent,
            )
            while not self.signalled and self.hub.poll() is None:
                self.restart_exited()
                time.sleep(0.5)
        finally:
            self.stop_all()
        if self.signalled:
            return 0
        say(f"JupyterHub exited with status {self.hub.returncode}; formgraders and proxy stopped")
        return self.hub.returncode or 0

    def _on_signal(self, signum, frame) -> None:
        self.signalled = signum

    def stop_all(self) -> None:
        """The hub first (it stops student servers and its proxy), then what it left."""
        if self.hub is not None:
            _stop(self.hub, grace=25.0)
        for proc in self.procs.values():
            _stop(proc, grace=5.0)
        _stop_stale_proxy(self.settings.hub_dir / "proxy.pid")


def main() -> int:
    """``python -m coursehub.supervise``: the docker image's command; settings from the env."""
    from .errors import CoursehubError
    from .settings import load_settings
    from .setup import prepare

    try:
        settings = load_settings()
        prepare(settings)
    except CoursehubError as exc:  # a bad setting, no database: one line, not a traceback
        say(str(exc))
        return 1
    return Supervisor(settings, dict(os.environ)).run()


if __name__ == "__main__":
    sys.exit(main())
