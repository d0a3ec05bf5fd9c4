"""GPU policy for student containers: what each policy asks Docker for, and one-each bookkeeping."""

from __future__ import annotations

import json
import logging

import pytest
from coursehub import gpus
from coursehub.errors import CoursehubError

NVIDIA_ENGINE = {"Runtimes": {"runc": {}, "nvidia": {"path": "nvidia-container-runtime"}}}
CDI_ENGINE = {
    "Runtimes": {"runc": {}},
    "DiscoveredDevices": [{"Source": "cdi", "ID": "nvidia.com/gpu=all"}],
}
CPU_ENGINE = {"Runtimes": {"runc": {}}}


def test_auto_uses_shared_gpus_when_engine_has_nvidia_runtime_or_cdi():
    assert gpus.effective_policy("auto", NVIDIA_ENGINE) == "shared"
    assert gpus.effective_policy("auto", CDI_ENGINE) == "shared"


def test_auto_falls_back_to_cpu_with_one_log_line(caplog):
    log = logging.getLogger("test-gpus")
    with caplog.at_level(logging.WARNING):
        assert gpus.effective_policy("auto", CPU_ENGINE, log) == "none"
    assert len(caplog.records) == 1 and "CPU only" in caplog.records[0].message


def test_explicit_policy_is_kept_whatever_the_engine():
    assert gpus.effective_policy("none", NVIDIA_ENGINE) == "none"
    assert gpus.effective_policy("one-each", CPU_ENGINE) == "one-each"


def test_device_requests_per_policy():
    assert gpus.device_requests("none") == []
    assert gpus.device_requests("shared") == [
        {"Driver": "nvidia", "Count": -1, "Capabilities": [["gpu"]]}
    ]
    assert gpus.device_requests("one-each", "2") == [
        {"Driver": "nvidia", "DeviceIDs": ["2"], "Capabilities": [["gpu"]]}
    ]


def test_device_requests_are_accepted_by_docker_py():
    from docker.types import HostConfig

    config = HostConfig(version="1.43", device_requests=gpus.device_requests("one-each", "1"))
    assert config["DeviceRequests"][0]["DeviceIDs"] == ["1"]
    assert config["DeviceRequests"][0]["Capabilities"] == [["gpu"]]


def test_unknown_policy_is_refused_with_the_variable_name():
    with pytest.raises(CoursehubError, match="COURSEHUB_GPUS='all'"):
        gpus.parse_policy("all")


def test_one_each_assigns_round_robin_and_keeps_assignment_across_restart(tmp_path):
    state = tmp_path / "gpu-assignments.json"
    first = gpus.GpuAssignments(state, ["0", "1"])
    assert [first.gpu_for(u) for u in ("ann", "ben", "cat")] == ["0", "1", "0"]
    restarted = gpus.GpuAssignments(state, ["0", "1"])  # a new hub process
    assert restarted.gpu_for("ben") == "1"
    assert restarted.gpu_for("dan") == "1"
    assert restarted.load_per_gpu() == {"0": 2, "1": 2}


def test_one_each_reassigns_a_student_whose_gpu_was_removed(tmp_path):
    state = tmp_path / "gpu-assignments.json"
    gpus.GpuAssignments(state, ["0", "1", "2"]).gpu_for("ann")  # ann -> 0
    assert gpus.GpuAssignments(state, ["1", "2"]).gpu_for("ann") in {"1", "2"}


def test_one_each_without_gpu_ids_or_with_corrupt_state_says_what_to_fix(tmp_path):
    with pytest.raises(CoursehubError, match="COURSEHUB_GPU_IDS"):
        gpus.GpuAssignments(tmp_path / "s.json", [])
    state = tmp_path / "s.json"
    state.write_text("{not json")
    with pytest.raises(CoursehubError, match="corrupt GPU bookkeeping"):
        gpus.GpuAssignments(state, ["0"]).gpu_for("ann")


def test_gpu_ids_parse_and_reject_duplicates():
    assert gpus.parse_gpu_ids(" 0, 1,2 ") == ["0", "1", "2"]
    with pytest.raises(CoursehubError, match="appears twice"):
        gpus.parse_gpu_ids("0,0")


def test_state_file_is_valid_json_after_each_assignment(tmp_path):
    state = tmp_path / "s.json"
    gpus.GpuAssignments(state, ["0"]).gpu_for("ann")
    assert json.loads(state.read_text())["users"] == {"ann": "0"}


def test_doctor_reads_the_driver_cuda_version_from_nvidia_smi():
    from coursehub.doctor import driver_cuda_version

    header = "| NVIDIA-SMI 535.183.01   Driver Version: 535.183.01   CUDA Version: 12.2     |"
    assert driver_cuda_version(header) == "12.2"
    assert driver_cuda_version("no gpu here") is None


def test_doctor_fails_when_wheel_needs_a_newer_cuda_than_the_driver():
    from coursehub.doctor import compare_driver_and_wheel

    check = compare_driver_and_wheel("12.2", "13.0")
    assert check.status == "FAIL"
    assert "TORCH_INDEX_URL=https://download.pytorch.org/whl/cu126" in check.detail
    assert compare_driver_and_wheel("13.1", "13.0").status == "PASS"
    assert compare_driver_and_wheel("12.8", "12.6").status == "PASS"  # minor-version compatibility
    assert compare_driver_and_wheel("12.2", None).status == "WARN"
