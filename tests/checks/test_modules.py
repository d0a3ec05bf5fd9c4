import pytest
import torch
import torch.nn.functional as F
from torch import nn

from autograders import (
    check_parameter_count,
    check_registered,
    check_state_dict_keys,
    check_train_eval,
    count_parameters,
)


class GoodNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(4, 4), nn.Linear(4, 2)])
        self.scale = nn.Parameter(torch.ones(2))
        self.register_buffer("offset", torch.zeros(2))
        self.drop = nn.Dropout(0.5)
        self.norm = nn.BatchNorm1d(2)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return self.drop(self.norm(x)) * self.scale + self.offset


class ListNet(nn.Module):
    """The classic mistakes: a python list of layers and plain tensors."""

    def __init__(self):
        super().__init__()
        self.layers = [nn.Linear(4, 4), nn.Linear(4, 2)]
        self.scale = torch.ones(2)
        self.offset = nn.Parameter(torch.zeros(2))

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return F.dropout(x, 0.5, training=self.training) * self.scale + self.offset


class AlwaysDropout(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return F.dropout(self.fc(x), 0.5, training=True)


class StubbornTrain(nn.Module):
    """Overrides train() without calling super(), so children never change mode."""

    def __init__(self):
        super().__init__()
        self.drop = nn.Dropout(0.5)

    def train(self, mode=True):
        self.training = mode
        return self

    def forward(self, x):
        return self.drop(x)


X = torch.randn(6, 4)


def test_count_parameters_counts_elements_and_skips_frozen_by_default():
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    assert count_parameters(model) == 8 + 3
    model[0].weight.requires_grad_(False)
    assert count_parameters(model) == 5
    assert count_parameters(model, trainable_only=False) == 11


def test_count_parameters_counts_shared_parameters_once():
    layer = nn.Linear(3, 3)
    assert count_parameters(nn.Sequential(layer, layer)) == 12


def test_count_parameters_rejects_non_module(failure):
    assert "forget to return the model" in failure(count_parameters, None)


def test_check_parameter_count_passes_for_the_right_count():
    check_parameter_count(GoodNet(), 20 + 10 + 2 + 4)


def test_check_parameter_count_reports_difference_and_breakdown(failure):
    msg = failure(check_parameter_count, GoodNet(), 40)
    assert "expected 40 trainable parameters, got 36 (-4)" in msg
    assert "layers=30" in msg
    assert "norm=4" in msg


def test_check_parameter_count_hints_python_list_of_layers(failure):
    msg = failure(check_parameter_count, ListNet(), 32)
    assert "got 2" in msg
    assert "nn.ModuleList" in msg


def test_check_parameter_count_hints_frozen_parameters(failure):
    model = nn.Linear(3, 2)
    model.bias.requires_grad_(False)
    assert "requires_grad=False" in failure(check_parameter_count, model, 8)


def test_check_registered_passes_for_registered_names():
    check_registered(
        GoodNet(),
        parameters=["scale", "layers.0.weight"],
        buffers="offset",
        submodules=["layers", "layers.1", "drop"],
    )


def test_check_registered_explains_each_unregistered_name(failure):
    msg = failure(
        check_registered,
        ListNet(),
        parameters=["scale", "layers.0.weight", "missing"],
        buffers=["offset"],
        submodules=["layers"],
    )
    assert "ListNet: 5 name(s) not registered" in msg
    assert "self.scale is a plain tensor; wrap it: self.scale = nn.Parameter(...)" in msg
    assert msg.count("use nn.ModuleList") == 2
    assert "has no attribute 'missing'" in msg
    assert "'offset' should be a registered buffer, but it is a parameter" in msg


def test_check_registered_hints_register_buffer_for_plain_tensor(failure):
    msg = failure(check_registered, ListNet(), buffers=["scale"])
    assert "self.register_buffer('scale', tensor)" in msg


def test_check_state_dict_keys_passes_for_module_and_mapping():
    keys = ["weight", "bias"]
    check_state_dict_keys(nn.Linear(2, 2), keys)
    check_state_dict_keys(nn.Linear(2, 2).state_dict(), reversed(keys))


def test_check_state_dict_keys_reports_missing_unexpected_and_rename(failure):
    model = nn.Sequential()
    model.add_module("linear1", nn.Linear(2, 2))
    msg = failure(check_state_dict_keys, model, ["fc1.weight", "fc1.bias"])
    assert "Missing: fc1.weight, fc1.bias" in msg
    assert "Unexpected: linear1.weight, linear1.bias" in msg
    assert "'linear1' looks like it should be called 'fc1'" in msg


def test_check_state_dict_keys_hints_missing_bias(failure):
    msg = failure(check_state_dict_keys, nn.Linear(2, 2, bias=False), ["weight", "bias"])
    assert "bias=False" in msg


def test_check_state_dict_keys_hints_dataparallel_prefix(failure):
    state = {"module.weight": torch.zeros(1)}
    assert "DataParallel" in failure(check_state_dict_keys, state, ["weight"])


def test_check_train_eval_passes_for_dropout_model_and_restores_it():
    model = GoodNet()
    model.eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    check_train_eval(model, X)
    assert not model.training and not model.norm.training
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key  # BatchNorm stats untouched


def test_check_train_eval_leaves_the_global_rng_untouched():
    model = GoodNet()
    rng = torch.get_rng_state()
    check_train_eval(model, X)
    assert torch.equal(torch.get_rng_state(), rng)


def test_check_train_eval_passes_for_deterministic_model_when_told():
    check_train_eval(nn.Linear(4, 2), X, differs_in_train=False)


def test_check_train_eval_reports_randomness_in_eval_mode(failure):
    msg = failure(check_train_eval, AlwaysDropout(), X)
    assert "in eval() mode two forward passes on the same input differ" in msg
    assert "training=self.training" in msg


def test_check_train_eval_reports_missing_randomness_in_train_mode(failure):
    msg = failure(check_train_eval, nn.Linear(4, 2), X)
    assert "in train() mode two forward passes" in msg
    assert "identical" in msg


def test_check_train_eval_reports_children_not_following_mode(failure):
    msg = failure(check_train_eval, StubbornTrain(), X)
    assert "submodule 'drop' still has training=True" in msg
    assert "super()" in msg


def test_check_train_eval_reports_modules_hidden_in_python_list(failure):
    msg = failure(check_train_eval, ListNet(), X)
    assert "nn.ModuleList" in msg


def test_check_train_eval_accepts_tuple_inputs_and_outputs():
    class Pair(nn.Module):
        def __init__(self):
            super().__init__()
            self.drop = nn.Dropout(0.5)

        def forward(self, a, b):
            return self.drop(a), {"b": self.drop(b)}

    check_train_eval(Pair(), (X, X))


@pytest.mark.parametrize(
    "check",
    [
        lambda m: check_parameter_count(m, 1),
        lambda m: check_registered(m, parameters=["w"]),
        lambda m: check_train_eval(m, X),
        lambda m: check_state_dict_keys(m, ["w"]),
    ],
)
def test_module_checks_reject_none_with_return_hint(failure, check):
    assert "forget to return the model" in failure(check, None)
