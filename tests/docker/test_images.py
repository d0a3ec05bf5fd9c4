"""Build the student and hub images and check what students and the hub rely on.

Needs a Docker engine (.ci/docker-engine.sh brings one up on a Debian machine). The images
are built with `docker build` as coursehub/student:test and coursehub/hub:test; docker's
layer cache makes a rebuild with unchanged sources take seconds (a cold student build
downloads torch and takes minutes).

Skipped when no engine is reachable, unless COURSEHUB_REQUIRE_DOCKER is set: then a
missing engine is a failure (CI sets it so that these tests cannot silently vanish).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.docker

REPO = Path(__file__).resolve().parents[2]
STUDENT_TAG = "coursehub/student:test"
HUB_TAG = "coursehub/hub:test"
BUILD_TIMEOUT_S = 60 * 60
RUN_TIMEOUT_S = 300


def _docker(*args: str, timeout: float = RUN_TIMEOUT_S, check: bool = False, **kwargs):
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=check, **kwargs
    )


@pytest.fixture(scope="session")
def engine() -> None:
    required = bool(os.environ.get("COURSEHUB_REQUIRE_DOCKER"))
    if shutil.which("docker") is None:
        problem = "the docker CLI is not installed"
    else:
        try:
            info = _docker("info", "--format", "{{.ServerVersion}}", timeout=30)
            problem = (
                None if info.returncode == 0 else (info.stderr.strip() or "docker info failed")
            )
        except subprocess.TimeoutExpired:
            problem = "docker info did not answer within 30 s"
    if problem is None:
        return
    if required:
        pytest.fail(
            f"COURSEHUB_REQUIRE_DOCKER is set but no Docker engine is reachable: {problem} "
            "(run .ci/docker-engine.sh as root)",
            pytrace=False,
        )
    pytest.skip(
        f"no Docker engine reachable ({problem}); set COURSEHUB_REQUIRE_DOCKER=1 to fail instead"
    )


def _build(dockerfile: str, tag: str) -> str:
    cmd = ["build", "-f", str(REPO / dockerfile), "-t", tag]
    # Behind a TLS-intercepting proxy: pass its CA through, as the Dockerfiles document.
    if os.environ.get("EXTRA_CA_CERTS"):
        cmd += ["--build-arg", "EXTRA_CA_CERTS"]
    result = _docker(*cmd, str(REPO), timeout=BUILD_TIMEOUT_S, cwd=REPO)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-40:])
        pytest.fail(f"docker build -f {dockerfile} failed:\n{tail}", pytrace=False)
    return tag


@pytest.fixture(scope="session")
def student_image(engine) -> str:
    return _build("docker/student/Dockerfile", STUDENT_TAG)


@pytest.fixture(scope="session")
def hub_image(engine) -> str:
    return _build("docker/hub/Dockerfile", HUB_TAG)


def run(
    image: str,
    *command: str,
    user: str | None = None,
    env: dict[str, str] | None = None,
    volumes: dict[str, str] | None = None,
) -> subprocess.CompletedProcess:
    args = ["run", "--rm", "--network", "none"]
    if user is not None:
        args += ["--user", user]
    for key, value in (env or {}).items():
        args += ["-e", f"{key}={value}"]
    for source, target in (volumes or {}).items():
        args += ["-v", f"{source}:{target}"]
    return _docker(*args, image, *command)


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, (
        f"exit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    )
    return result.stdout.strip()


@pytest.fixture
def named_volume(engine):
    name = f"coursehub-test-home-{uuid.uuid4().hex[:12]}"
    ok(_docker("volume", "create", name))
    yield name
    _docker("volume", "rm", "-f", name)


# --- student image -----------------------------------------------------------------------


def test_student_has_the_course_stack_and_no_cuda_without_a_gpu(student_image):
    out = ok(
        run(
            student_image,
            "python",
            "-c",
            "import torch, torchvision, autograders, nbgrader, jupyterlab; "
            "print(torch.__version__, torch.cuda.is_available())",
        )
    )
    version, cuda = out.splitlines()[-1].split()
    assert version.startswith("2.")
    assert cuda == "False"


def test_student_runs_as_jovyan_1000_by_default(student_image):
    assert ok(run(student_image, "id", "-u")) == "1000"
    assert (
        ok(run(student_image, "sh", "-c", 'echo "$(id -un) $HOME $PWD"'))
        == "jovyan /home/jovyan /home/jovyan"
    )


def test_student_started_as_root_takes_nb_uid_and_owns_its_home_volume(student_image, named_volume):
    script = 'id -u; id -g; touch "$HOME/probe" && stat -c %u "$HOME/probe" "$HOME" "$HOME/.bashrc"'
    out = ok(
        run(
            student_image,
            "sh",
            "-c",
            script,
            user="root",
            env={"NB_UID": "2345"},
            volumes={named_volume: "/home/jovyan"},
        )
    )
    assert out.splitlines() == ["2345", "100", "2345", "2345", "2345"]
    # Second start on the same volume: nothing left to fix, still the same uid, file kept.
    again = run(
        student_image,
        "sh",
        "-c",
        'id -u; stat -c %u "$HOME/probe"',
        user="root",
        env={"NB_UID": "2345"},
        volumes={named_volume: "/home/jovyan"},
    )
    assert ok(again).splitlines() == ["2345", "2345"]
    assert "giving /home/jovyan" not in again.stderr


def test_student_nb_user_and_nb_gid(student_image):
    out = ok(
        run(
            student_image,
            "sh",
            "-c",
            'echo "$(id -un) $(id -u) $(id -g) $USER"',
            user="root",
            env={"NB_UID": "20001", "NB_GID": "20001", "NB_USER": "alice"},
        )
    )
    assert out == "alice 20001 20001 alice"


@pytest.mark.parametrize(
    "env", [{"NB_UID": "0"}, {"NB_UID": "2345", "NB_GID": "0"}, {"NB_UID": "abc"}]
)
def test_student_never_keeps_root(student_image, env):
    result = run(student_image, "id", "-u", user="root", env=env)
    assert result.returncode != 0
    assert "ERROR" in result.stderr


def test_student_singleuser_server_is_installed(student_image):
    assert ok(run(student_image, "jupyterhub-singleuser", "--version"))


def test_student_has_the_singleuser_config_the_hub_points_to(student_image):
    # hub_config/spawner.py sets JUPYTER_CONFIG_PATH=/opt/coursehub/jupyter-config; its
    # nbgrader_config.py uses coursehub_student.exchange, so the package must be importable too.
    code = (
        "from jupyter_core.paths import jupyter_config_path; "
        "assert jupyter_config_path()[0] == '/opt/coursehub/jupyter-config'; "
        "import coursehub_student.exchange; print('ok')"
    )
    out = ok(
        run(
            student_image,
            "sh",
            "-c",
            f'test -f /opt/coursehub/jupyter-config/nbgrader_config.py && python -c "{code}"',
            env={"JUPYTER_CONFIG_PATH": "/opt/coursehub/jupyter-config"},
        )
    )
    assert out == "ok"


def test_student_image_carries_the_checks_and_exchange_plugin_but_no_trusted_code(student_image):
    # Students and sandboxes get what test cells import (autograders) and the exchange
    # plugin; the hub, CLI and grading engine (the coursehub package) stay off the image.
    code = (
        "import importlib.util, json, subprocess, sys; "
        "import autograders, coursehub_student.exchange; "
        "dists = json.loads(subprocess.run([sys.executable, '-m', 'pip', 'list', '--format',"
        " 'json'], capture_output=True, text=True, check=True).stdout); "
        "print(json.dumps({'dists': sorted(d['name'].lower() for d in dists), "
        "'coursehub': importlib.util.find_spec('coursehub') is not None}))"
    )
    found = json.loads(ok(run(student_image, "python", "-c", code)).splitlines()[-1])
    assert "coursehub" not in found["dists"]
    assert found["coursehub"] is False
    engine_files = ok(
        run(
            student_image,
            "sh",
            "-c",
            "find / -xdev \\( -name sandbox_execute.py -o -name broker.py -o -name executor.py"
            " -o -name spawners.py -o -name authenticator.py -o -name 'coursehub*.dist-info' \\)"
            " -path '*coursehub*' 2>/dev/null; true",
        )
    )
    assert engine_files == ""


def test_student_records_the_torch_flavour(student_image):
    flavour = ok(run(student_image, "cat", "/opt/coursehub/torch-flavour"))
    assert "index=pypi" in flavour.splitlines()
    assert any(line.startswith("torch=2.") for line in flavour.splitlines())


def test_student_kernels_run_the_cuda_cap_hook(student_image):
    # IPython (as in every kernel) runs the startup file; an invalid value proves it ran.
    bad = run(
        student_image,
        "ipython",
        "-c",
        "print('kernel up')",
        env={"COURSEHUB_CUDA_MEMORY_FRACTION": "lots"},
    )
    assert "kernel up" in ok(bad)
    assert "COURSEHUB_CUDA_MEMORY_FRACTION" in bad.stdout + bad.stderr
    good = run(
        student_image,
        "ipython",
        "-c",
        "print('kernel up')",
        env={"COURSEHUB_CUDA_MEMORY_FRACTION": "0.5"},
    )
    assert ok(good).endswith("kernel up")
    assert "WARNING" not in good.stdout + good.stderr


# --- hub image -----------------------------------------------------------------------------


def test_hub_has_the_proxy(hub_image):
    assert ok(run(hub_image, "configurable-http-proxy", "--version")).startswith("5.")


def test_hub_has_jupyterhub(hub_image):
    assert ok(run(hub_image, "jupyterhub", "--version"))


def test_hub_has_spawner_authenticator_and_nbgrader(hub_image):
    ok(
        run(
            hub_image,
            "python",
            "-c",
            "import dockerspawner, nativeauthenticator, nbgrader, coursehub",
        )
    )


def test_hub_runs_as_root_in_docker_mode_with_sudo_free_user_switching(hub_image):
    out = ok(
        run(
            hub_image,
            "bash",
            "-c",
            'id -u; echo "$COURSEHUB_MODE"; pwd; command -v setpriv useradd',
        )
    )
    assert out.splitlines() == [
        "0",
        "docker",
        "/srv/jupyterhub",
        "/usr/bin/setpriv",
        "/usr/sbin/useradd",
    ]
