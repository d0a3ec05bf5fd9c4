"""GPU policy for student containers: none, shared, one GPU each (round-robin), or auto."""

from __future__ import annotations

import json
import os
import tempfile
import threading
from pathlib import Path

from .errors import CoursehubError

POLICIES = ("auto", "none", "shared", "one-each")


def parse_policy(value: str) -> str:
    value = (value or "auto").strip().lower()
    if value not in POLICIES:
        raise CoursehubError(f"COURSEHUB_GPUS={value!r}: expected one of {', '.join(POLICIES)}")
    return value


def parse_gpu_ids(value: str) -> list[str]:
    """GPU ids from the admin ("0,1,2,3"), in the order to hand them out."""
    ids = [v.strip() for v in (value or "").split(",") if v.strip()]
    if len(set(ids)) != len(ids):
        raise CoursehubError(f"COURSEHUB_GPU_IDS={value!r}: an id appears twice")
    return ids


def engine_has_nvidia(docker_info: dict) -> bool:
    """Whether a Docker engine can give containers NVIDIA GPUs (runtime or CDI devices)."""
    if "nvidia" in (docker_info.get("Runtimes") or {}):
        return True
    devices = docker_info.get("DiscoveredDevices") or []
    return any(str(d.get("ID", "")).startswith("nvidia.com/gpu") for d in devices)


def effective_policy(policy: str, docker_info: dict, log=None) -> str:
    """Resolve ``auto``: GPUs shared when the engine has them, else CPU with one log line."""
    if policy != "auto":
        return policy
    if engine_has_nvidia(docker_info):
        return "shared"
    if log:
        log.warning(
            "COURSEHUB_GPUS=auto: no NVIDIA runtime on the Docker engine; students get CPU only"
        )
    return "none"


def device_requests(policy: str, gpu_id: str | None = None) -> list[dict]:
    """docker-py ``device_requests`` for one container under a resolved policy."""
    if policy == "none":
        return []
    if policy == "shared":
        return [{"Driver": "nvidia", "Count": -1, "Capabilities": [["gpu"]]}]
    if policy == "one-each":
        if gpu_id is None:
            raise CoursehubError("one-each GPU policy needs a GPU id for every student")
        return [{"Driver": "nvidia", "DeviceIDs": [gpu_id], "Capabilities": [["gpu"]]}]
    raise CoursehubError(f"unresolved GPU policy {policy!r}")


class GpuAssignments:
    """Round-robin GPU per student, kept in a JSON file so it survives hub restarts.

    A student keeps their GPU across restarts (their CUDA caches and expectations stay);
    new students get the next id in turn.
    """

    def __init__(self, path: Path, gpu_ids: list[str]):
        if not gpu_ids:
            raise CoursehubError("one-each GPU policy needs COURSEHUB_GPU_IDS (e.g. 0,1,2,3)")
        self.path = Path(path)
        self.gpu_ids = list(gpu_ids)
        self._lock = threading.Lock()

    def _load(self) -> dict:
        if not self.path.is_file():
            return {"next": 0, "users": {}}
        try:
            return json.loads(self.path.read_text())
        except json.JSONDecodeError as exc:
            raise CoursehubError(
                f"{self.path}: corrupt GPU bookkeeping ({exc}); fix or delete it"
            ) from None

    def _save(self, state: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".gpu-")
        with os.fdopen(fd, "w") as f:
            json.dump(state, f, indent=1, sort_keys=True)
        os.replace(tmp, self.path)

    def gpu_for(self, user: str) -> str:
        with self._lock:
            state = self._load()
            current = state["users"].get(user)
            if current in self.gpu_ids:
                return current
            gpu = self.gpu_ids[state["next"] % len(self.gpu_ids)]
            state["next"] += 1
            state["users"][user] = gpu
            self._save(state)
            return gpu

    def load_per_gpu(self) -> dict[str, int]:
        counts = dict.fromkeys(self.gpu_ids, 0)
        for gpu in self._load()["users"].values():
            if gpu in counts:
                counts[gpu] += 1
        return counts
