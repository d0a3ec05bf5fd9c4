# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown] nbgrader={"grade": false, "grade_id": "intro", "locked": true, "schema_version": 3, "solution": false, "task": false}
# # 02 · Autograd
#
# In **00 · Math foundations** you derived gradients with the chain rule by hand. PyTorch's
# **autograd** does it for you: while you compute with tensors that have
# `requires_grad=True`, it records every operation in a **computation graph**; calling
# `.backward()` on a result walks that graph from the output back to the inputs, applying the
# chain rule at each node, and stores $\partial\,\text{output} / \partial\,\text{input}$ in
# each input's `.grad`.
#
# 1. `requires_grad`, `backward()`, `.grad` and `torch.no_grad()` in a training loop (**Task 1**),
# 2. the computation graph itself, and a picture of it (**Task 2**),
# 3. cutting the graph with `detach` (**Task 3**),
# 4. Jacobians and vector–Jacobian products (**Task 4**),
# 5. your own differentiable operation with `torch.autograd.Function` (**Task 5**).
#
# Replace every `raise NotImplementedError()` with your code and run the test cell below each
# task; hidden tests check the same behaviour on other (seeded) inputs.
# **Total: 12 points** (2 + 2 + 2 + 3 + 3).

# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false, "task": false}
import math

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

torch.manual_seed(0)

# %% [markdown] nbgrader={"grade": false, "grade_id": "basics_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## `requires_grad`, `backward()` and `.grad`
#
# Take $y = x^2 + 3x$ at $x = 2$: $\frac{dy}{dx} = 2x + 3 = 7$. A tensor created by you with
# `requires_grad=True` is a **leaf** of the graph; results computed from it carry a `grad_fn`,
# the graph node that knows how to send gradients back. Note three facts the cell shows:
#
# * `.grad` is filled only for leaves (intermediate results keep none unless you call
#   `.retain_grad()`),
# * gradients **accumulate**: a second `backward()` *adds* to `.grad` — this is why training
#   loops zero the gradients every step,
# * by default the graph is freed after `backward()`; pass `retain_graph=True` to walk it again.

# %% nbgrader={"grade": false, "grade_id": "basics_demo", "locked": true, "schema_version": 3, "solution": false, "task": false}
x = torch.tensor(2.0, requires_grad=True)
y = x**2 + 3 * x
print("y =", y.item(), "| x is a leaf:", x.is_leaf, "| y.grad_fn:", type(y.grad_fn).__name__)
y.backward(retain_graph=True)
print("dy/dx =", x.grad.item())
y.backward()
print("after a second backward, x.grad =", x.grad.item(), "(accumulated: 7 + 7)")
x.grad = None  # or x.grad.zero_()

# %% [markdown] nbgrader={"grade": false, "grade_id": "task1_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 1 — a training loop with autograd (2 points)
#
# Fit a line $\hat{y} = w x + b$ to points $(x_i, y_i)$ by gradient descent on the mean squared
# error
#
# $$L(w, b) = \frac{1}{N} \sum_{i=1}^{N} (w x_i + b - y_i)^2, \qquad w \leftarrow w - \eta \frac{\partial L}{\partial w}, \quad b \leftarrow b - \eta \frac{\partial L}{\partial b},$$
#
# letting autograd compute the derivatives. Write `fit_line(x, y, lr, steps)`:
#
# * start from $w = b = 0$: scalar (0-d) tensors with the dtype of `x` and `requires_grad=True`,
# * each step: compute the loss, call `backward()`, update `w` and `b` **in place** inside
#   `with torch.no_grad():` (the update itself must not be recorded in the graph — and PyTorch
#   refuses in-place changes of a leaf that requires grad outside it), then reset the gradients
#   (`w.grad.zero_()` or `w.grad = None`),
# * return `(w, b, losses)`: `w` and `b` as tensors that **no longer require grad** (use
#   `.detach()`), and `losses`, a list of `steps` Python floats (`loss.item()`), the loss
#   *before* each update.

# %% nbgrader={"grade": false, "grade_id": "fit_line", "locked": false, "schema_version": 3, "solution": true, "task": false}
def fit_line(x, y, lr, steps):
    ### BEGIN SOLUTION
    w = torch.zeros((), dtype=x.dtype, device=x.device, requires_grad=True)
    b = torch.zeros((), dtype=x.dtype, device=x.device, requires_grad=True)
    losses = []
    for _ in range(steps):
        loss = ((w * x + b - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
        w.grad.zero_()
        b.grad.zero_()
        losses.append(loss.item())
    return w.detach(), b.detach(), losses
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_fit_line", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
from autograders import check_close, check_tensor

x = torch.linspace(0, 1, 20, dtype=torch.float64)
y = 3 * x + 1
w, b, losses = fit_line(x, y, lr=0.5, steps=300)
check_tensor(w, shape=(), dtype=torch.float64, name="w")
assert not w.requires_grad and not b.requires_grad, (
    "w and b must be returned detached (requires_grad=False); use .detach()"
)
assert isinstance(losses, list) and len(losses) == 300, "losses must be a list with one entry per step"
assert all(type(v) is float for v in losses), "losses must hold Python floats: use loss.item()"
check_close(w, 3.0, atol=1e-6, name="fitted slope w")
check_close(b, 1.0, atol=1e-6, name="fitted intercept b")
check_close(losses[0], float((y**2).mean()), name="losses[0] (the loss at w = b = 0)")
print("visible fit_line tests passed")
### BEGIN HIDDEN TESTS
def reference_fit(x, y, lr, steps):
    # the same descent with the derivatives written out by hand
    w = torch.zeros((), dtype=x.dtype)
    b = torch.zeros((), dtype=x.dtype)
    losses = []
    for _ in range(steps):
        r = w * x + b - y
        losses.append(float((r**2).mean()))
        w, b = w - lr * 2 * (r * x).mean(), b - lr * 2 * r.mean()
    return w, b, losses


for seed, (n, lr, steps) in enumerate([(5, 0.1, 7), (30, 0.3, 25), (12, 0.05, 40)]):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, generator=g, dtype=torch.float64)
    y = -2 * x + 0.5 + 0.1 * torch.randn(n, generator=g, dtype=torch.float64)
    w, b, losses = fit_line(x, y, lr, steps)
    w_ref, b_ref, losses_ref = reference_fit(x, y, lr, steps)
    assert not w.requires_grad and not b.requires_grad, "w and b must be returned detached"
    assert all(type(v) is float for v in losses), "losses must hold Python floats: use loss.item()"
    check_tensor(torch.tensor(losses, dtype=torch.float64), losses_ref, rtol=1e-9, atol=1e-12,
                 name=f"losses (random problem {seed}, {steps} steps)")
    check_close(w, w_ref, rtol=1e-9, atol=1e-12, name=f"w (random problem {seed})")
    check_close(b, b_ref, rtol=1e-9, atol=1e-12, name=f"b (random problem {seed})")
w32, b32, _ = fit_line(x.float(), y.float(), 0.1, 3)
check_tensor(w32, dtype=torch.float32, shape=(), name="w for float32 data")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "graph_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 2 — the computation graph (2 points)
#
# Every result's `grad_fn` is a node of a directed acyclic graph. Its attribute
# `next_functions` is a tuple of `(node, index)` pairs, one per input of the operation: the
# node that produced that input, an `AccumulateGrad` node for a leaf that requires grad (it
# writes into the leaf's `.grad`; `node.variable` is the leaf), or `None` for an input that
# needs no gradient (a constant). For
#
# $$y = \sum \sin(a \cdot b + a)$$
#
# the graph is `SumBackward0 → SinBackward0 → AddBackward0 → (MulBackward0, AccumulateGrad[a])`,
# and `MulBackward0 → (AccumulateGrad[a], AccumulateGrad[b])`. Note that `a` is reached twice:
# `backward()` adds up both contributions — the multivariate chain rule.
#
# Write `graph_nodes(t)` that returns the list of all **distinct** nodes reachable from
# `t.grad_fn`, in **breadth-first** order: `t.grad_fn` first, then its `next_functions` in
# order, then theirs, and so on. Skip `None` entries and nodes you have already listed (the
# same node object is returned each time you reach it, so `is` or a `set` works). Return an
# empty list when `t.grad_fn` is `None`. The picture below the tests draws the graph from
# your list.

# %% nbgrader={"grade": false, "grade_id": "graph_nodes", "locked": false, "schema_version": 3, "solution": true, "task": false}
def graph_nodes(t):
    ### BEGIN SOLUTION
    if t.grad_fn is None:
        return []
    order = [t.grad_fn]
    seen = {t.grad_fn}
    i = 0
    while i < len(order):
        for child, _ in order[i].next_functions:
            if child is not None and child not in seen:
                seen.add(child)
                order.append(child)
        i += 1
    return order
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_graph_nodes", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
a = torch.randn(3, requires_grad=True)
b = torch.randn(3, requires_grad=True)
y = (a * b + a).sin().sum()
nodes = graph_nodes(y)
assert isinstance(nodes, list), f"graph_nodes must return a list, got {type(nodes).__name__}"
names = [type(n).__name__ for n in nodes]
expected = ["SumBackward0", "SinBackward0", "AddBackward0", "MulBackward0", "AccumulateGrad",
            "AccumulateGrad"]
assert names == expected, f"graph_nodes(y) gave the nodes {names}, expected {expected}"
assert nodes[4].variable is a and nodes[5].variable is b, "the AccumulateGrad nodes should be a's, then b's"
assert graph_nodes(a) == [], "a leaf has no grad_fn: graph_nodes should return []"
print("visible graph_nodes tests passed")
### BEGIN HIDDEN TESTS
def reference_nodes(t):
    if t.grad_fn is None:
        return []
    order, seen, i = [t.grad_fn], {t.grad_fn}, 0
    while i < len(order):
        for child, _ in order[i].next_functions:
            if child is not None and child not in seen:
                seen.add(child)
                order.append(child)
        i += 1
    return order


def describe(nodes):
    return [type(n).__name__ for n in nodes]


torch.manual_seed(1)
p = torch.randn(4, requires_grad=True)
q = torch.randn(4, requires_grad=True)
c = torch.randn(4)  # a constant: no gradient, a None in next_functions
h = p.exp()
cases = {
    "a diamond (h * h + h with h = exp(p))": (h * h + h).sum(),
    "an expression with a constant": ((p * c + q) ** 2).mean(),
    "a deeper expression": torch.tanh(p @ q.unsqueeze(1) + (p * q).sum() * c).pow(3).sum(),
    "a single operation": p * 2,
}
for label, out in cases.items():
    got = graph_nodes(out)
    want = reference_nodes(out)
    assert isinstance(got, list), f"graph_nodes must return a list, got {type(got).__name__}"
    assert len(got) == len(want) and all(g is w for g, w in zip(got, want)), (
        f"graph_nodes on {label}: got {describe(got)}, expected {describe(want)} "
        "(distinct nodes, breadth-first from t.grad_fn)"
    )
with torch.no_grad():
    frozen = p * 3
assert graph_nodes(frozen) == [], "a result computed under torch.no_grad() has no graph"
assert graph_nodes(c * 2) == [], "a result of constants has no graph"
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "graph_plot_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# **Picture.** `draw_graph` places each node of your list on a level (its longest distance from
# the output) and draws an arrow from every node to its `next_functions`: gradients flow along
# the arrows, from the output at the top to the leaves at the bottom. Try it on your own
# expressions, e.g. `draw_graph(torch.tanh(a @ b) * a.sum(), "my graph", {"a": a, "b": b})`.

# %% nbgrader={"grade": false, "grade_id": "graph_plot", "locked": true, "schema_version": 3, "solution": false, "task": false}
def draw_graph(t, title="", leaf_names=None):
    """Draw the graph of t; leaf_names maps names to leaf tensors, e.g. {"a": a}."""
    names = {id(v): k for k, v in (leaf_names or {}).items()}
    nodes = graph_nodes(t)
    level = {node: 0 for node in nodes}
    for _ in nodes:  # longest-path levels: relax the edges until nothing changes
        for node in nodes:
            for child, _ in node.next_functions:
                if child is not None:
                    level[child] = max(level[child], level[node] + 1)
    rows = {}
    for node in nodes:
        rows.setdefault(level[node], []).append(node)
    pos = {}
    for depth, row in rows.items():
        for i, node in enumerate(row):
            pos[node] = ((i + 1) / (len(row) + 1), -depth)
    fig, ax = plt.subplots(figsize=(5, 0.8 + 0.7 * len(rows)))
    for node in nodes:
        for child, _ in node.next_functions:
            if child is not None:
                ax.annotate("", xy=pos[child], xytext=pos[node],
                            arrowprops=dict(arrowstyle="-|>", color="gray", shrinkA=10, shrinkB=16))
    for node, (px, py) in pos.items():
        label = type(node).__name__
        if label == "AccumulateGrad":
            leaf = node.variable
            label += f"\n{names.get(id(leaf), 'leaf')} {tuple(leaf.shape)}"
        ax.text(px, py, label, ha="center", va="center", fontsize=8,
                bbox=dict(boxstyle="round", fc="#dde8f5" if "Accumulate" not in label else "#f5e6c8"))
    ax.set_ylim(-len(rows) + 0.5, 0.5)
    ax.set_xlim(0, 1)
    ax.axis("off")
    ax.set_title(title, fontsize=9)
    plt.show()


a = torch.randn(3, requires_grad=True)
b = torch.randn(3, requires_grad=True)
try:
    draw_graph((a * b + a).sin().sum(), "y = sum(sin(a * b + a))", {"a": a, "b": b})
except NotImplementedError:
    print("Implement graph_nodes above to see the graph.")

# %% [markdown] nbgrader={"grade": false, "grade_id": "task3_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 3 — cutting the graph: `detach` and `no_grad` (2 points)
#
# Two ways to keep autograd out:
#
# * `torch.no_grad()` records **nothing** inside its block: for parameter updates (Task 1) and
#   evaluation, where you need no gradients and want to save memory,
# * `t.detach()` returns a tensor with the same values that is **cut off** from the graph:
#   gradients do not flow back through it, as if it were a constant.
#
# `detach` lets you give a function one forward value and a different gradient. Rounding has
# derivative 0 almost everywhere, so a network that rounds (e.g. to quantise its weights) would
# receive no learning signal. The **straight-through estimator** rounds in the forward pass
# but lets the gradient through as if the rounding were the identity:
#
# $$\operatorname{ste}(x) = x + \operatorname{stopgrad}\big(\operatorname{round}(x) - x\big), \qquad \operatorname{ste}(x) = \operatorname{round}(x), \qquad \frac{\partial \operatorname{ste}}{\partial x} = 1.$$
#
# Write `straight_through_round(x)` returning a tensor equal to `torch.round(x)` whose gradient
# with respect to `x` is the identity. Do not modify `x`.

# %% nbgrader={"grade": false, "grade_id": "straight_through_round", "locked": false, "schema_version": 3, "solution": true, "task": false}
def straight_through_round(x):
    ### BEGIN SOLUTION
    return x + (torch.round(x) - x).detach()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_straight_through_round", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
from autograders import check_tensor

x = torch.tensor([0.2, 1.7, -2.4, 3.5], requires_grad=True)
out = straight_through_round(x)
check_tensor(out, torch.round(x.detach()), name="straight_through_round(x)")
assert out.requires_grad, "the result must stay connected to x (it has no grad_fn)"
weights = torch.tensor([1.0, -2.0, 3.0, 0.5])
(out * weights).sum().backward()
check_tensor(x.grad, weights, name="gradient through straight_through_round (should be the identity)")
print("visible straight_through_round tests passed")
### BEGIN HIDDEN TESTS
for seed, shape in enumerate([(5,), (3, 4), (2, 2, 3)]):
    torch.manual_seed(900 + seed)
    base = torch.randn(*shape, dtype=torch.float64) * 4
    x = base.clone().requires_grad_(True)
    out = straight_through_round(x)
    check_tensor(out, torch.round(base), dtype=torch.float64,
                 name=f"straight_through_round on random {shape} values")
    check_tensor(x.detach(), base, rtol=0, atol=0, name="x after straight_through_round (it must not change)")
    assert out.requires_grad, "the result must stay connected to x"
    upstream = torch.randn(*shape, dtype=torch.float64)
    (grad,) = torch.autograd.grad(out, x, grad_outputs=upstream)
    check_tensor(grad, upstream, name=f"gradient through straight_through_round ({shape})")
plain = torch.tensor([0.4, 2.6])
check_tensor(straight_through_round(plain), [0.0, 3.0], name="straight_through_round without requires_grad")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "task4_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 4 — Jacobians and vector–Jacobian products (3 points)
#
# For $f : \mathbb{R}^n \to \mathbb{R}^m$ the **Jacobian** is the $m \times n$ matrix of all
# partial derivatives,
#
# $$J_{ij} = \frac{\partial f_i}{\partial x_j}.$$
#
# Reverse-mode autograd never builds $J$. Given a vector $\mathbf{v} \in \mathbb{R}^m$ (the
# gradient of the loss with respect to $f$'s output) it computes the **vector–Jacobian
# product** $\mathbf{v}^\top J \in \mathbb{R}^n$ — the chain rule in one step. That is what
# `out.backward(v)` or `torch.autograd.grad(out, x, grad_outputs=v)` does; a scalar loss's
# `backward()` is the special case $m = 1$, $v = 1$. Choosing $\mathbf{v} = \mathbf{e}_i$ (the
# $i$-th unit vector) gives row $i$ of $J$, so $m$ VJPs build the whole Jacobian.
#
# Write two functions, for a 1-D tensor `x` of shape $(n,)$ and a function `f` returning a 1-D
# tensor of shape $(m,)$:
#
# 1. `vjp(f, x, v)`: $\mathbf{v}^\top J$ at `x`, shape $(n,)$,
# 2. `jacobian_rows(f, x)`: the full Jacobian, shape $(m, n)$, built row by row from VJPs.
#
# Work on a copy of `x` (`x.detach().clone().requires_grad_(True)`), so the caller's tensor does
# not change, and return results that do not require grad. Not allowed:
# `torch.autograd.functional`, `torch.func` (`jacrev`, `jacfwd`, `vjp`, `vmap`). Hint:
# `torch.autograd.grad(..., retain_graph=True)` lets you reuse one graph for all rows.

# %% nbgrader={"grade": false, "grade_id": "jacobian", "locked": false, "schema_version": 3, "solution": true, "task": false}
def vjp(f, x, v):
    ### BEGIN SOLUTION
    x = x.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(f(x), x, grad_outputs=v)
    return grad.detach()
    ### END SOLUTION


def jacobian_rows(f, x):
    ### BEGIN SOLUTION
    x = x.detach().clone().requires_grad_(True)
    out = f(x)
    rows = []
    for i in range(out.shape[0]):
        e = torch.zeros_like(out)
        e[i] = 1.0
        (row,) = torch.autograd.grad(out, x, grad_outputs=e, retain_graph=True)
        rows.append(row)
    return torch.stack(rows).detach()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_jacobian", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
from autograders import check_source_forbids, check_tensor

FORBIDDEN = ["torch.autograd.functional", "jacobian", "jacrev", "jacfwd", "vmap", "torch.func",
             "functorch"]


def f_demo(x):  # R^2 -> R^3
    return torch.stack([x[0] * x[1], x[0] ** 2, 3 * x[1]])


x = torch.tensor([1.0, 2.0], dtype=torch.float64)
J_expected = [[2.0, 1.0], [2.0, 0.0], [0.0, 3.0]]
J = jacobian_rows(f_demo, x)
check_tensor(J, J_expected, dtype=torch.float64, name="jacobian_rows(f_demo, [1, 2])")
v = torch.tensor([1.0, -1.0, 2.0], dtype=torch.float64)
check_tensor(vjp(f_demo, x, v), [0.0, 7.0], dtype=torch.float64, name="vjp(f_demo, [1, 2], v)")
assert not J.requires_grad, "return the Jacobian detached (it should not require grad)"
for fn in (vjp, jacobian_rows):
    check_source_forbids(fn, FORBIDDEN)
print("visible Jacobian tests passed")
### BEGIN HIDDEN TESTS
from torch.autograd.functional import jacobian as reference_jacobian

A = torch.randn(3, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(11))
functions = {
    "x ** 2": lambda x: x**2,
    "A @ sin(x)": lambda x: A @ torch.sin(x),
    "softmax(x)": lambda x: torch.softmax(x, dim=0),
    "cumsum(x) * x.sum()": lambda x: torch.cumsum(x, 0) * x.sum(),
    "scalar-like (m = 1)": lambda x: (x**3).sum().reshape(1),
}
for seed, (label, f) in enumerate(functions.items()):
    g = torch.Generator().manual_seed(1000 + seed)
    x = torch.randn(4, generator=g, dtype=torch.float64)
    before = x.clone()
    J_ref = reference_jacobian(f, x)
    J = jacobian_rows(f, x)
    check_tensor(J, J_ref, dtype=torch.float64, rtol=1e-9, atol=1e-12, name=f"jacobian_rows of {label}")
    assert not J.requires_grad, "return the Jacobian detached (it should not require grad)"
    v = torch.randn(J_ref.shape[0], generator=g, dtype=torch.float64)
    got = vjp(f, x, v)
    check_tensor(got, v @ J_ref, dtype=torch.float64, rtol=1e-9, atol=1e-12, name=f"vjp of {label}")
    assert not got.requires_grad, "return the VJP detached (it should not require grad)"
    check_tensor(x, before, rtol=0, atol=0, name="x after jacobian_rows/vjp (it must not change)")
    assert not x.requires_grad and x.grad is None, (
        "the caller's x must not be changed: work on x.detach().clone().requires_grad_(True)"
    )
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "task5_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 5 — your own `autograd.Function` (3 points)
#
# When an operation is not built from PyTorch ops, or autograd's gradient is numerically poor,
# you define the forward and backward passes yourself:
#
# ```python
# class MyOp(torch.autograd.Function):
#     @staticmethod
#     def forward(ctx, x):               # runs without recording a graph
#         ctx.save_for_backward(x)       # keep what backward needs
#         return ...
#
#     @staticmethod
#     def backward(ctx, grad_output):    # grad_output = dL/d(output), same shape as output
#         (x,) = ctx.saved_tensors
#         return grad_output * ...       # dL/dx = dL/d(output) * d(output)/dx  (chain rule)
# ```
#
# and call it with `MyOp.apply(x)`. Implement **softplus**, a smooth ReLU:
#
# $$\operatorname{softplus}(x) = \log(1 + e^x), \qquad \frac{d}{dx}\operatorname{softplus}(x) = \frac{e^x}{1 + e^x} = \sigma(x).$$
#
# The formula as written overflows: $e^{800} = \infty$ in `float64`. Use the stable form
# $\operatorname{softplus}(x) = \max(x, 0) + \log\!\left(1 + e^{-|x|}\right)$ (`torch.log1p`
# keeps precision when $e^{-|x|}$ is tiny), and `torch.sigmoid` in `backward`. Do not call
# `F.softplus` (it is switched off while the grader runs your class). The grader checks your
# backward against numerical derivatives with `torch.autograd.gradcheck`, on `float64` inputs.

# %% nbgrader={"grade": false, "grade_id": "softplus", "locked": false, "schema_version": 3, "solution": true, "task": false}
class Softplus(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ### BEGIN SOLUTION
        ctx.save_for_backward(x)
        return x.clamp(min=0) + torch.log1p(torch.exp(-x.abs()))
        ### END SOLUTION

    @staticmethod
    def backward(ctx, grad_output):
        ### BEGIN SOLUTION
        (x,) = ctx.saved_tensors
        return grad_output * torch.sigmoid(x)
        ### END SOLUTION


softplus = Softplus.apply

# %% nbgrader={"grade": true, "grade_id": "test_softplus", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
from autograders import check_gradcheck, check_source_forbids, check_tensor, forbid

SOFTPLUS_OPS = (F.softplus, "aten.softplus")
x = torch.tensor([-1.0, 0.0, 1.0], dtype=torch.float64)
with forbid(*SOFTPLUS_OPS):
    out = softplus(x)
check_tensor(out, [math.log1p(math.exp(v)) for v in (-1.0, 0.0, 1.0)], dtype=torch.float64,
             name="softplus([-1, 0, 1])")
with forbid(*SOFTPLUS_OPS):
    check_gradcheck(softplus, torch.tensor([-2.0, -0.5, 0.3, 1.5], dtype=torch.float64))
check_source_forbids(Softplus, ["softplus"])
print("visible softplus tests passed")
### BEGIN HIDDEN TESTS
for seed, shape in enumerate([(6,), (3, 4), (2, 3, 2)]):
    torch.manual_seed(1100 + seed)
    x = torch.randn(*shape, dtype=torch.float64) * 3
    with forbid(*SOFTPLUS_OPS):
        got = softplus(x)
        check_gradcheck(softplus, x)
    check_tensor(got, F.softplus(x), dtype=torch.float64, rtol=1e-10, atol=1e-14,
                 name=f"softplus on random {shape} values")
    # the backward pass must scale by grad_output (the chain rule) for any upstream gradient
    leaf = x.clone().requires_grad_(True)
    upstream = torch.randn(*shape, dtype=torch.float64)
    with forbid(*SOFTPLUS_OPS):
        (grad,) = torch.autograd.grad(softplus(leaf), leaf, grad_outputs=upstream)
    check_tensor(grad, upstream * torch.sigmoid(x), dtype=torch.float64, rtol=1e-10,
                 name=f"softplus backward with a random upstream gradient {shape}")
# large inputs: no overflow, exact limits
big = torch.tensor([-800.0, -40.0, -30.0, 30.0, 40.0, 800.0], dtype=torch.float64)
leaf = big.clone().requires_grad_(True)
with forbid(*SOFTPLUS_OPS):
    out = softplus(leaf)
    out.sum().backward()
check_tensor(out, F.softplus(big), dtype=torch.float64, rtol=1e-12, atol=1e-300,
             name="softplus on large inputs (overflow?)")
check_tensor(leaf.grad, torch.sigmoid(big), dtype=torch.float64, rtol=1e-12, atol=1e-300,
             name="softplus gradient on large inputs")
# float32 inputs keep their dtype
check_tensor(softplus(torch.zeros(3)), torch.full((3,), math.log(2.0)), dtype=torch.float32,
             name="softplus(float32 zeros)")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "softplus_plot_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# **Picture.** Your softplus next to ReLU, and its derivative computed by your `backward`
# through `out.sum().backward()` — the sigmoid.

# %% nbgrader={"grade": false, "grade_id": "softplus_plot", "locked": true, "schema_version": 3, "solution": false, "task": false}
xs = torch.linspace(-5, 5, 200, dtype=torch.float64, requires_grad=True)
try:
    ys = softplus(xs)
    ys.sum().backward()
    fig, ax = plt.subplots(figsize=(4.5, 3))
    ax.plot(xs.detach(), ys.detach(), label="softplus(x)")
    ax.plot(xs.detach(), xs.detach().clamp(min=0), "--", label="relu(x)")
    ax.plot(xs.detach(), xs.grad, label="d softplus / dx (your backward)")
    ax.legend(fontsize=8)
    plt.show()
except NotImplementedError:
    print("Implement Softplus above to see the picture.")

# %% [markdown] nbgrader={"grade": false, "grade_id": "outro", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## What next
#
# You trained with raw autograd, drew the graph it builds, cut it with `detach`, computed
# Jacobians from VJPs and wrote your own backward pass. In **03 · Neural networks**, `nn.Module`
# and `torch.optim` package these steps: parameters are leaves with `requires_grad=True`,
# `optimizer.step()` is the `no_grad` update, and `optimizer.zero_grad()` resets `.grad`.
