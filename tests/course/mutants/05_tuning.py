"""Planted wrong solutions for 05_tuning: each must lose points when autograded.

Each mutant is the reference solution cell with one realistic mistake edited in, so the
mutants follow the reference when it changes; an edit that no longer applies fails loudly.
"""
# ruff: noqa: E501  (planted cell sources are data: long string literals read best unsplit)

from coursekit import mistake_planter

_mutant = mistake_planter("05_tuning")


_DROPOUT_LIBRARY = """def inverted_dropout(x, p, training):
    return F.dropout(x, p, training=training)


class MyDropout(nn.Module):
    def __init__(self, p):
        super().__init__()
        self.p = p

    def forward(self, x):
        return inverted_dropout(x, self.p, self.training)
"""

_SETUP_FUNCTIONAL_DROPOUT = """class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(64, 128)
        self.bn = nn.BatchNorm1d(128)
        self.out = nn.Linear(128, 10)

    def forward(self, x):
        return self.out(F.dropout(F.relu(self.bn(self.hidden(x))), 0.2))


def make_setup():
    model = Net()
    return model, nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters(), lr=1e-2)
"""

MUTANTS = [
    # inverted dropout
    _mutant("dropout_no_scaling", "dropout", ("return x * keep / (1 - p)", "return x * keep")),
    _mutant(
        "dropout_scales_by_keep_probability",
        "dropout",
        ("return x * keep / (1 - p)", "return x * keep * (1 - p)"),
    ),
    _mutant(
        "dropout_keeps_with_probability_p",
        "dropout",
        ("torch.rand(x.shape, device=x.device) >= p", "torch.rand(x.shape, device=x.device) < p"),
    ),
    _mutant("dropout_also_in_eval", "dropout", ("if not training or p == 0:", "if p == 0:")),
    _mutant("dropout_nan_at_p_1", "dropout", ("    if p >= 1:\n        return x * 0.0\n", "")),
    _mutant(
        "dropout_module_always_training",
        "dropout",
        ("inverted_dropout(x, self.p, self.training)", "inverted_dropout(x, self.p, True)"),
    ),
    {"name": "dropout_calls_F_dropout", "cell": "dropout", "source": _DROPOUT_LIBRARY},
    # L1 / L2 penalties
    _mutant(
        "penalty_includes_biases",
        "penalties",
        (
            '(p**2).sum() for name, p in model.named_parameters() if not name.endswith("bias")',
            "(p**2).sum() for p in model.parameters()",
        ),
    ),
    _mutant(
        "l2_is_the_norm",
        "penalties",
        (
            'return sum((p**2).sum() for name, p in model.named_parameters() if not name.endswith("bias"))',
            'return sum((p**2).sum() for name, p in model.named_parameters() if not name.endswith("bias")) ** 0.5',
        ),
    ),
    _mutant("l1_without_abs", "penalties", ("p.abs().sum()", "p.sum()")),
    _mutant(
        "penalty_as_float",
        "penalties",
        (
            'return sum((p**2).sum() for name, p in model.named_parameters() if not name.endswith("bias"))',
            'return sum((p**2).sum().item() for name, p in model.named_parameters() if not name.endswith("bias"))',
        ),
    ),
    _mutant("l2_half_sum_of_squares", "penalties", ("(p**2).sum()", "0.5 * (p**2).sum()")),
    # training with the penalty
    _mutant("regularised_ignores_lambda", "train_regularised", (" + lam * l2_penalty(model)", "")),
    _mutant(
        "regularised_penalty_detached",
        "train_regularised",
        ("lam * l2_penalty(model)", "lam * l2_penalty(model).item()"),
    ),
    _mutant(
        "regularised_penalty_subtracted",
        "train_regularised",
        (" + lam * l2_penalty(model)", " - lam * l2_penalty(model)"),
    ),
    _mutant(
        "regularised_penalty_after_backward",
        "train_regularised",
        (
            "        loss = F.cross_entropy(model(X), y) + lam * l2_penalty(model)\n        loss.backward()\n",
            "        loss = F.cross_entropy(model(X), y)\n        loss.backward()\n        loss = loss + lam * l2_penalty(model)\n",
        ),
    ),
    _mutant(
        "regularised_one_step_only",
        "train_regularised",
        ("for _ in range(epochs):", "for _ in range(1):"),
    ),
    # early stopping
    _mutant(
        "early_keeps_a_reference",
        "early_stopping",
        (
            "self.best_state = copy.deepcopy(model.state_dict())",
            "self.best_state = model.state_dict()",
        ),
    ),
    _mutant(
        "early_shallow_copy",
        "early_stopping",
        (
            "self.best_state = copy.deepcopy(model.state_dict())",
            "self.best_state = dict(model.state_dict())",
        ),
    ),
    _mutant(
        "early_patience_off_by_one",
        "early_stopping",
        ("return self.bad_epochs >= self.patience", "return self.bad_epochs > self.patience"),
    ),
    _mutant("early_counter_not_reset", "early_stopping", ("            self.bad_epochs = 0\n", "")),
    _mutant(
        "early_ties_improve",
        "early_stopping",
        (
            "if val_loss < self.best_loss - self.min_delta:",
            "if val_loss <= self.best_loss - self.min_delta:",
        ),
    ),
    _mutant(
        "early_ignores_min_delta",
        "early_stopping",
        ("if val_loss < self.best_loss - self.min_delta:", "if val_loss < self.best_loss:"),
    ),
    _mutant(
        "early_best_loss_tracks_minimum",
        "early_stopping",
        (
            "        else:\n            self.bad_epochs += 1\n",
            "        else:\n            self.bad_epochs += 1\n            self.best_loss = min(self.best_loss, val_loss)\n",
        ),
    ),
    # grid search
    _mutant(
        "search_selects_on_test",
        "grid_search",
        (
            '    X_va, y_va = splits["val"]\n',
            '    X_va, y_va = splits["val"]\n    X_te, y_te = splits["test"]\n',
        ),
        (
            "if val_loss < best_loss:",
            "test_loss, _ = evaluate_split(model, X_te, y_te)\n        if test_loss < best_loss:",
        ),
        ("best_config, best_loss = config, val_loss", "best_config, best_loss = config, test_loss"),
    ),
    _mutant(
        "search_selects_on_train_loss",
        "grid_search",
        (
            "if val_loss < best_loss:\n            best_config, best_loss = config, val_loss",
            "if train_loss < best_loss:\n            best_config, best_loss = config, train_loss",
        ),
    ),
    _mutant(
        "search_seeds_once",
        "grid_search",
        ("        seed_everything(seed)\n", ""),
        ("    keys = list(grid)\n", "    keys = list(grid)\n    seed_everything(seed)\n"),
    ),
    _mutant(
        "search_last_on_ties",
        "grid_search",
        ("if val_loss < best_loss:", "if val_loss <= best_loss:"),
    ),
    _mutant(
        "search_one_model_for_all",
        "grid_search",
        ("        seed_everything(seed)\n        model = make_model()\n", ""),
        (
            "    keys = list(grid)\n",
            "    keys = list(grid)\n    seed_everything(seed)\n    model = make_model()\n",
        ),
    ),
    # sanity setup
    {
        "name": "setup_dropout_on_in_eval",
        "cell": "sanity_setup",
        "source": _SETUP_FUNCTIONAL_DROPOUT,
    },
    _mutant(
        "setup_softmax_before_cross_entropy",
        "sanity_setup",
        ("nn.Linear(128, 10))", "nn.Linear(128, 10), nn.Softmax(dim=1))"),
    ),
    _mutant(
        "setup_optimizer_last_layer_only",
        "sanity_setup",
        (
            "torch.optim.Adam(model.parameters(), lr=1e-2)",
            "torch.optim.Adam(model[-1].parameters(), lr=1e-2)",
        ),
    ),
    _mutant(
        "setup_nll_on_logits",
        "sanity_setup",
        ("loss_fn = nn.CrossEntropyLoss()", "loss_fn = nn.NLLLoss()"),
    ),
    _mutant("setup_no_dropout", "sanity_setup", ("nn.Dropout(0.2), ", "")),
    _mutant("setup_learning_rate_too_small", "sanity_setup", ("lr=1e-2)", "lr=1e-6)")),
]
