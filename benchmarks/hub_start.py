"""Benchmark: `coursehub local` start time on an idle host and with every core busy.

Two figures per run: until the hub serves its login (API up) and until the course's
formgrader answers through the proxy. A JupyterHub-managed service that missed its deadline
(10 s in 5.x) made the hub exit; the loaded figure shows how far past that a formgrader can be.

    sudo .venv/bin/python benchmarks/hub_start.py [--runs 1]

Not a test: the figures depend on the machine and on whatever else runs on it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from hubkit import Browser, LocalHub, wait_for  # noqa: E402

# Its own course (and so grader account): a hub test running meanwhile shares no account.
COURSE = "hubbench"


def start_once() -> tuple[float, float]:
    """Seconds until the login is served, and until the formgrader answers."""
    hub = LocalHub()
    hub.env["COURSEHUB_COURSES"] = COURSE
    started = time.monotonic()
    try:
        hub.start(timeout=600)
        admin = Browser(hub)
        wait_for(lambda: admin.login("admin", hub.admin_password), "a login", timeout=600)
        login = time.monotonic() - started
        wait_for(
            lambda: admin.get(f"/services/{COURSE}/formgrader").status_code == 200,
            "the formgrader",
            timeout=600,
        )
        return login, time.monotonic() - started
    finally:
        # Not hub.stop(): it removes every grader-* account, a running hub test's too.
        if hub.proc and hub.proc.poll() is None:
            hub.terminate()
        subprocess.run(["userdel", f"grader-{COURSE}"], capture_output=True)


def measure(runs: int, busy: bool) -> tuple[float, float]:
    burners = []
    if busy:
        burners = [
            subprocess.Popen([sys.executable, "-c", "while True: pass"])
            for _ in range(os.cpu_count() or 1)
        ]
    try:
        times = [start_once() for _ in range(runs)]
    finally:
        for proc in burners:
            proc.kill()
            proc.wait()
    return statistics.median(t[0] for t in times), statistics.median(t[1] for t in times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="starts per condition (median)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("hub_start: error: local mode creates system accounts: run as root")
    idle = measure(args.runs, busy=False)
    loaded = measure(args.runs, busy=True)
    cores = os.cpu_count()
    print(f"{'':28}{'login':>8}{'formgrader':>12}")
    print(f"{'idle host':28}{idle[0]:7.1f}s{idle[1]:11.1f}s")
    print(f"{f'{cores} busy loops ({cores} cores)':28}{loaded[0]:7.1f}s{loaded[1]:11.1f}s")
    print(f"{'loaded / idle':28}{loaded[0] / idle[0]:7.2f}x{loaded[1] / idle[1]:10.2f}x")


if __name__ == "__main__":
    main()
