"""Seeding, threads and device selection shared by notebooks and their test cells."""

from __future__ import annotations

import os
import random

import numpy as np
import torch

__all__ = ["device", "in_grader", "make_generator", "seed_everything", "set_threads"]


def seed_everything(seed: int = 0) -> int:
    """Seed python's random, NumPy and torch (all CUDA devices too); returns the seed."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    return seed


def make_generator(seed: int = 0) -> torch.Generator:
    """A seeded CPU torch.Generator, e.g. for DataLoader(shuffle=True, generator=...)."""
    generator = torch.Generator()
    generator.manual_seed(seed)
    return generator


def set_threads(n: int) -> int:
    """Limit torch's intra-op CPU threads (students share the host's cores); returns n."""
    if n < 1:
        raise ValueError(f"need at least one thread, got {n}")
    torch.set_num_threads(n)
    return n


def device() -> torch.device:
    """The device to train on: $COURSEHUB_DEVICE if set, else cuda when available, else cpu."""
    override = os.environ.get("COURSEHUB_DEVICE", "").strip()
    if override:
        return torch.device(override)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def in_grader() -> bool:
    """True while nbgrader autogrades or validates (it sets NBGRADER_EXECUTION)."""
    return bool(os.environ.get("NBGRADER_EXECUTION"))
