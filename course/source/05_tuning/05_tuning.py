# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown] nbgrader={"grade": false, "grade_id": "intro", "locked": true, "schema_version": 3, "solution": false, "task": false}
# # 05 · Tuning: regularisation, early stopping and hyper-parameter search
#
# A network big enough to be useful is big enough to **memorise** its training set: the
# training loss goes to zero while the loss on new data goes up. This assignment builds the
# standard tools against that, and the habits that keep a tuning session honest:
#
# 1. dropout by hand (inverted scaling, train vs eval mode),
# 2. L1 and L2 penalties, and 3. an experiment that makes overfitting — and its cure — visible,
# 4. early stopping that keeps (a real copy of) the best weights,
# 5. a small grid search that selects on the validation split, never on the test split,
# 6. sanity checks to run before a long training: can the model overfit one batch, and do
#    dropout and batch norm behave in each mode?
#
# The data are scikit-learn's bundled handwritten digits (1,797 images of $8\times 8$ pixels,
# 10 classes), split once into training, validation and test sets. The models are tiny, so
# everything runs on the CPU in seconds.
#
# Replace every `raise NotImplementedError()` with your code and run the tests under each task;
# hidden tests check the same behaviour on other inputs. **Total: 17 points.**

# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false, "task": false}
import copy
import itertools
import math

import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch import nn

from autograders import in_grader, make_generator, seed_everything, set_threads

set_threads(1)  # small models train fastest on one thread, and the host's cores are shared
torch.manual_seed(0)
print("grading:", in_grader())

_X, _y = load_digits(return_X_y=True)  # pixel values 0..16
_X = torch.as_tensor(_X, dtype=torch.float32) / 16.0
_y = torch.as_tensor(_y).long()
_perm = torch.randperm(len(_y), generator=make_generator(2025))
X_train, y_train = _X[_perm[:300]], _y[_perm[:300]]
X_val, y_val = _X[_perm[300:800]], _y[_perm[300:800]]
X_test, y_test = _X[_perm[800:]], _y[_perm[800:]]
print("train", tuple(X_train.shape), "validation", tuple(X_val.shape), "test", tuple(X_test.shape))


def evaluate_split(model, X, y):
    """(mean cross-entropy, accuracy) of `model` on (X, y), in eval mode, as two floats."""
    model.eval()
    with torch.no_grad():
        logits = model(X)
    return F.cross_entropy(logits, y).item(), (logits.argmax(dim=1) == y).double().mean().item()

# %% [markdown] nbgrader={"grade": false, "grade_id": "dropout_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 1 — dropout by hand (2 + 1 points)
#
# **Dropout** zeroes each activation independently with probability $p$ during training, so
# no unit can rely on any particular other unit being there; the network learns redundant
# features and overfits less. At test time all units are kept. The catch is the scale: if a
# unit sees only a fraction $1-p$ of its inputs in training, its input is on average $1-p$
# times smaller than at test time. **Inverted dropout** fixes this during training, scaling
# the survivors by $\frac{1}{1-p}$:
#
# $$\text{train:}\quad y_i = \frac{m_i\, x_i}{1-p},\quad m_i \sim \text{Bernoulli}(1-p)
# \qquad\qquad \text{eval:}\quad y = x,$$
#
# so $\mathbb E[y_i] = x_i$ in both modes and evaluation needs no change at all.
#
# Write
#
# * `inverted_dropout(x, p, training)`: in training, zero each element with probability `p`
#   (draw the mask with `torch.rand` or `torch.bernoulli` from the global generator, on `x`'s
#   device) and scale the rest by $1/(1-p)$; when `training` is `False`, return `x` itself.
#   Edge cases: `p = 0` keeps everything unchanged, `p = 1` drops everything and must return
#   zeros (not `nan` from $0/0$). The output must keep the graph (gradients flow to `x`).
# * `MyDropout(p)`, an `nn.Module` whose `forward(x)` applies `inverted_dropout` in the
#   module's current mode (`self.training`, which `model.train()` / `model.eval()` set).
#
# `F.dropout`, `nn.Dropout` and their relatives are off limits here (the tests check).

# %% nbgrader={"grade": false, "grade_id": "dropout", "locked": false, "schema_version": 3, "solution": true, "task": false}
def inverted_dropout(x, p, training):
    ### BEGIN SOLUTION
    if not training or p == 0:
        return x
    if p >= 1:
        return x * 0.0
    keep = (torch.rand(x.shape, device=x.device) >= p).to(x.dtype)
    return x * keep / (1 - p)
    ### END SOLUTION


class MyDropout(nn.Module):
    ### BEGIN SOLUTION
    def __init__(self, p):
        super().__init__()
        self.p = p

    def forward(self, x):
        return inverted_dropout(x, self.p, self.training)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_dropout", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
from autograders import check_close, check_source_forbids, check_tensor, forbid

DROPOUT_OPS = (F.dropout, F.dropout1d, F.dropout2d, F.dropout3d, F.alpha_dropout, F.feature_alpha_dropout)
DROPOUT_NAMES = ["dropout", "Dropout", "dropout1d", "dropout2d", "dropout3d", "Dropout1d", "Dropout2d",
                 "Dropout3d", "alpha_dropout", "AlphaDropout", "feature_alpha_dropout", "FeatureAlphaDropout"]


def run_dropout(x, p, training, seed):
    torch.manual_seed(seed)
    with forbid(*DROPOUT_OPS):
        return inverted_dropout(x, p, training)


def check_dropout_stats(p, n, seed):
    """On a large tensor of ones: values are 0 or 1/(1-p), ~p of them 0, mean ~1."""
    out = run_dropout(torch.ones(n, dtype=torch.float64), p, True, seed)
    check_tensor(out, shape=(n,), dtype=torch.float64, name=f"inverted_dropout(ones({n}), p={p})")
    zero = out == 0
    scaled = torch.isclose(out, torch.tensor(1 / (1 - p), dtype=torch.float64), rtol=1e-12, atol=0)
    assert bool((zero | scaled).all()), (
        f"p={p}: every output should be 0 or 1/(1-p) = {1 / (1 - p):.4g}, got values such as "
        f"{sorted(set(out[~(zero | scaled)][:3].tolist()))}. Hint: scale the kept values by 1/(1-p).")
    # binomial standard deviation of the zeroed fraction is below 0.0012 at n = 200,000
    check_close(zero.double().mean(), p, atol=0.01, name=f"fraction of zeros (p={p})")
    check_close(out.mean(), 1.0, atol=0.02, name=f"mean of the output on ones (p={p}): inverted dropout keeps it")


check_source_forbids(inverted_dropout, DROPOUT_NAMES)
check_dropout_stats(0.3, 200_000, seed=0)
x = torch.randn(5, 7, dtype=torch.float64)
assert run_dropout(x, 0.5, False, seed=0) is x or torch.equal(run_dropout(x, 0.5, False, seed=0), x), (
    "in eval mode (training=False) inverted_dropout must return x unchanged")
check_tensor(run_dropout(x, 0.0, True, seed=0), x, rtol=0, atol=0, name="inverted_dropout(x, p=0, training=True)")
check_tensor(run_dropout(x, 1.0, True, seed=0), torch.zeros(5, 7, dtype=torch.float64), rtol=0, atol=0,
             name="inverted_dropout(x, p=1, training=True): everything dropped, no nan")
### BEGIN HIDDEN TESTS
check_dropout_stats(0.8, 200_000, seed=1)
check_dropout_stats(0.1, 200_000, seed=2)
x = torch.randn(3, 4, 5, dtype=torch.float64)
a, b = run_dropout(x, 0.5, True, seed=3), run_dropout(x, 0.5, True, seed=4)
assert not torch.equal(a, b), "two calls in training mode drew the same mask: draw a new random mask every call"
assert torch.equal(run_dropout(x, 0.9, False, seed=3), x), "training=False with p=0.9 must return x unchanged"
check_tensor(run_dropout(x, 1.0, True, seed=3), torch.zeros_like(x), rtol=0, atol=0, name="p=1 on a 3-D tensor")
kept = a != 0
check_tensor(a[kept], 2 * x[kept], rtol=1e-12, atol=0, name="kept values of x (p=0.5) are doubled")
xg = torch.ones(1000, dtype=torch.float64, requires_grad=True)
out = run_dropout(xg, 0.25, True, seed=5)
assert out.requires_grad, "the output of inverted_dropout must stay connected to x (no .detach(), no torch.no_grad)"
out.sum().backward()
check_tensor(xg.grad, (out != 0).double() / 0.75, rtol=1e-12, atol=0, name="gradient of sum(inverted_dropout(x, 0.25))")
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_dropout_module", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
from autograders import check_train_eval

torch.manual_seed(0)
net = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), MyDropout(0.5), nn.Linear(16, 3))
with forbid(*DROPOUT_OPS):
    check_train_eval(net, torch.randn(4, 8))
### BEGIN HIDDEN TESTS
torch.manual_seed(1)
net = nn.Sequential(nn.Linear(5, 32), nn.Tanh(), MyDropout(0.2), nn.Linear(32, 32), nn.ReLU(), MyDropout(0.7),
                    nn.Linear(32, 2))
x = torch.randn(6, 5)
with forbid(*DROPOUT_OPS):
    check_train_eval(net, x, seed=3)
    net.eval()
    layer = MyDropout(0.4)
    layer.eval()
    assert torch.equal(layer(x), x), "MyDropout in eval mode must return its input unchanged"
    layer.train()
    torch.manual_seed(7)
    out = layer(torch.ones(100_000))
check_close((out == 0).double().mean(), 0.4, atol=0.01, name="fraction dropped by MyDropout(0.4) in train mode")
check_close(out.double().mean(), 1.0, atol=0.02, name="mean of MyDropout(0.4)(ones) in train mode")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "penalty_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 2 — L1 and L2 penalties (2 points)
#
# A **weight penalty** adds a cost for large weights to the loss,
# $L(\theta) + \lambda\,\Omega(\theta)$, preferring simpler functions among those that fit:
#
# * **L2** (ridge, "weight decay"): $\Omega_2 = \sum_j w_j^2$ — shrinks every weight in
#   proportion to its size (its gradient is $2w_j$), so weights spread out and stay small;
# * **L1** (lasso): $\Omega_1 = \sum_j |w_j|$ — its gradient $\operatorname{sign}(w_j)$ pushes
#   every weight towards 0 at the same rate, driving many exactly to 0 (sparse weights).
#
# Biases are **excluded**: a bias only shifts a unit's output, it does not make the function
# more wiggly, and penalising it just biases the model.
#
# Write `l2_penalty(model)` and `l1_penalty(model)`, summing over every parameter of
# `model.named_parameters()` whose name does **not** end in `"bias"`, and returning a 0-d
# tensor that stays connected to the parameters (no `.item()`: the penalty must be
# differentiable, or adding it to the loss changes nothing). The L2 penalty is the plain sum
# of squares — no square root and no factor $\frac12$.

# %% nbgrader={"grade": false, "grade_id": "penalties", "locked": false, "schema_version": 3, "solution": true, "task": false}
def l2_penalty(model):
    ### BEGIN SOLUTION
    return sum((p**2).sum() for name, p in model.named_parameters() if not name.endswith("bias"))
    ### END SOLUTION


def l1_penalty(model):
    ### BEGIN SOLUTION
    return sum(p.abs().sum() for name, p in model.named_parameters() if not name.endswith("bias"))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_penalties", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
def check_penalties(model, label):
    weights = [p for name, p in model.named_parameters() if not name.endswith("bias")]
    for fn, term, grad_of in ((l2_penalty, lambda w: (w**2).sum(), lambda w: 2 * w),
                              (l1_penalty, lambda w: w.abs().sum(), lambda w: torch.sign(w))):
        model.zero_grad()
        got = fn(model)
        assert isinstance(got, torch.Tensor) and got.dim() == 0, (
            f"{fn.__name__} ({label}) should return a 0-d tensor, got {type(got).__name__} "
            f"{tuple(got.shape) if isinstance(got, torch.Tensor) else got!r}")
        with torch.no_grad():
            expected = sum(term(w) for w in weights)
        check_tensor(got, expected, rtol=1e-9, atol=1e-12, name=f"{fn.__name__} ({label}): sum over weights, no biases")
        assert got.requires_grad, f"{fn.__name__} ({label}) is not connected to the parameters: don't use .item() or .detach()"
        got.backward()
        for name, p in model.named_parameters():
            if name.endswith("bias"):
                assert p.grad is None or not p.grad.any(), f"{fn.__name__} ({label}): {name} got a gradient; exclude biases"
            else:
                check_tensor(p.grad, grad_of(p.detach()), rtol=1e-9, atol=1e-12, name=f"d {fn.__name__} / d {name} ({label})")


torch.manual_seed(0)
check_penalties(nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)).double(), "Linear(3, 4), Linear(4, 2)")
### BEGIN HIDDEN TESTS
torch.manual_seed(1)
check_penalties(nn.Sequential(nn.Linear(5, 6, bias=False), nn.Tanh(), nn.Linear(6, 6), nn.Linear(6, 1)).double(),
                "three layers, the first without bias")
torch.manual_seed(2)
big_bias = nn.Sequential(nn.Conv1d(2, 3, 3), nn.Flatten(), nn.Linear(12, 2)).double()
with torch.no_grad():
    for name, p in big_bias.named_parameters():
        if name.endswith("bias"):
            p.fill_(10.0)
check_penalties(big_bias, "Conv1d and Linear, biases of 10")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "regularised_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 3 — an experiment that makes overfitting visible (3 points)
#
# Now use the penalty. Write `train_regularised(model, X, y, lam, epochs, lr=1e-2)` that trains
# `model` in place, **full batch** (the whole of `X` at every step), for `epochs` steps of
# `torch.optim.Adam(model.parameters(), lr=lr)`, minimising
#
# $$\text{cross-entropy}(\text{model}(X), y) + \lambda\cdot\texttt{l2\_penalty(model)},$$
#
# and returns the model. (Put the model in training mode; one step is `zero_grad`, the loss,
# `backward`, `step`, as in 05.) The penalty must be part of the loss that is differentiated —
# a penalty only added to the printed number regularises nothing.
#
# The test runs the experiment: an over-parameterised MLP (64 → 128 → 128 → 10, about 27,000
# weights) trained on only 100 training digits, once with $\lambda = 0$ and once with
# $\lambda = 10^{-3}$, and compares the **generalisation gap** (validation loss − training loss).
# Both runs take 60 full-batch steps. Without the penalty the training loss reaches 0 and the
# gap is large (0.89–1.25 for the reference over eight seeds); with it the gap is at most 0.45
# of that. Graded: the penalised gap is below 0.7 × the unpenalised one, and the penalised
# validation loss is lower.
# (While the tests of this task run, `l2_penalty` is a reference version, so a bug in Task 2
# costs points in Task 2 only.)

# %% nbgrader={"grade": false, "grade_id": "train_regularised", "locked": false, "schema_version": 3, "solution": true, "task": false}
def train_regularised(model, X, y, lam, epochs, lr=1e-2):
    ### BEGIN SOLUTION
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(X), y) + lam * l2_penalty(model)
        loss.backward()
        optimizer.step()
    return model
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_train_regularised", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
def reference_l2_penalty(model):
    return sum((p**2).sum() for name, p in model.named_parameters() if not name.endswith("bias"))


def with_reference_penalty(fn):
    """fn() while the name l2_penalty means the reference version (Task 2 graded alone)."""
    global l2_penalty
    mine = l2_penalty
    l2_penalty = reference_l2_penalty
    try:
        return fn()
    finally:
        l2_penalty = mine


def big_mlp(seed, width=128):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(), nn.Linear(width, 10))


def generalisation_gap(seed, lam, n=100, epochs=60):
    model = with_reference_penalty(lambda: train_regularised(big_mlp(seed), X_train[:n], y_train[:n], lam, epochs))
    assert isinstance(model, nn.Module), f"train_regularised should return the model, got {type(model).__name__}"
    train_loss, _ = evaluate_split(model, X_train[:n], y_train[:n])
    val_loss, _ = evaluate_split(model, X_val, y_val)
    return val_loss - train_loss, val_loss


def check_penalty_helps(seed):
    gap0, val0 = generalisation_gap(seed, 0.0)
    gap1, val1 = generalisation_gap(seed, 1e-3)
    print(f"seed {seed}: gap {gap0:.3f} without the penalty, {gap1:.3f} with lambda = 1e-3 "
          f"(validation loss {val0:.3f} -> {val1:.3f})")
    assert gap0 > 0.3, (f"seed {seed}: without a penalty the gap should be large (the model memorises 100 "
                        f"examples), got {gap0:.3f}: does train_regularised train for `epochs` steps of Adam?")
    assert gap1 < 0.7 * gap0, (f"seed {seed}: the L2 penalty did not shrink the gap enough: {gap1:.3f} with "
                               f"lambda = 1e-3 vs {gap0:.3f} without (needs < 0.7x). Is the penalty in the "
                               "loss you call backward() on, with a + sign?")
    assert val1 < val0, f"seed {seed}: the penalised validation loss {val1:.3f} is not below {val0:.3f}"


check_penalty_helps(0)
### BEGIN HIDDEN TESTS
check_penalty_helps(3)


def reference_train(model, X, y, lam, epochs, lr):
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(epochs):
        optimizer.zero_grad()
        (F.cross_entropy(model(X), y) + lam * reference_l2_penalty(model)).backward()
        optimizer.step()
    return model


for seed, lam, lr in ((5, 0.01, 0.02), (6, 0.0, 0.005)):
    X64, y64 = X_train[:40].double(), y_train[:40]
    mine = with_reference_penalty(lambda: train_regularised(big_mlp(seed, 16).double(), X64, y64, lam, 7, lr=lr))
    ref = reference_train(big_mlp(seed, 16).double(), X64, y64, lam, 7, lr)
    for (name, p), q in zip(mine.named_parameters(), ref.parameters()):
        check_tensor(p, q, rtol=1e-9, atol=1e-12, name=f"{name} after 7 steps (lambda={lam}, lr={lr})")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "early_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 4 — early stopping with the best checkpoint (2 + 1 points)
#
# The validation loss usually falls, flattens, then rises as the model starts to memorise.
# **Early stopping** watches it after each epoch and stops once it has not improved for
# `patience` epochs in a row, then goes back to the weights of the best epoch. Two details
# matter:
#
# * an **improvement** must beat the best loss so far by more than `min_delta`
#   (`val_loss < best_loss - min_delta`); a tie or a tiny gain is not one. Only an improvement
#   updates the best loss and the saved weights, and it resets the count of bad epochs;
# * the saved weights must be a **copy**. `model.state_dict()` returns the model's own tensors
#   (no copy): keep that dict and the next optimizer step, which updates the parameters in
#   place, silently changes your "best" checkpoint too. `copy.deepcopy(model.state_dict())`
#   copies the tensors.
#
# Write a class `EarlyStopping(patience, min_delta=0.0)` with
#
# * an attribute `best_loss` (`math.inf` before the first call),
# * `step(val_loss, model)`, called once per epoch: records an improvement (best loss and a
#   deep copy of `model.state_dict()`), or counts a bad epoch; returns `True` when the count of
#   consecutive bad epochs has reached `patience` (time to stop), else `False`;
# * `restore(model)`, which loads the best weights into `model`.
#
# For example with `patience=2` and losses 1.0, 0.8, 0.9, 0.8, 0.7: 1.0 and 0.8 improve, 0.9
# and 0.8 (a tie) are bad epochs, and `step` returns `True` at the fourth call.

# %% nbgrader={"grade": false, "grade_id": "early_stopping", "locked": false, "schema_version": 3, "solution": true, "task": false}
class EarlyStopping:
    ### BEGIN SOLUTION
    def __init__(self, patience, min_delta=0.0):
        self.patience = patience
        self.min_delta = min_delta
        self.best_loss = math.inf
        self.best_state = None
        self.bad_epochs = 0

    def step(self, val_loss, model):
        if val_loss < self.best_loss - self.min_delta:
            self.best_loss = val_loss
            self.best_state = copy.deepcopy(model.state_dict())
            self.bad_epochs = 0
        else:
            self.bad_epochs += 1
        return self.bad_epochs >= self.patience

    def restore(self, model):
        model.load_state_dict(self.best_state)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_early_stopping", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
def expected_run(losses, patience, min_delta):
    """(index of the call that returns True or None, best loss, index of the best epoch)."""
    best, best_i, bad = math.inf, None, 0
    for i, loss in enumerate(losses):
        if loss < best - min_delta:
            best, best_i, bad = loss, i, 0
        else:
            bad += 1
        if bad >= patience:
            return i, best, best_i
    return None, best, best_i


def check_scripted(losses, patience, min_delta=0.0):
    label = f"losses {losses}, patience={patience}, min_delta={min_delta}"
    stop_at, best, best_i = expected_run(losses, patience, min_delta)
    model = nn.Linear(2, 1)
    stopper = EarlyStopping(patience, min_delta) if min_delta else EarlyStopping(patience)
    assert stopper.best_loss == math.inf, f"best_loss should start at math.inf, got {stopper.best_loss!r}"
    got_stop = None
    for i, loss in enumerate(losses):
        with torch.no_grad():  # "training" changes the weights in place, as an optimizer does
            model.weight.fill_(float(i))
            model.bias.fill_(-float(i))
        answer = stopper.step(loss, model)
        assert answer in (True, False), f"step() should return True or False, got {answer!r}"
        if answer:
            got_stop = i
            break
    assert got_stop == stop_at, (
        f"{label}: step() should first return True at call {stop_at} (0-based; None = never), "
        f"got {got_stop}")
    check_close(stopper.best_loss, best, rtol=0, atol=1e-12, name=f"best_loss ({label})")
    with torch.no_grad():
        model.weight.fill_(123.0)
        model.bias.fill_(123.0)
    stopper.restore(model)
    assert model.weight[0, 0].item() == best_i and model.bias[0].item() == -best_i, (
        f"{label}: restore() should bring back the weights of epoch {best_i} (the best), but the weight is "
        f"{model.weight[0, 0].item():g} (epoch {model.weight[0, 0].item():g}). Hint: keep a deep copy of the "
        "state_dict, as the model's tensors change in place afterwards.")
    with torch.no_grad():
        model.weight.fill_(-7.0)
    stopper.restore(model)
    assert model.weight[0, 0].item() == best_i, (
        f"{label}: a second restore() after changing the model should give epoch {best_i}'s weights again")


check_scripted([1.0, 0.8, 0.9, 0.8, 0.7], patience=2)
check_scripted([0.5, 0.4, 0.45, 0.3, 0.35, 0.36, 0.37, 0.2], patience=3)
### BEGIN HIDDEN TESTS
check_scripted([1.0, 0.9, 0.8, 0.7, 0.6, 0.5], patience=1)
check_scripted([1.0, 1.0, 1.0, 0.5], patience=3)
check_scripted([1.0, 1.0, 0.5, 0.5, 0.4, 0.4], patience=2)
check_scripted([2.0, 1.5, 1.45, 1.41, 1.0, 0.99], patience=2, min_delta=0.1)
check_scripted([2.0, 1.0, 0.9, 0.95, 0.89, 0.85, 0.7, 0.75], patience=3, min_delta=0.1)
check_scripted([3.0, 2.0, 1.9, 1.0, 1.2, 0.95, 0.5], patience=2, min_delta=0.06)
check_scripted([0.3, 0.2, 0.25, 0.15, 0.16, 0.17, 0.14, 0.18, 0.19, 0.2, 0.21], patience=4)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_early_stopping_training", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
def early_stopped_run(seed, patience, max_epochs=200, n=100):
    """Full-batch Adam on 100 digits, stopped by the student's EarlyStopping on the validation loss."""
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    stopper = EarlyStopping(patience)
    val_losses, stopped = [], None
    for epoch in range(max_epochs):
        model.train()
        optimizer.zero_grad()
        F.cross_entropy(model(X_train[:n]), y_train[:n]).backward()
        optimizer.step()
        val_losses.append(evaluate_split(model, X_val, y_val)[0])
        if stopper.step(val_losses[-1], model):
            stopped = epoch
            break
    expected_stop, best, _ = expected_run(val_losses, patience, 0.0)
    assert stopped == expected_stop and stopped is not None, (
        f"seed {seed}: training should stop at epoch {expected_stop}, stopped at {stopped}")
    stopper.restore(model)
    restored = evaluate_split(model, X_val, y_val)[0]
    print(f"seed {seed}: stopped at epoch {stopped}, best validation loss {best:.4f}, after restore {restored:.4f}")
    check_close(restored, best, rtol=1e-6, name=f"validation loss after restore() (seed {seed})")


early_stopped_run(0, patience=5)
### BEGIN HIDDEN TESTS
early_stopped_run(1, patience=3)
early_stopped_run(2, patience=8)
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "search_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 5 — a small grid search (3 points)
#
# Hyper-parameters — the learning rate, the weight decay, the width — are chosen by trying
# several and keeping the best **on the validation split**. Never on the training split (it
# rewards memorising: the biggest learning rate and no regularisation "win") and never on the
# test split: a test set used to choose anything is no longer an unbiased estimate of the
# final model's error — it is touched once, at the very end, to report.
#
# Write `grid_search(grid, make_model, fit, splits, seed=0)` where
#
# * `grid` is a dict of lists, e.g. `{"lr": [1e-3, 1e-2], "weight_decay": [0.0, 1e-4]}`; the
#   configurations are all combinations, in the order of `itertools.product` over the dict's
#   values (keys in the dict's order), each a dict such as `{"lr": 1e-3, "weight_decay": 0.0}`;
# * `splits` is a dict with `"train"`, `"val"` and `"test"` entries, each a pair `(X, y)`;
# * for every configuration: call `seed_everything(seed)` and then `make_model()` (a fresh
#   model, initialised identically for every configuration, so only the hyper-parameters
#   differ), train it with `fit(model, X_train, y_train, **config)`, and measure it with the
#   given `evaluate_split` on the training and the validation split.
#
# Return `(best_config, results)`: `results` is a list with one dict per configuration, in
# order, holding the configuration's entries plus `"train_loss"`, `"val_loss"` and
# `"val_acc"`; `best_config` is the configuration (a dict of the grid's keys only) with the
# lowest validation loss, the first one on ties. Do not read `splits["test"]` at all.

# %% nbgrader={"grade": false, "grade_id": "grid_search", "locked": false, "schema_version": 3, "solution": true, "task": false}
def grid_search(grid, make_model, fit, splits, seed=0):
    ### BEGIN SOLUTION
    X_tr, y_tr = splits["train"]
    X_va, y_va = splits["val"]
    keys = list(grid)
    results, best_config, best_loss = [], None, math.inf
    for values in itertools.product(*(grid[k] for k in keys)):
        config = dict(zip(keys, values))
        seed_everything(seed)
        model = make_model()
        fit(model, X_tr, y_tr, **config)
        train_loss, _ = evaluate_split(model, X_tr, y_tr)
        val_loss, val_acc = evaluate_split(model, X_va, y_va)
        results.append({**config, "train_loss": train_loss, "val_loss": val_loss, "val_acc": val_acc})
        if val_loss < best_loss:
            best_config, best_loss = config, val_loss
    return best_config, results
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_grid_search", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
class WatchedSplits(dict):
    """A dict that remembers which keys were read."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.read = set()

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None):
        self.read.add(key)
        return super().get(key, default)

    def items(self):
        self.read.update(self.keys())
        return super().items()

    def values(self):
        self.read.update(self.keys())
        return super().values()


class Scripted(nn.Module):
    """A fake model whose loss on each split is scripted per configuration.

    Inputs of split s are all equal to s (0 train, 1 val, 2 test); fit() stores the
    configuration's row of `table` (losses on train, val, test); forward returns logits whose
    cross-entropy against label 0 equals that loss.
    """

    def __init__(self, table):
        super().__init__()
        self.table, self.row, self.init = table, None, torch.rand(()).item()

    def forward(self, x):
        s = x[:, 0].long()
        loss = torch.tensor([self.row[int(k)] for k in s], dtype=torch.float64)
        # cross-entropy of logits (0, z) for label 0 is log(1 + e^z): choose z to give `loss`
        z = torch.log(torch.expm1(loss))
        return torch.stack([torch.zeros_like(z), z], dim=1)


def scripted_search(table, grid, seed):
    configs = [dict(zip(grid, v)) for v in itertools.product(*grid.values())]
    made = []

    def make_model():
        made.append(Scripted(table))
        return made[-1]

    def fit(model, X, y, **config):
        assert torch.all(X == 0), "fit must be called on the training split"
        model.row = table[configs.index(config)]

    splits = WatchedSplits({name: (torch.full((4, 1), float(k)), torch.zeros(4, dtype=torch.long))
                            for k, name in enumerate(["train", "val", "test"])})
    best, results = grid_search(grid, make_model, fit, splits, seed=seed)
    assert "test" not in splits.read, "grid_search read splits['test']: the test split must not be used to select"
    assert len(made) == len(configs), f"make_model() should be called once per configuration ({len(configs)}), got {len(made)}"
    assert all(m.init == made[0].init for m in made), (
        "the models were initialised differently: call seed_everything(seed) before each make_model()")
    assert isinstance(results, list) and len(results) == len(configs), (
        f"results should be a list of {len(configs)} dicts, got {type(results).__name__} of length "
        f"{len(results) if hasattr(results, '__len__') else '?'}")
    for config, row, res in zip(configs, table, results):
        for key, value in config.items():
            assert res.get(key) == value, f"results should follow itertools.product order: expected {config}, got {res}"
        check_close(res["train_loss"], row[0], rtol=1e-6, name=f"train_loss of {config}")
        check_close(res["val_loss"], row[1], rtol=1e-6, name=f"val_loss of {config}")
    expected = configs[min(range(len(configs)), key=lambda i: (table[i][1], i))]
    assert best == expected, (f"best_config should be {expected} (lowest validation loss), got {best}. "
                              "Select on the validation loss, not the training or test loss.")


#         train  val   test
scripted_search([(0.9, 0.5, 0.6), (0.1, 0.7, 0.2), (0.5, 0.3, 0.9), (0.4, 0.6, 0.1)],
                {"lr": [0.1, 0.01], "weight_decay": [0.0, 1e-3]}, seed=0)
### BEGIN HIDDEN TESTS
scripted_search([(0.2, 0.9, 0.3), (0.8, 0.4, 0.7), (0.05, 0.95, 0.01), (0.7, 0.4, 0.6), (0.6, 0.45, 0.05),
                 (0.3, 0.8, 0.8)], {"width": [8, 16, 32], "lr": [1e-3, 1e-2]}, seed=4)
scripted_search([(0.5, 0.5, 0.5), (0.1, 0.6, 0.1), (0.9, 0.2, 0.9)], {"lr": [1.0, 0.1, 0.01]}, seed=1)
scripted_search([(0.1, 0.9, 0.9), (0.9, 0.1, 0.9)], {"lr": [0.1], "weight_decay": [0.0, 0.1], "momentum": [0.9]}, seed=2)


def digits_mlp():
    return nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))


def fit_adamw(model, X, y, lr, weight_decay, epochs=25):
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    for _ in range(epochs):
        optimizer.zero_grad()
        F.cross_entropy(model(X), y).backward()
        optimizer.step()


grid = {"lr": [3e-3, 3e-2], "weight_decay": [0.0, 0.3]}
splits = WatchedSplits(train=(X_train, y_train), val=(X_val, y_val), test=(X_test, y_test))
best, results = grid_search(grid, digits_mlp, fit_adamw, splits, seed=5)
assert "test" not in splits.read, "grid_search read splits['test']"
expected_results = []
for lr, wd in itertools.product(grid["lr"], grid["weight_decay"]):
    seed_everything(5)
    model = digits_mlp()
    fit_adamw(model, X_train, y_train, lr, wd)
    expected_results.append((evaluate_split(model, X_train, y_train)[0], *evaluate_split(model, X_val, y_val)))
for res, (tr, va, acc) in zip(results, expected_results):
    check_close(res["train_loss"], tr, rtol=1e-6, name=f"train_loss on the digits, {res}")
    check_close(res["val_loss"], va, rtol=1e-6, name=f"val_loss on the digits, {res}")
    check_close(res["val_acc"], acc, rtol=1e-6, name=f"val_acc on the digits, {res}")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "sanity_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 6 — sanity checks before a long run (3 points)
#
# Before spending hours on a training run, spend seconds on two checks that catch most bugs:
#
# * **overfit one batch**: a correct model, loss and optimizer can memorise a handful of
#   examples, driving the loss close to 0. If they cannot, something is wrong — a detached
#   tensor, a softmax before `CrossEntropyLoss` (which applies log-softmax itself), a layer
#   left out of `forward`;
# * **train vs eval mode**: dropout must be random in training and off in evaluation, and
#   batch norm must use the batch's statistics in training and its running averages in
#   evaluation. A classic bug is `F.dropout(x, p)` in `forward`: its `training` argument
#   defaults to `True`, so it keeps dropping in eval mode.
#
# Write `make_setup()` returning `(model, loss_fn, optimizer)` for the digits:
#
# * `model`: an `nn.Module` mapping $(N, 64)$ to logits $(N, 10)$, with at least one
#   `nn.BatchNorm1d` and one dropout layer (`nn.Dropout` is fine here), e.g.
#   64 → 128 → BatchNorm → ReLU → Dropout(0.2) → 10;
# * `loss_fn`: the cross-entropy loss on logits;
# * `optimizer`: a `torch.optim` optimizer over **all** of the model's parameters (Adam with
#   lr $10^{-2}$ works well).
#
# The test calls the course's `check_overfits_batch` (it trains a fresh `make_setup()[0]` on 32
# digits with its own Adam until the loss is below 0.05) and `check_train_eval`, and trains the
# model with your optimizer for 30 steps on one batch (the loss must fall below a third of its
# start). Graded on two seeds.

# %% nbgrader={"grade": false, "grade_id": "sanity_setup", "locked": false, "schema_version": 3, "solution": true, "task": false}
def make_setup():
    ### BEGIN SOLUTION
    model = nn.Sequential(nn.Linear(64, 128), nn.BatchNorm1d(128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10))
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    return model, loss_fn, optimizer
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_sanity_setup", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
from autograders import check_overfits_batch


def check_setup(seed, n=32):
    xb, yb = X_train[seed * n:(seed + 1) * n], y_train[seed * n:(seed + 1) * n]
    seed_everything(seed)
    setup = make_setup()
    assert isinstance(setup, tuple) and len(setup) == 3, "make_setup should return (model, loss_fn, optimizer)"
    model, loss_fn, optimizer = setup
    assert isinstance(model, nn.Module), f"the model should be an nn.Module, got {type(model).__name__}"
    kinds = {type(m).__name__ for m in model.modules()}
    assert any("BatchNorm" in k for k in kinds), f"the model needs a batch-norm layer; it has {sorted(kinds)}"
    assert isinstance(optimizer, torch.optim.Optimizer), f"optimizer should be a torch.optim optimizer, got {type(optimizer).__name__}"
    in_optimizer = {id(p) for group in optimizer.param_groups for p in group["params"]}
    missing = [name for name, p in model.named_parameters() if id(p) not in in_optimizer]
    assert not missing, f"the optimizer does not update these parameters: {missing}"
    model.eval()
    with torch.no_grad():
        logits = model(xb)
    check_tensor(logits, shape=(n, 10), name="model(x) in eval mode")
    check_close(loss_fn(logits, yb), F.cross_entropy(logits, yb), rtol=1e-6,
                name="loss_fn(logits, y): the cross-entropy of logits")
    check_train_eval(model, xb, seed=seed)
    best = check_overfits_batch(lambda: make_setup()[0], xb, yb, F.cross_entropy, steps=300, lr=1e-2, target=0.05,
                                seed=seed)
    seed_everything(seed)
    model.train()
    losses = []
    for _ in range(30):
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    print(f"seed {seed}: overfit one batch to {best:.4f}; 30 steps of your optimizer: {losses[0]:.3f} -> {losses[-1]:.3f}")
    assert losses[-1] < losses[0] / 3, (
        f"seed {seed}: 30 steps of your optimizer on one batch took the loss from {losses[0]:.3f} only to "
        f"{losses[-1]:.3f} (needs < a third): is the learning rate sensible?")


check_setup(0)
### BEGIN HIDDEN TESTS
check_setup(1)
### END HIDDEN TESTS
