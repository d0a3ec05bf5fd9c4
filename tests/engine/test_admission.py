"""Admission of a submission's files: what is copied, what is refused and why, and where it goes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from coursehub.grading import admission
from coursehub.grading.admission import Limits, admit_copy, refuse_in_place
from coursehub.grading.backends import iter_files, write_payload


def reasons(report) -> dict[str, str]:
    return {r.path: r.reason for r in report.refused}


@pytest.fixture
def src(tmp_path) -> Path:
    folder = tmp_path / "inbound" / "alice+01+ts"
    folder.mkdir(parents=True)
    (folder / "01.ipynb").write_text("{}")
    (folder / "data").mkdir()
    (folder / "data" / "points.csv").write_text("1,2\n")
    return folder


def test_regular_files_and_folders_are_copied_as_they_are(src, tmp_path):
    report = admit_copy(src, tmp_path / "dest")
    assert sorted(report.admitted) == ["01.ipynb", "data/points.csv"]
    assert report.refused == []
    assert (tmp_path / "dest" / "data" / "points.csv").read_text() == "1,2\n"


@pytest.mark.parametrize(
    "plant, reason",
    [
        (lambda f: os.symlink("/etc/passwd", f / "abs"), "a symbolic link to '/etc/passwd'"),
        (lambda f: os.symlink("../../secret", f / "rel"), "a symbolic link to '../../secret'"),
        (lambda f: os.symlink("/nonexistent", f / "gone"), "a symbolic link to '/nonexistent'"),
        (lambda f: os.symlink("/etc", f / "dir"), "a symbolic link to '/etc'"),
        (lambda f: os.mkfifo(f / "pipe"), "a FIFO (named pipe)"),
        (lambda f: os.link(f / "data" / "points.csv", f / "hard"), "a hard link"),
    ],
    ids=["absolute-link", "relative-link", "dangling-link", "folder-link", "fifo", "hard-link"],
)
def test_links_and_special_files_are_refused_and_the_rest_is_copied(src, tmp_path, plant, reason):
    plant(src)
    report = admit_copy(src, tmp_path / "dest")
    assert "01.ipynb" in report.admitted
    assert any(reason in why for why in reasons(report).values()), reasons(report)
    copied = {p.name for p in (tmp_path / "dest").rglob("*")}
    assert not copied & {"abs", "rel", "gone", "dir", "pipe", "hard"}
    assert not any(p.is_symlink() for p in (tmp_path / "dest").rglob("*"))


def test_a_socket_is_refused(src, tmp_path):
    import socket

    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(src / "sock"))
        report = admit_copy(src, tmp_path / "dest")
    assert reasons(report)["sock"] == "a socket"


def test_a_link_inside_a_subfolder_is_refused_by_its_path(src, tmp_path):
    os.symlink("/etc/shadow", src / "data" / "leak")
    assert "data/leak" in reasons(admit_copy(src, tmp_path / "dest"))


@pytest.mark.parametrize(
    "name, why",
    [
        ("new\nline.txt", "control characters"),
        ("esc\x1b[2J.txt", "control characters"),
        (os.fsdecode(b"latin-\xe9.txt"), "not valid UTF-8"),
    ],
    ids=["newline", "escape", "not-utf8"],
)
def test_hostile_names_are_refused_and_shown_escaped(src, tmp_path, name, why):
    (src / name).write_text("x")
    (refusal,) = admit_copy(src, tmp_path / "dest").refused
    assert why in refusal.reason
    assert refusal.line().isprintable()


def test_files_past_the_size_and_count_limits_are_refused_top_level_first(src, tmp_path):
    with open(src / "sparse.bin", "wb") as f:
        f.truncate(2 << 30)  # 2 GiB, no blocks: refused by its size, never read
    many = src / "many"
    many.mkdir()
    for i in range(30):
        (many / f"{i:02d}.txt").write_text("x" * 100)
    limits = Limits(file_bytes=1 << 20, total_bytes=2000, files=20, depth=16)
    report = admit_copy(src, tmp_path / "dest", limits)
    why = reasons(report)
    assert why["sparse.bin"] == "2.0 GiB is over the 1.0 MiB per-file limit"
    assert "01.ipynb" in report.admitted  # top level first
    assert report.total_bytes <= 2000 and len(report.admitted) <= 20
    assert any("files per submission" in w or "limit" in w for w in why.values())


def test_deep_folders_are_refused(src, tmp_path):
    deep = src
    for i in range(5):
        deep = deep / f"d{i}"
    deep.mkdir(parents=True)
    (deep / "x.txt").write_text("x")
    report = admit_copy(src, tmp_path / "dest", Limits(depth=3))
    assert reasons(report) == {"d0/d1/d2/d3": "folders nested deeper than 3 levels"}


def test_a_file_swapped_for_a_link_after_the_look_is_not_read(src):
    walk = admission.walk(src)
    entry = next(e for e in walk if getattr(e, "rel", "") == "01.ipynb")
    (src / "01.ipynb").unlink()
    os.symlink("/etc/passwd", src / "01.ipynb")
    with pytest.raises(OSError):
        admission.open_entry(entry)
    walk.close()


def test_a_file_that_grows_after_the_look_is_cut_off(src):
    walk = admission.walk(src)
    entry = next(e for e in walk if getattr(e, "rel", "") == "01.ipynb")
    with open(src / "01.ipynb", "a") as f:
        f.write("x" * 1000)
    with pytest.raises(OSError, match="changed"):
        b"".join(admission.read_entry(entry))
    walk.close()


def test_refuse_in_place_moves_links_out_without_following_them(src, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("s3cret")
    os.symlink(secret, src / "data" / "leak")
    os.mkfifo(src / "pipe")
    quarantine = tmp_path / "quarantine"
    refused = refuse_in_place(src, quarantine)
    assert sorted(r.path for r in refused) == ["data/leak", "pipe"]
    assert not os.path.lexists(src / "data" / "leak") and not os.path.lexists(src / "pipe")
    assert secret.read_text() == "s3cret"  # the target stayed where it was
    lines = (quarantine / "REFUSED.txt").read_text().splitlines()
    assert [ln.split("\t")[0] for ln in lines] == ["00001", "00002"]
    assert os.path.islink(quarantine / "files" / "00002")  # moved as it was


def test_the_sandbox_payload_never_carries_a_link(src, tmp_path):
    import io
    import tarfile

    os.symlink("/etc/passwd", src / "passwd")
    (src / "timestamp.txt").write_text("now")
    assert sorted(e.rel for e in iter_files(src)) == ["data/points.csv"]
    buffer = io.BytesIO()
    write_payload(buffer, {"cells": []}, src)
    buffer.seek(0)
    with tarfile.open(fileobj=buffer) as tar:
        assert tar.getnames() == ["job.json", "files/data/points.csv"]


def test_recorded_reasons_are_cut_for_the_feedback(tmp_path):
    path = admission.reasons_path(tmp_path, "alice", "01")
    admission.write_reasons(path, [admission.Refusal(f"f{i}", "why") for i in range(30)])
    lines = admission.read_reasons(path, most=5)
    assert lines[:2] == ["f0: why", "f1: why"] and lines[-1] == "... and 25 more"
