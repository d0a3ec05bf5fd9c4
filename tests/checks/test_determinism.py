import random

import numpy as np
import pytest
import torch

from autograders import device, in_grader, make_generator, seed_everything, set_threads


def _draw():
    return random.random(), float(np.random.rand()), float(torch.rand(()))


def test_seed_everything_makes_python_numpy_and_torch_repeatable():
    assert seed_everything(123) == 123
    first = _draw()
    seed_everything(123)
    assert _draw() == first
    seed_everything(124)
    assert _draw() != first


def test_make_generator_gives_repeatable_shuffles():
    a = torch.randperm(10, generator=make_generator(5))
    b = torch.randperm(10, generator=make_generator(5))
    c = torch.randperm(10, generator=make_generator(6))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_make_generator_drives_a_dataloader_shuffle():
    data = torch.arange(8)

    def order(seed):
        loader = torch.utils.data.DataLoader(
            data, batch_size=8, shuffle=True, generator=make_generator(seed)
        )
        return next(iter(loader))

    assert torch.equal(order(1), order(1))


def test_set_threads_sets_torch_threads_and_rejects_zero():
    before = torch.get_num_threads()
    try:
        assert set_threads(1) == 1
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
    with pytest.raises(ValueError):
        set_threads(0)


def test_device_prefers_cuda_when_available(monkeypatch):
    monkeypatch.delenv("COURSEHUB_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert device() == torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert device() == torch.device("cpu")


def test_device_env_var_overrides(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setenv("COURSEHUB_DEVICE", "cpu")
    assert device() == torch.device("cpu")


def test_in_grader_follows_nbgrader_execution(monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    assert in_grader() is False
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert in_grader() is True
    monkeypatch.setenv("NBGRADER_EXECUTION", "")
    assert in_grader() is False
