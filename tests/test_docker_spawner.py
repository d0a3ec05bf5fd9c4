"""Docker-mode spawner settings, checked without an engine: volumes, limits, uid, GPUs."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from coursehub.hub.spawners import DockerCourseSpawner
from coursehub.settings import load_settings
from docker.types import HostConfig
from jupyterhub.spawner import Spawner
from traitlets.config import Config

from hub_config import spawner as spawner_config

NVIDIA_ENGINE = {"Runtimes": {"runc": {}, "nvidia": {}}}


class FakeEngine:
    """Stands in for docker-py's APIClient: records the container the spawner asks for."""

    def __init__(self, info):
        self._info, self.created = info, None

    def info(self):
        return self._info

    def create_host_config(self, **kwargs):
        return HostConfig(version="1.43", **kwargs)

    def create_container(self, **kwargs):
        self.created = kwargs
        return {"Id": "0" * 64}


def docker_settings(tmp_path, **env):
    base = {"COURSEHUB_MODE": "docker", "COURSEHUB_DATA_DIR": str(tmp_path)}
    return load_settings({**base, **env}, dotenv=tmp_path / "none.env")


def create_container(tmp_path, monkeypatch, info=NVIDIA_ENGINE, user=("alice", 7), **env):
    """Run the spawner's create_object against a fake engine; return the create kwargs."""
    settings = docker_settings(tmp_path, **env)
    config = Config()
    spawner_config.configure(config, settings)
    monkeypatch.setattr(Spawner, "get_env", lambda self: {"JUPYTERHUB_USER": self.user.name})
    engine = FakeEngine(info)
    monkeypatch.setattr(DockerCourseSpawner, "_client", engine)
    monkeypatch.setattr(DockerCourseSpawner, "_resolved_policy", None)
    spawner = DockerCourseSpawner(
        config=config, user=SimpleNamespace(name=user[0], id=user[1], escaped_name=user[0], url="/")
    )
    monkeypatch.setattr(spawner, "get_command", lambda: asyncio.sleep(0, ["jupyterhub-singleuser"]))
    asyncio.run(spawner.create_object())
    return engine.created, settings


def test_student_container_runs_as_own_uid_with_home_and_exchange_but_no_course(
    tmp_path, monkeypatch
):
    created, _ = create_container(tmp_path, monkeypatch)
    env = created["environment"]
    assert env["NB_UID"] == env["NB_GID"] == str(20000 + 7)
    binds = created["host_config"]["Binds"]
    assert "coursehub-home-alice:/home/jovyan:rw" in binds
    assert "coursehub-exchange:/srv/nbgrader/exchange:rw" in binds
    assert "coursehub-datasets:/srv/datasets:ro" in binds
    joined = " ".join(binds)
    assert "courses" not in joined and "docker.sock" not in joined and "coursehub-hub" not in joined


def test_limits_shm_and_network_come_from_settings(tmp_path, monkeypatch):
    created, _ = create_container(
        tmp_path,
        monkeypatch,
        COURSEHUB_MEM_LIMIT="4G",
        COURSEHUB_CPU_LIMIT="1.5",
        COURSEHUB_SHM_SIZE="1g",
    )
    host = created["host_config"]
    assert host["Memory"] == 4 * 2**30
    assert host["CpuQuota"] == 150_000 and host["CpuPeriod"] == 100_000
    assert host["ShmSize"] == 2**30
    assert host["NetworkMode"] == "coursehub"


def test_auto_policy_gives_all_gpus_when_engine_has_nvidia(tmp_path, monkeypatch):
    created, _ = create_container(tmp_path, monkeypatch)
    requests = created["host_config"]["DeviceRequests"]
    assert requests == [
        {
            "Driver": "nvidia",
            "Count": -1,
            "DeviceIDs": [],
            "Capabilities": [["gpu"]],
            "Options": {},
        }
    ]


def test_auto_policy_falls_back_to_cpu_without_nvidia_runtime(tmp_path, monkeypatch):
    created, _ = create_container(tmp_path, monkeypatch, info={"Runtimes": {"runc": {}}})
    assert created["host_config"].get("DeviceRequests") == []


def test_one_each_policy_assigns_round_robin_and_survives_restart(tmp_path, monkeypatch):
    env = {"COURSEHUB_GPUS": "one-each", "COURSEHUB_GPU_IDS": "0,1"}
    ids = []
    for name, uid in (("ann", 1), ("ben", 2), ("cat", 3), ("ann", 1)):
        created, settings = create_container(tmp_path, monkeypatch, user=(name, uid), **env)
        ids.append(created["host_config"]["DeviceRequests"][0]["DeviceIDs"])
    assert ids == [["0"], ["1"], ["0"], ["0"]]
    assert (settings.hub_dir / "gpu-assignments.json").is_file()


def test_cuda_memory_cap_reaches_the_container(tmp_path, monkeypatch):
    created, _ = create_container(tmp_path, monkeypatch, COURSEHUB_CUDA_MEMORY_FRACTION="0.25")
    assert created["environment"]["COURSEHUB_CUDA_MEMORY_FRACTION"] == "0.25"


@pytest.mark.parametrize("policy", ["none"])
def test_none_policy_requests_no_device(tmp_path, monkeypatch, policy):
    created, _ = create_container(tmp_path, monkeypatch, COURSEHUB_GPUS=policy)
    assert created["host_config"].get("DeviceRequests") == []
