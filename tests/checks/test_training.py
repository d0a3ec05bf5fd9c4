import re
import time

import pytest
import torch
from torch import nn

from autograders import check_overfits_batch, check_trains

X = torch.randn(8, 4)
Y = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])


def mlp():
    return nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))


class SoftmaxBeforeCrossEntropy(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = mlp()

    def forward(self, x):
        return self.net(x).softmax(-1)  # CrossEntropyLoss applies softmax again


class UnusedLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.used = nn.Linear(4, 3)
        self.unused = nn.Linear(3, 3)

    def forward(self, x):
        return self.used(x)


def test_check_trains_returns_metric_when_threshold_met():
    assert check_trains(lambda: 0.9, lambda acc: acc, threshold=0.8) == 0.9


def test_check_trains_reports_metric_and_threshold(failure):
    msg = failure(check_trains, lambda: 0.62, lambda acc: acc, threshold=0.9, name="mlp")
    assert "mlp: metric 0.62 does not reach the threshold (needs >= 0.9)" in msg


def test_check_trains_lower_is_better(failure):
    assert check_trains(lambda: 0.1, float, threshold=0.2, higher_is_better=False) == 0.1
    assert "needs <= 0.2" in failure(
        check_trains, lambda: 0.3, float, threshold=0.2, higher_is_better=False
    )


def test_check_trains_fails_when_budget_exceeded(failure):
    def slow():
        time.sleep(0.05)
        return 1.0

    msg = failure(check_trains, slow, float, threshold=0.5, budget_s=0.01)
    took = re.search(r"model: training took ([\d.]+) s, more than the 0.01 s budget", msg)
    assert took and float(took.group(1)) >= 0.05
    assert "in_grader()" in msg


def test_check_trains_seeds_right_before_training():
    draws = [check_trains(lambda: float(torch.rand(())), float, threshold=0.0) for _ in range(2)]
    torch.rand(5)  # disturb the global generator between calls
    draws.append(check_trains(lambda: float(torch.rand(())), float, threshold=0.0))
    assert draws[0] == draws[1] == draws[2]


def test_check_trains_reports_nan_metric_as_divergence(failure):
    assert "diverged" in failure(check_trains, lambda: float("nan"), float, threshold=0.5)


def test_check_trains_accepts_tensor_metric_and_rejects_non_scalar(failure):
    assert check_trains(lambda: None, lambda _: torch.tensor(0.7), threshold=0.5) == pytest.approx(
        0.7
    )
    assert ".mean()" in failure(check_trains, lambda: None, lambda _: torch.ones(3), threshold=0)


def test_check_overfits_batch_passes_for_a_correct_model():
    loss = check_overfits_batch(mlp, X, Y, nn.CrossEntropyLoss(), steps=300, lr=3e-2)
    assert loss <= 1e-2


def test_check_overfits_batch_fails_for_softmax_before_cross_entropy(failure):
    msg = failure(
        check_overfits_batch, SoftmaxBeforeCrossEntropy, X, Y, nn.CrossEntropyLoss(), steps=50
    )
    assert "could not overfit a single batch of 8 examples" in msg
    assert "target <= 0.01" in msg
    assert "raw logits" in msg


def test_check_overfits_batch_names_parameters_without_gradient(failure):
    msg = failure(check_overfits_batch, UnusedLayer, X, Y, nn.CrossEntropyLoss())
    assert "unused.weight, unused.bias" in msg


def test_check_overfits_batch_reports_model_without_parameters(failure):
    assert "no trainable parameters" in failure(
        check_overfits_batch, nn.Identity, X, Y, nn.MSELoss()
    )


def test_check_overfits_batch_reports_missing_model(failure):
    assert "forget to return" in failure(check_overfits_batch, lambda: None, X, Y, nn.MSELoss())


def test_check_overfits_batch_reports_nan_loss(failure):
    def nan_loss(out, y):
        return out.sum() * float("nan")

    assert "loss became nan at step 0" in failure(check_overfits_batch, mlp, X, Y, nan_loss)
