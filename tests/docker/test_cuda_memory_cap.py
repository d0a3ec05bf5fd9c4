"""Unit tests for the student image's CUDA memory cap hook (docker/student/cuda_memory_cap.py).

No docker and no GPU needed: torch.cuda is replaced by fakes.
"""

from __future__ import annotations

import importlib.util
import io
import sys
import types
from pathlib import Path

import pytest

STUDENT_DIR = Path(__file__).resolve().parents[2] / "docker" / "student"
STARTUP_FILE = STUDENT_DIR / "ipython-startup" / "00-coursehub-cuda-memory-cap.py"


def _load_module():
    spec = importlib.util.spec_from_file_location(
        "cuda_memory_cap", STUDENT_DIR / "cuda_memory_cap.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


cap = _load_module()
ENV = cap.ENV_VAR


class FakeCuda:
    def __init__(self, available=True, devices=1, fail=False):
        self.available = available
        self.devices = devices
        self.fail = fail
        self.calls: list[tuple[float, int]] = []

    def is_available(self):
        return self.available

    def device_count(self):
        return self.devices

    def set_per_process_memory_fraction(self, fraction, device=None):
        if self.fail:
            raise RuntimeError("CUDA driver exploded")
        self.calls.append((fraction, device))


@pytest.fixture
def fake_torch(monkeypatch):
    """Install a fake `torch` module; returns its FakeCuda."""

    def install(**kwargs):
        cuda = FakeCuda(**kwargs)
        monkeypatch.setitem(sys.modules, "torch", types.SimpleNamespace(cuda=cuda))
        return cuda

    return install


@pytest.mark.parametrize(
    ("raw", "expected"), [("0.5", 0.5), ("1", 1.0), (" 0.25 ", 0.25), ("1e-1", 0.1)]
)
def test_valid_fraction_sets_the_cap(fake_torch, raw, expected):
    cuda = fake_torch()
    out = io.StringIO()
    assert cap.apply({ENV: raw}, stream=out) == expected
    assert cuda.calls == [(expected, 0)]
    assert out.getvalue() == ""


def test_valid_fraction_caps_every_device(fake_torch):
    cuda = fake_torch(devices=3)
    assert cap.apply({ENV: "0.3"}, stream=io.StringIO()) == 0.3
    assert cuda.calls == [(0.3, 0), (0.3, 1), (0.3, 2)]


@pytest.mark.parametrize("raw", ["abc", "0", "-0.1", "1.5", "nan", "inf", "50%"])
def test_invalid_value_warns_once_and_does_not_cap(fake_torch, raw):
    cuda = fake_torch()
    out = io.StringIO()
    assert cap.apply({ENV: raw}, stream=out) is None
    assert cuda.calls == []
    lines = out.getvalue().splitlines()
    assert len(lines) == 1, lines
    assert "WARNING" in lines[0] and ENV in lines[0] and "0 < f <= 1" in lines[0]


def test_invalid_value_warning_goes_to_stderr_by_default(fake_torch, capsys):
    fake_torch()
    assert cap.apply({ENV: "lots"}) is None
    assert ENV in capsys.readouterr().err


@pytest.mark.parametrize("env", [{}, {ENV: ""}, {ENV: "   "}])
def test_unset_does_nothing_and_does_not_import_torch(monkeypatch, env):
    # A torch that cannot be imported: apply() must not even try.
    monkeypatch.setitem(sys.modules, "torch", None)
    out = io.StringIO()
    assert cap.apply(env, stream=out) is None
    assert out.getvalue() == ""


def test_no_cuda_means_no_cap_and_no_message(fake_torch):
    cuda = fake_torch(available=False)
    out = io.StringIO()
    assert cap.apply({ENV: "0.5"}, stream=out) is None
    assert cuda.calls == []
    assert out.getvalue() == ""


def test_torch_missing_is_not_an_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    assert cap.apply({ENV: "0.5"}, stream=io.StringIO()) is None


def test_driver_error_warns_instead_of_breaking_the_kernel(fake_torch):
    fake_torch(fail=True)
    out = io.StringIO()
    assert cap.apply({ENV: "0.5"}, stream=out) is None
    assert "could not apply" in out.getvalue()


def test_reads_os_environ_by_default(fake_torch, monkeypatch):
    cuda = fake_torch()
    monkeypatch.setenv(ENV, "0.75")
    assert cap.apply(stream=io.StringIO()) == 0.75
    assert cuda.calls == [(0.75, 0)]


def test_with_real_torch_monkeypatched(monkeypatch):
    """The same, against the real torch.cuda API (skipped where torch is not installed)."""
    torch = pytest.importorskip("torch")
    calls = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(
        torch.cuda,
        "set_per_process_memory_fraction",
        lambda f, device=None: calls.append((f, device)),
    )
    assert cap.apply({ENV: "0.4"}, stream=io.StringIO()) == 0.4
    assert calls == [(0.4, 0)]
    calls.clear()
    assert cap.apply({ENV: "2"}, stream=io.StringIO()) is None
    assert cap.apply({}, stream=io.StringIO()) is None
    assert calls == []


@pytest.mark.parametrize(
    ("env", "code", "text"),
    [({}, 0, "unset"), ({ENV: "x"}, 2, "invalid"), ({ENV: "0.5"}, 0, "cap applied")],
)
def test_main_reports_status(fake_torch, monkeypatch, capsys, env, code, text):
    fake_torch()
    monkeypatch.delenv(ENV, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert cap.main() == code
    assert text in capsys.readouterr().out


def test_startup_file_applies_the_cap_and_leaves_no_names(fake_torch, monkeypatch):
    """The IPython startup file, run the way IPython runs it (exec in the user namespace)."""
    cuda = fake_torch()
    monkeypatch.setenv(ENV, "0.5")
    monkeypatch.syspath_prepend(str(STUDENT_DIR))
    monkeypatch.delitem(sys.modules, "cuda_memory_cap", raising=False)
    namespace: dict = {"__name__": "__main__"}
    exec(compile(STARTUP_FILE.read_text(), str(STARTUP_FILE), "exec"), namespace)
    assert cuda.calls == [(0.5, 0)]
    assert [name for name in namespace if not name.startswith("__")] == []
