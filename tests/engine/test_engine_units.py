"""The engine's parts without a sandbox: notebook assembly, commands, config, refusal."""

from __future__ import annotations

import copy
import shutil

import pytest
from coursehub.course import Course
from coursehub.grading import assemble, backends, sandbox_execute
from coursehub.grading.backends import (
    BwrapBackend,
    DockerBackend,
    Limits,
    RunResult,
    SandboxUnavailable,
)
from coursehub.grading.payload import messages
from nbfactory import locked_cell, notebook, solution_cell, test_cell

NB = notebook(
    locked_cell("import torch", "imports"),
    solution_cell("def f(): return 1", "f"),
    test_cell("assert f() == 1", "test_f", points=1),
    solution_cell("def g(): return 2", "g"),
    test_cell("assert g() == 2", "test_g", points=1),
)


def done(i, outputs=()):
    return {"ev": "done", "cell": i, "outputs": list(outputs), "execution_count": i + 1}


def errors(nb, i):
    return [o for o in nb["cells"][i]["outputs"] if o["output_type"] == "error"]


def test_assemble_keeps_outputs_of_finished_cells_and_the_trusted_sources():
    hello = {"output_type": "stream", "name": "stdout", "text": "hi\n"}
    events = [{"ev": "start", "cell": i} for i in range(5)]
    events = [e for i in range(5) for e in ({"ev": "start", "cell": i}, done(i, [hello]))]
    events.append({"ev": "end", "exec_seconds": 1.5})
    nb, summary = assemble.assemble(NB, events)
    assert summary["status"] == "ok" and summary["exec_seconds"] == 1.5
    assert all(c["outputs"] == [hello] for c in nb["cells"])
    assert [c["source"] for c in nb["cells"]] == [c["source"] for c in NB["cells"]]


def test_assemble_drops_malformed_outputs():
    bogus = [{"output_type": "stream", "name": "stdout", "text": "ok"}, {"output_type": "x"}, 7]
    events = [{"ev": "start", "cell": 0}, done(0, bogus), {"ev": "end"}]
    nb, _ = assemble.assemble(NB, events)
    assert nb["cells"][0]["outputs"] == bogus[:1]


def test_kernel_death_fails_the_running_cell_and_every_test_that_did_not_run():
    events = [
        {"ev": "start", "cell": 0},
        done(0),
        {"ev": "start", "cell": 1},
        {"ev": "stop", "cell": 1, "reason": "died", "detail": "the kernel died (exit 0)"},
    ]
    nb, summary = assemble.assemble(NB, events)
    assert summary["status"] == "died"
    assert "the kernel died" in errors(nb, 1)[0]["evalue"]
    for test in (2, 4):
        (err,) = errors(nb, test)
        assert err["ename"] == "NotRun" and "cell 2" in err["evalue"]


def test_sandbox_killed_before_any_cell_fails_every_test():
    nb, summary = assemble.assemble(NB, [], {"failure": {"reason": "timeout"}, "limit": "9 s"})
    assert summary["status"] == "timeout"
    assert "time limit of 9 s exceeded" in errors(nb, 2)[0]["evalue"]
    assert errors(nb, 4)


def test_tampering_fails_the_tests_from_where_it_was_found():
    events = [e for i in range(5) for e in ({"ev": "start", "cell": i}, done(i))]
    events.insert(6, {"ev": "tamper", "cell": 4, "what": ["torch.allclose was replaced"]})
    events.append({"ev": "end"})
    nb, summary = assemble.assemble(NB, events)
    assert not errors(nb, 2)
    (err,) = errors(nb, 4)
    assert err["ename"] == "GraderTampering" and "torch.allclose" in err["evalue"]
    assert summary["tampering"] == ["torch.allclose was replaced"]


def test_nbgrader_scores_assembled_failures_zero():
    from nbformat import from_dict
    from nbgrader.utils import determine_grade

    events = [{"ev": "start", "cell": 0}, {"ev": "stop", "cell": 0, "reason": "oom"}]
    nb, _ = assemble.assemble(NB, events, {"memory": "2 GiB"})
    node = from_dict(nb)
    assert determine_grade(node.cells[2]) == (0, 1.0)
    assert determine_grade(node.cells[4]) == (0, 1.0)


def test_instructor_imports_are_found():
    src = "import torch\nimport numpy as np\nfrom autograders import check_tensor as ct, forbid"
    assert messages.instructor_imports(src) == [
        ["torch", "torch", None],
        ["np", "numpy", None],
        ["ct", "autograders", "check_tensor"],
        ["forbid", "autograders", "forbid"],
    ]


def test_docker_command_isolates_the_container():
    limits = Limits(memory=3 * 2**30, pids=99, cpus=1.5, tmp_size=2**28)
    cmd = DockerBackend(limits, image="img:1").command("grade-x")
    joined = " ".join(cmd[: cmd.index("img:1")])
    for flag in (
        "--network none",
        "--read-only",
        f"--memory {3 * 2**30} --memory-swap {3 * 2**30}",
        "--pids-limit 99",
        "--cpus 1.5",
        "--user 65534:65534",
        "--cap-drop ALL",
        "--security-opt no-new-privileges",
        f"size={2**28}",
    ):
        assert flag in joined, flag
    assert "-v" not in cmd and "--volume" not in cmd and "--gpus" not in cmd
    assert "--privileged" not in cmd
    gpu = DockerBackend(limits, image="img:1", gpu="1").command("grade-x")
    assert gpu[gpu.index("--gpus") + 1] == "device=1"


def test_bwrap_command_binds_nothing_writable():
    cmd = BwrapBackend(Limits(tmp_size=2**28)).command("x")
    for flag in ("--unshare-all", "--die-with-parent", "--new-session", "--clearenv"):
        assert flag in cmd
    assert "--bind" not in cmd and "--dev-bind" not in cmd and "--share-net" not in cmd
    assert cmd[cmd.index("--size") + 1] == str(2**28)
    ro = [cmd[i + 1] for i, a in enumerate(cmd) if a in ("--ro-bind", "--ro-bind-try")]
    assert not any("course" in path or "gradebook" in path for path in ro), ro


def test_no_sandbox_means_refusal_not_an_unsandboxed_run(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    with pytest.raises(SandboxUnavailable, match="bubblewrap is not installed"):
        BwrapBackend(Limits()).check()
    with pytest.raises(SandboxUnavailable, match="docker command is not installed"):
        DockerBackend(Limits(), image="x").check()
    monkeypatch.setenv(sandbox_execute.SANDBOX_ENV, "bwrap")
    pp = sandbox_execute.SandboxExecute()
    from nbformat import from_dict

    with pytest.raises(SandboxUnavailable):
        pp.preprocess(from_dict(copy.deepcopy(NB)), {"metadata": {"path": None}})


def test_cli_refuses_in_one_line_without_a_sandbox(monkeypatch, tmp_path, capsys):
    import argparse

    from coursehub import cli
    from coursehub.errors import CoursehubError
    from coursehub.settings import load_settings

    course = Course("pytorch101", tmp_path / "course", tmp_path / "exchange")
    course.write_config()
    (course.root / "source" / "01_tensors").mkdir(parents=True)
    monkeypatch.setattr(cli.common, "pick_course", lambda settings, course_id: course)
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    args = argparse.Namespace(
        course=None, assignment="01_tensors", student=None, jobs=None, sandbox=None, force=False
    )
    settings = load_settings({"COURSEHUB_MODE": "local"}, dotenv=tmp_path / "none")
    with pytest.raises(CoursehubError, match="refusing to run student code unsandboxed") as err:
        cli.cmd_autograde(settings, args)
    assert "\n" not in str(err.value)


def test_course_config_routes_every_autograde_through_the_sandbox(tmp_path):
    from traitlets.config.loader import PyFileConfigLoader

    course = Course("pytorch101", tmp_path / "course", tmp_path / "exchange")
    course.write_config()
    config = PyFileConfigLoader("nbgrader_config.py", str(course.root)).load_config()
    names = [getattr(p, "__name__", p) for p in config.Autograde.autograde_preprocessors]
    assert "SandboxExecute" in names and "Execute" not in names
    assert names.index("SandboxExecute") < names.index("SaveAutoGrades")
    assert config.OverwriteCells.add_missing_cells is True


def test_course_config_fails_closed_when_the_sandbox_fragment_is_missing(tmp_path):
    from nbconvert.exporters import NotebookExporter
    from traitlets.config.loader import PyFileConfigLoader

    course = Course("pytorch101", tmp_path / "course", tmp_path / "exchange")
    course.write_config()
    path = course.root / "nbgrader_config.py"
    text = path.read_text().replace('"nbgrader_config.py"', '"no_such_fragment.py"')
    assert text != path.read_text()
    path.write_text(text)
    config = PyFileConfigLoader("nbgrader_config.py", str(course.root)).load_config()
    (refusal,) = config.Autograde.autograde_preprocessors
    assert "refusing to autograde" in refusal
    with pytest.raises((ImportError, ValueError)):
        NotebookExporter().register_preprocessor(refusal, enabled=True)


def test_sandboxed_preprocessors_replace_only_execute():
    from nbgrader.converters.autograde import Autograde
    from nbgrader.preprocessors import Execute

    default = Autograde.autograde_preprocessors.default()
    swapped = sandbox_execute.sandboxed_preprocessors(default)
    assert len(swapped) == len(default) and Execute not in swapped
    assert [p for p in swapped if p is not sandbox_execute.SandboxExecute] == [
        p for p in default if p is not Execute
    ]


def test_cache_key_follows_sources_files_and_limits(tmp_path):
    settings = {"sandbox": "bwrap", "limits": Limits().__dict__, "image": "", "gpus": ""}
    key = sandbox_execute.cache_key(NB, None, settings)
    assert key == sandbox_execute.cache_key(copy.deepcopy(NB), None, settings)
    other = copy.deepcopy(NB)
    other["cells"][1]["source"] = "def f(): return 2"
    assert sandbox_execute.cache_key(other, None, settings) != key
    (tmp_path / "data.csv").write_text("1,2\n")
    with_file = sandbox_execute.cache_key(NB, tmp_path, settings)
    assert with_file != key
    (tmp_path / "data.csv").write_text("1,3\n")
    assert sandbox_execute.cache_key(NB, tmp_path, settings) != with_file
    slower = {**settings, "limits": {**settings["limits"], "cell_timeout": 5}}
    assert sandbox_execute.cache_key(NB, None, slower) != key


def test_sizes_are_read_like_docker_reads_them():
    assert sandbox_execute.parse_size("2g") == 2 * 2**30
    assert sandbox_execute.parse_size("512m") == 512 * 2**20
    assert sandbox_execute.parse_size("1.5GiB") == 3 * 2**29
    with pytest.raises(ValueError):
        sandbox_execute.parse_size("lots")


def test_infra_failures_are_told_apart_from_the_students():
    limits = Limits()
    started = RunResult(events=[{"ev": "hello"}, {"ev": "ready"}, {"ev": "start", "cell": 1}])
    backends.Backend._classify(BwrapBackend(limits), started)
    assert not started.infra_error
    assert started.failure(limits)["reason"] == "sandbox"
    never = RunResult(returncode=125, stderr_tail="docker: Error response from daemon: boom\n")
    DockerBackend(limits, image="x")._classify(never)
    assert "Error response from daemon: boom" in never.infra_error
    big = RunResult(events=[{"ev": "fatal", "stage": "payload", "msg": "too big"}])
    backends.Backend._classify(BwrapBackend(limits), big)
    assert big.refused == "too big" and not big.infra_error


@pytest.mark.parametrize("backend", ["bwrap", "docker"])
def test_the_checks_count_as_trusted_code_in_either_sandbox(backend):
    # Both sandboxes find autograders under /opt/coursehub/lib (bwrap binds it there, the
    # student image copies it there), outside the interpreter's prefix.
    job = backends.job_spec(NB, Limits(), backend)
    assert job["trusted_roots"] == ["/opt/coursehub/lib/"]


def test_oversized_submission_is_refused_without_starting_a_sandbox(tmp_path, monkeypatch):
    (tmp_path / "weights.bin").write_bytes(b"\0" * 4096)
    monkeypatch.setattr(BwrapBackend, "command", lambda self, name: ["false-not-started"])
    result = BwrapBackend(Limits(tmp_size=4096)).execute_notebook(NB, tmp_path)
    assert "exceed" in result.refused and not result.infra_error and not result.events
    assert result.failure(Limits())["reason"] == "refused"


@pytest.mark.parametrize(
    ("env", "docker_info", "expected"),
    [
        ({"COURSEHUB_GPUS": "none"}, {}, ""),
        ({"COURSEHUB_GPUS": "shared"}, {}, "all"),
        ({"COURSEHUB_GPUS": "one-each", "COURSEHUB_GPU_IDS": "0,1"}, {}, "0,1"),
        ({"COURSEHUB_GPUS": "auto"}, {"Runtimes": {"runc": {}}}, ""),
        ({"COURSEHUB_GPUS": "auto"}, {"Runtimes": {"nvidia": {}}}, "all"),
    ],
)
def test_grading_gpus_follow_the_deployment_policy(env, docker_info, expected, tmp_path):
    from coursehub.settings import load_settings

    settings = load_settings(environ={"COURSEHUB_MODE": "docker", **env}, dotenv=tmp_path / "x")
    got = sandbox_execute.deployment_gpus("docker", settings, docker_info=docker_info)
    assert got == expected
    assert sandbox_execute.deployment_gpus("bwrap", settings, docker_info=docker_info) == ""


def test_a_bad_gpu_policy_stops_grading_with_one_line_instead_of_using_the_cpu(
    tmp_path, monkeypatch
):
    from coursehub.errors import CoursehubError

    monkeypatch.setenv("COURSEHUB_ENV_FILE", str(tmp_path / "absent.env"))
    monkeypatch.setenv("COURSEHUB_MODE", "docker")
    monkeypatch.setenv("COURSEHUB_GPUS", "bogus")
    with pytest.raises(CoursehubError, match="COURSEHUB_GPUS='bogus'"):
        sandbox_execute.deployment_gpus("docker", docker_info={})


def test_a_single_sandbox_with_several_gpus_gets_one_device():
    settings = {"sandbox": "docker", "limits": Limits().__dict__, "image": "i", "gpus": "2,3"}
    assert sandbox_execute.make_backend_for(settings).gpu == "2"
    assert sandbox_execute.make_backend_for(settings, gpu_slot="3").gpu == "3"


NBGRADER_STDERR = """\
[AutogradeApp | INFO] Copying /c/submitted/alice/01/01.ipynb -> /c/autograded/alice/01
[AutogradeApp | ERROR] There was an error processing assignment: /c/submitted/bob/01
[AutogradeApp | ERROR] Traceback (most recent call last):
  File "x.py", line 1, in <module>
FileNotFoundError: [Errno 2] No such file or directory: 'leak.txt'
[AutogradeApp | ERROR] There was an error processing assignment '01' for student 'bob'
[AutogradeApp | ERROR] There was an error processing assignment '01' for student 'carol'
"""


def test_nbgrader_errors_name_each_student_and_their_exception():
    from coursehub.grading.outcomes import nbgrader_errors

    errors = nbgrader_errors(NBGRADER_STDERR)
    assert errors["bob"].startswith("FileNotFoundError: [Errno 2]")
    assert errors["carol"] == "nbgrader could not process it (see the nbgrader log)"
    assert "alice" not in errors


RESULTS = [("alice", "ok"), ("bob", "ok"), ("dan", "infra")]


def test_summary_counts_every_ungraded_submission_under_its_own_heading():
    from coursehub.grading.outcomes import Outcome, Summary

    summary = Summary(
        outcomes=[
            Outcome("alice", "", "ok"),
            Outcome("bob", "", "ok"),
            Outcome("dan", "", "infra"),
        ],
        nbgrader_errors={"bob": "FileNotFoundError: x"},
        not_gradable={"eve": "not a valid notebook"},
        jobs=2,
        sandbox="bwrap",
    )
    line = summary.line()
    assert line.startswith("1 graded, ")
    assert "1 not gradable (refused submission)" in line
    assert "1 not graded (nbgrader error)" in line
    assert "1 failed (infrastructure)" in line
    assert set(summary.ungraded()) == {"bob", "dan", "eve"}
