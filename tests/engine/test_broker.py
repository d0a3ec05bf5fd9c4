"""The formgrader's sandboxes in docker mode: root runs them for the grader, over a socket."""

from __future__ import annotations

import os

import pytest
from coursehub.grading import broker, sandbox_execute
from coursehub.grading.backends import Limits, RunResult
from enginekit import require_bwrap
from nbfactory import code_cell, notebook

LIMITS = Limits(cell_timeout=60, wall_timeout=120, probe=False).__dict__


@pytest.fixture
def running(tmp_path):
    """A broker on a temporary socket that runs its sandboxes with bwrap (no engine needed)."""
    seen = []

    def settings_for(limits):
        seen.append(limits)
        return {"sandbox": "bwrap", "image": "", "limits": limits, "gpus": "", "datasets": ""}

    path = str(tmp_path / "run" / "sandbox.sock")

    def run_sandbox(nb, files_dir, limits):
        return sandbox_execute.execute(nb, files_dir, settings_for(limits))

    server = broker.Broker(path, os.getgid(), run_sandbox).start()
    yield path, seen
    server.shutdown()
    server.server_close()


def test_socket_is_open_to_root_and_the_graders_group_only(running):
    path, _ = running
    assert oct(os.stat(path).st_mode & 0o777) == "0o660"


@pytest.mark.slow
def test_notebook_and_its_files_run_in_the_sandbox_root_chose(running, tmp_path):
    require_bwrap()
    path, seen = running
    files = tmp_path / "submission"
    (files / "data").mkdir(parents=True)
    (files / "data" / "numbers.txt").write_text("6 7")
    source = "a, b = map(int, open('data/numbers.txt').read().split()); print(a * b)"
    record = broker.request(path, notebook(code_cell(source)), str(files), LIMITS)
    result = RunResult.from_json(record["result"])
    assert not result.infra_error, result.stderr_tail
    assert result.backend == "bwrap" and seen == [LIMITS]
    done = next(e for e in result.events if e.get("ev") == "done")
    assert done["outputs"][0]["text"] == "42\n", done


def test_a_file_name_leaving_the_submission_is_refused(running):
    path, seen = running
    message = {"nb": notebook(code_cell("1")), "files": [["../escape.txt", ""]], "limits": LIMITS}
    with pytest.raises(broker.BrokerError, match="is not inside the submission"):
        _raw_request(path, message)
    assert seen == []


def test_unknown_limits_are_refused(running):
    path, seen = running
    message = {
        "nb": notebook(code_cell("1")),
        "files": [],
        "limits": {**LIMITS, "privileged": True},
    }
    with pytest.raises(broker.BrokerError, match="privileged"):
        _raw_request(path, message)
    assert seen == []


def test_no_broker_is_one_clear_error(tmp_path):
    with pytest.raises(broker.BrokerError, match="did not answer"):
        broker.request(str(tmp_path / "none.sock"), notebook(code_cell("1")), None, LIMITS)


def _raw_request(path: str, message: dict) -> dict:
    import socket

    with socket.socket(socket.AF_UNIX) as conn:
        conn.connect(path)
        broker._send(conn, message)
        answer = broker._receive(conn)
    if "error" in answer:
        raise broker.BrokerError(answer["error"])
    return answer
