"""`coursehub doctor`: check a deployment host, one PASS/WARN/FAIL/SKIP line per check."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass

from . import gpus

MIN_FREE_GB = 20
PROBE_TORCH = (
    "import json, torch; "
    "print(json.dumps({'torch': torch.__version__, 'cuda': torch.version.cuda}))"
)


@dataclass
class Check:
    name: str
    status: str  # PASS | WARN | FAIL | SKIP
    detail: str

    def line(self) -> str:
        return f"{self.status:<4}  {self.name}: {self.detail}"


def run(cmd: list[str], timeout: float = 120) -> subprocess.CompletedProcess | None:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except (FileNotFoundError, subprocess.TimeoutExpired):
        return None


def driver_cuda_version(nvidia_smi_output: str) -> str | None:
    """The highest CUDA version the host driver supports, from `nvidia-smi`'s header."""
    match = re.search(r"CUDA Version:\s*([0-9]+\.[0-9]+)", nvidia_smi_output)
    return match.group(1) if match else None


def compare_driver_and_wheel(driver_cuda: str, wheel_cuda: str | None) -> Check:
    """A wheel built for a newer CUDA major than the driver supports cannot use the GPU.

    Within one major version CUDA's minor-version compatibility lets a newer wheel run on
    an older driver, so only the major versions must agree (driver >= wheel).
    """
    name = "driver vs torch CUDA"
    if wheel_cuda is None:
        return Check(name, "WARN", "the student image has a CPU-only torch: GPUs will not be used")
    driver_major, wheel_major = int(driver_cuda.split(".")[0]), int(wheel_cuda.split(".")[0])
    if wheel_major > driver_major:
        return Check(
            name,
            "FAIL",
            f"host driver supports CUDA <= {driver_cuda} but the image's torch is built for CUDA "
            f"{wheel_cuda}: upgrade the NVIDIA driver, or rebuild the student image with "
            f"TORCH_INDEX_URL=https://download.pytorch.org/whl/cu{driver_major}6 (see README)",
        )
    return Check(
        name, "PASS", f"driver supports CUDA {driver_cuda}, torch built for CUDA {wheel_cuda}"
    )


def checks(image: str) -> list[Check]:
    out: list[Check] = []
    info_proc = run(["docker", "info", "--format", "{{json .}}"], timeout=30)
    if info_proc is None or info_proc.returncode != 0:
        detail = "docker CLI not found" if info_proc is None else info_proc.stderr.strip()[:200]
        out.append(Check("docker engine", "FAIL", detail or "docker info failed"))
        return out
    info = json.loads(info_proc.stdout)
    out.append(Check("docker engine", "PASS", f"server {info.get('ServerVersion', '?')}"))

    v2, v1 = (
        run(["docker", "compose", "version", "--short"]),
        run(["docker-compose", "version", "--short"]),
    )
    if v2 is not None and v2.returncode == 0:
        out.append(Check("compose", "PASS", f"docker compose {v2.stdout.strip()}"))
    elif v1 is not None and v1.returncode == 0:
        out.append(Check("compose", "PASS", f"docker-compose {v1.stdout.strip()}"))
    else:
        out.append(Check("compose", "FAIL", "neither `docker compose` nor `docker-compose` works"))

    has_gpu_runtime = gpus.engine_has_nvidia(info)
    out.append(
        Check("NVIDIA runtime", "PASS", "the engine can give containers GPUs")
        if has_gpu_runtime
        else Check(
            "NVIDIA runtime",
            "WARN",
            "none: students get CPU only (install nvidia-container-toolkit for GPUs)",
        )
    )

    probe = run(
        [
            "docker",
            "run",
            "--rm",
            "--network",
            "none",
            "--entrypoint",
            "python",
            image,
            "-c",
            PROBE_TORCH,
        ],
        timeout=300,
    )
    wheel_cuda = None
    if probe is None or probe.returncode != 0:
        detail = (probe.stderr.strip().splitlines() or ["failed"])[-1] if probe else "timed out"
        out.append(Check("student image", "FAIL", f"{image}: {detail}"))
    else:
        found = json.loads(probe.stdout.strip().splitlines()[-1])
        wheel_cuda = found["cuda"]
        out.append(
            Check("student image", "PASS", f"{image}: torch {found['torch']} (CUDA {wheel_cuda})")
        )

    smi = run(["nvidia-smi"], timeout=30)
    if smi is None or smi.returncode != 0:
        out.append(Check("host driver", "SKIP", "nvidia-smi not found on this host: no NVIDIA GPU"))
    else:
        driver_cuda = driver_cuda_version(smi.stdout)
        out.append(Check("host driver", "PASS", f"supports CUDA {driver_cuda}"))
        if driver_cuda:
            out.append(compare_driver_and_wheel(driver_cuda, wheel_cuda))

    if has_gpu_runtime:
        gpu = run(
            [
                "docker",
                "run",
                "--rm",
                "--gpus",
                "all",
                "--entrypoint",
                "sh",
                image,
                "-c",
                "nvidia-smi -L && python -c 'import torch; assert torch.cuda.is_available(); "
                "print(torch.cuda.get_device_name(0))'",
            ],
            timeout=300,
        )
        ok = gpu is not None and gpu.returncode == 0
        detail = (
            gpu.stdout.strip().splitlines()[-1]
            if ok
            else (gpu.stderr.strip()[-200:] if gpu else "timed out")
        )
        out.append(Check("GPU in a student container", "PASS" if ok else "FAIL", detail))
    else:
        out.append(Check("GPU in a student container", "SKIP", "no NVIDIA runtime"))

    root = info.get("DockerRootDir", "/")
    usage = shutil.disk_usage(root if shutil.os.path.isdir(root) else "/")
    free_gb = usage.free / 2**30
    status = "PASS" if free_gb >= MIN_FREE_GB else "WARN"
    out.append(Check("free disk", status, f"{free_gb:.0f} GiB free (images need ~15 GiB)"))
    return out
