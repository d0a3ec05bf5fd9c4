"""The hub starts with every core busy, survives its formgrader dying, and leaves nothing behind."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

import pytest
from hubkit import COURSE, Browser, LocalHub, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def needs_root():
    if os.geteuid() != 0:
        pytest.skip("local mode runs students as their own system accounts: needs root")


@pytest.fixture
def busy_cores():
    """One busy loop per core for the test's duration."""
    burners = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"])
        for _ in range(os.cpu_count() or 1)
    ]
    try:
        yield len(burners)
    finally:
        for proc in burners:
            proc.kill()
            proc.wait()


def formgrader_answers(admin: Browser) -> bool:
    response = admin.get(f"/services/{COURSE}/formgrader")
    return response.status_code == 200 and "formgrader" in response.text.lower()


def test_hub_starts_on_a_busy_host_and_restarts_its_formgrader(busy_cores):
    hub = LocalHub()
    try:
        # One attempt: JupyterHub-managed services made this exit when the formgrader took
        # more than 10 s to answer, which it does on a loaded 2-core host.
        hub.start(timeout=300)
        admin = Browser(hub)
        assert admin.login("admin", hub.admin_password), "the hub does not serve a login"
        wait_for(lambda: formgrader_answers(admin), "the formgrader", timeout=300)

        [first] = hub.formgrader_pids()
        os.kill(first, signal.SIGKILL)
        wait_for(lambda: set(hub.formgrader_pids()) - {first}, "a new formgrader", timeout=60)
        wait_for(lambda: formgrader_answers(admin), "the restarted formgrader", timeout=300)
        assert hub.proc.poll() is None, "the hub exited when its formgrader died"
        assert f"formgrader {COURSE} exited with status -9; restarting" in hub.log_tail(2000)

        assert hub.terminate() == 0
        assert hub.processes() == {}, "proxy or formgrader left running after the hub stopped"
    finally:
        print(f"--- hub log tail ({hub.log_path}) ---\n{hub.log_tail()}")
        hub.stop()


def test_hub_that_fails_at_start_leaves_no_proxy_or_formgrader():
    hub = LocalHub()
    # The hub API's port taken: JupyterHub exits after it has started the proxy.
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", hub.port + 1))
    blocker.listen()
    try:
        with pytest.raises(RuntimeError, match="hub exited with 1"):
            hub.start()
        assert "Failed to bind hub" in hub.log_tail(400)
        assert hub.processes() == {}, "proxy or formgrader left running after a failed start"
    finally:
        blocker.close()
        print(f"--- hub log tail ({hub.log_path}) ---\n{hub.log_tail()}")
        hub.stop()
