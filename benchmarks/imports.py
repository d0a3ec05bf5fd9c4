"""Benchmark: `import torch` and a kernel start with and without the venv's compiled bytecode.

Why `scripts/bootstrap` compiles the venv: uv installs no ``.pyc`` files, and with
PYTHONDONTWRITEBYTECODE set Python never writes them, so each kernel compiles every module
it imports again. "Without" points Python at an empty bytecode cache
(PYTHONPYCACHEPREFIX) and forbids writing one, which is that situation.

    .venv/bin/python benchmarks/imports.py [--runs 5]

Not a test: the figures depend on the machine and on whatever else runs on it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

KERNEL_START = """
import time
from jupyter_client.manager import start_new_kernel
t = time.monotonic()
km, kc = start_new_kernel(kernel_name="python3", stderr=open("/dev/null", "w"))
print(time.monotonic() - t)
kc.stop_channels()
km.shutdown_kernel(now=True)
"""


def timed(code: str, env: dict) -> float:
    t0 = time.monotonic()
    subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True)
    return time.monotonic() - t0


def kernel_start(env: dict) -> float:
    out = subprocess.run(
        [sys.executable, "-c", KERNEL_START], env=env, check=True, capture_output=True, text=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as empty:
        compiled = {k: v for k, v in os.environ.items() if k != "PYTHONPYCACHEPREFIX"}
        compiled["PYTHONDONTWRITEBYTECODE"] = "1"
        # the kernel is started from this venv's interpreter, so it inherits the setting
        bare = {**compiled, "PYTHONPYCACHEPREFIX": empty}
        rows = []
        for label, measure in (
            ("import torch", lambda env: timed("import torch", env)),
            ("kernel start (to ready)", kernel_start),
        ):
            with_pyc, without = [], []
            for _ in range(args.runs):  # interleaved, so drifting load hits both alike
                with_pyc.append(measure(compiled))
                without.append(measure(bare))
            rows.append((label, statistics.median(without), statistics.median(with_pyc)))
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print(f"median of {args.runs} runs      no .pyc   compiled   ratio")
    for label, without, with_pyc in rows:
        print(f"{label:<26}{without:7.2f} s {with_pyc:8.2f} s {without / with_pyc:6.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
