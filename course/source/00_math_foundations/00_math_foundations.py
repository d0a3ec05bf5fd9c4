# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown] nbgrader={"grade": false, "grade_id": "intro", "locked": true, "schema_version": 3, "solution": false, "task": false}
# # 00 · Math foundations
#
# Deep learning is linear algebra, calculus and probability, run on a GPU. This assignment
# builds the pieces you will meet in every later notebook — in PyTorch, so that you also get
# used to tensors:
#
# 1. vectors, matrices and tensors; matrix multiplication (**Task 1**),
# 2. eigen-decomposition (**Task 2**) and the singular value decomposition (**Task 3**),
# 3. derivatives, partial derivatives and the chain rule (**Task 4**),
# 4. gradient descent by hand (**Task 5**),
# 5. probability: Normal, Bernoulli and Poisson distributions, Bayes' rule, mean and
#    variance (**Task 6**).
#
# Replace every `raise NotImplementedError()` with your code and run the test cell below each
# task. The tests you see are a sample: hidden tests check the same behaviour on other
# (seeded, random) inputs, in `float64` where precision matters. Some tasks ask you to build
# something yourself that PyTorch already has; there the grader switches the library version
# off while your function runs and reads your function's source.
#
# **Total: 14 points** (2 + 2 + 2 + 3 + 2 + 3).

# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false, "task": false}
import math

import matplotlib.pyplot as plt
import torch

torch.manual_seed(0)

# %% [markdown] nbgrader={"grade": false, "grade_id": "tensors_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Vectors, matrices and tensors
#
# A **vector** $\mathbf{x} \in \mathbb{R}^n$ is a list of $n$ numbers, a **matrix**
# $A \in \mathbb{R}^{m \times n}$ a table of $m$ rows and $n$ columns, and a **tensor** the same
# idea with any number of axes (an RGB image batch has four: $N \times C \times H \times W$).
# The basic operations:
#
# | operation | math | PyTorch |
# |---|---|---|
# | dot product | $\mathbf{x}^\top \mathbf{y} = \sum_i x_i y_i$ | `(x * y).sum()`, `x @ y` |
# | Euclidean norm | $\lVert \mathbf{x} \rVert = \sqrt{\mathbf{x}^\top \mathbf{x}}$ | `x.norm()` |
# | transpose | $(A^\top)_{ij} = A_{ji}$ | `A.T` |
# | matrix–vector product | $(A\mathbf{x})_i = \sum_j A_{ij} x_j$ | `A @ x` |
# | inverse | $A^{-1} A = I$ | `torch.linalg.inv(A)` (prefer `torch.linalg.solve`) |

# %% nbgrader={"grade": false, "grade_id": "tensors_demo", "locked": true, "schema_version": 3, "solution": false, "task": false}
x = torch.tensor([1.0, 2.0, 2.0])                        # a vector in R^3
M = torch.tensor([[1.0, 0.0, 2.0], [0.0, 1.0, -1.0]])   # a 2 x 3 matrix
T = torch.zeros(2, 3, 4)                                  # a tensor with three axes
print("shapes:", tuple(x.shape), tuple(M.shape), tuple(T.shape))
print("norm of x =", x.norm().item(), "= sqrt(1 + 4 + 4)")
print("x . x =", (x * x).sum().item())
print("M^T has shape", tuple(M.T.shape), "and M x =", (M @ x).tolist())

# %% [markdown] nbgrader={"grade": false, "grade_id": "task1_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 1 — matrix multiplication by hand (2 points)
#
# For $A \in \mathbb{R}^{n \times k}$ and $B \in \mathbb{R}^{k \times m}$ the product
# $C = AB \in \mathbb{R}^{n \times m}$ is
#
# $$C_{ij} = \sum_{l=1}^{k} A_{il} B_{lj},$$
#
# row $i$ of $A$ dotted with column $j$ of $B$. The inner sizes must agree.
#
# Write `matmul(A, B)` for 2-D tensors that returns $AB$ with the dtype of the inputs and raises
# `ValueError` when the inner sizes differ (or an input is not 2-D).
# **Do not use** a library matrix product: not `@`, `torch.matmul`, `torch.mm`, `torch.bmm`,
# `torch.mv`, `torch.dot`, `torch.einsum`, `torch.tensordot`, nor their relatives
# (`F.linear`, `nn.Linear`, `torch.addmm`, `torch.inner`, `torch.linalg.multi_dot`,
# `torch.linalg.vecdot`, ...). The grader switches the whole family off while your function
# runs (down to PyTorch's internal `mm`/`dot` kernels) and reads your source for them.
#
# *Hint:* broadcasting does the loops for you: `A[:, :, None]` has shape $(n, k, 1)$ and
# `B[None, :, :]` has shape $(1, k, m)$; their product has shape $(n, k, m)$ and holds every
# $A_{il} B_{lj}$. Which axis do you sum over?

# %% nbgrader={"grade": false, "grade_id": "matmul", "locked": false, "schema_version": 3, "solution": true, "task": false}
def matmul(A, B):
    ### BEGIN SOLUTION
    if A.dim() != 2 or B.dim() != 2 or A.shape[1] != B.shape[0]:
        raise ValueError(f"cannot multiply shapes {tuple(A.shape)} and {tuple(B.shape)}")
    return (A[:, :, None] * B[None, :, :]).sum(dim=1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_matmul", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
import ast
import inspect
import textwrap

from autograders import check_source_forbids, check_tensor, forbid

# Every library matrix product: the Python-level functions, and the internal (aten) kernels
# they all end in, so that F.linear, torch.inner, multi_dot, nn.Linear ... are caught too.
MATMUL_OPS = (torch.matmul, torch.mm, torch.bmm, torch.mv, torch.dot, torch.vdot, torch.einsum,
              torch.tensordot, torch.nn.functional.linear, torch.addmm, torch.addmv,
              torch.baddbmm, torch.addbmm, torch.inner, torch.linalg.multi_dot,
              torch.linalg.vecdot, torch.chain_matmul,
              "aten.mm", "aten.addmm", "aten.bmm", "aten.baddbmm", "aten.addbmm", "aten.mv",
              "aten.addmv", "aten.dot", "aten.vdot")
MATMUL_NAMES = ["matmul", "mm", "bmm", "mv", "dot", "vdot", "einsum", "tensordot", "linear",
                "Linear", "addmm", "addmv", "baddbmm", "addbmm", "multi_dot", "inner", "vecdot",
                "chain_matmul"]


def check_no_matmul_operator(fn):
    """The `@` operator is syntax, not a name: look for it in the function's syntax tree."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp | ast.AugAssign) and isinstance(node.op, ast.MatMult):
            raise AssertionError(
                f"line {node.lineno} of {fn.__name__} uses the @ operator, which this task asks "
                "you to implement yourself.\nHint: broadcast and sum (see the hint above)."
            )


A = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
B = torch.tensor([[1.0, 0.0], [0.0, 1.0], [2.0, -1.0]])
with forbid(*MATMUL_OPS):
    C = matmul(A, B)
check_tensor(C, [[7.0, -1.0], [16.0, -1.0]], dtype=torch.float32, name="matmul(A, B)")
check_source_forbids(matmul, MATMUL_NAMES)
check_no_matmul_operator(matmul)


def expect_value_error(A, B):
    try:
        matmul(A, B)
    except ValueError:
        return
    except Exception as exc:
        raise AssertionError(
            f"matmul of shapes {tuple(A.shape)} and {tuple(B.shape)} raised "
            f"{type(exc).__name__} ({exc}); it should raise ValueError"
        ) from None
    raise AssertionError(
        f"matmul of shapes {tuple(A.shape)} and {tuple(B.shape)} should raise ValueError"
    )


expect_value_error(torch.ones(2, 3), torch.ones(2, 3))
print("visible matmul tests passed")
### BEGIN HIDDEN TESTS
for seed, (n, k, m) in enumerate([(1, 1, 1), (3, 4, 5), (6, 2, 3), (4, 4, 4), (1, 7, 2)]):
    g = torch.Generator().manual_seed(seed)
    A = torch.randn(n, k, generator=g, dtype=torch.float64)
    B = torch.randn(k, m, generator=g, dtype=torch.float64)
    expected = A @ B
    with forbid(*MATMUL_OPS):
        got = matmul(A, B)
    check_tensor(got, expected, dtype=torch.float64, name=f"matmul of ({n}, {k}) and ({k}, {m})")
expect_value_error(torch.ones(3, 2), torch.ones(3, 2))
expect_value_error(torch.ones(4, 4), torch.ones(3, 4))
expect_value_error(torch.ones(3), torch.ones(3, 2))
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "task2_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 2 — eigen-decomposition (2 points)
#
# A vector $\mathbf{q} \neq 0$ is an **eigenvector** of a square matrix $S$ with **eigenvalue**
# $\lambda$ when $S\mathbf{q} = \lambda \mathbf{q}$: $S$ only stretches it. A real *symmetric*
# matrix ($S = S^\top$) has $n$ real eigenvalues and orthonormal eigenvectors, so it factors as
#
# $$S = Q \Lambda Q^\top, \qquad Q^\top Q = I, \qquad \Lambda = \operatorname{diag}(\lambda_1, \dots, \lambda_n).$$
#
# Powers are then cheap: $S^2 = Q\Lambda Q^\top Q \Lambda Q^\top = Q \Lambda^2 Q^\top$, and in
# general $S^p = Q \Lambda^p Q^\top$. When every $\lambda_i > 0$ (a *symmetric positive
# definite* matrix) this works for **any real** $p$: $p = -1$ gives the inverse, $p = \tfrac12$
# the matrix square root (used to whiten data). A covariance matrix is always positive
# *semi*-definite ($\lambda_i \ge 0$); it is positive definite, and these powers exist, when no
# direction of the data has zero variance — in practice one adds a small $\epsilon I$ first.
#
# Write `sym_matrix_power(S, p)` returning $S^p$ for a symmetric positive definite $S$ and a real
# number $p$. Use `torch.linalg.eigh(S)`, which returns the eigenvalues (ascending) and the
# eigenvectors **as the columns** of $Q$. The result has the dtype of `S`.

# %% nbgrader={"grade": false, "grade_id": "sym_matrix_power", "locked": false, "schema_version": 3, "solution": true, "task": false}
def sym_matrix_power(S, p):
    ### BEGIN SOLUTION
    eigenvalues, Q = torch.linalg.eigh(S)
    return Q @ torch.diag(eigenvalues**p) @ Q.T
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_sym_matrix_power", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
from autograders import check_tensor

S = torch.tensor([[2.0, 1.0], [1.0, 2.0]], dtype=torch.float64)  # eigenvalues 1 and 3
check_tensor(sym_matrix_power(S, 2), [[5.0, 4.0], [4.0, 5.0]], dtype=torch.float64,
             name="sym_matrix_power(S, 2)")
check_tensor(sym_matrix_power(S, -1), torch.tensor([[2.0, -1.0], [-1.0, 2.0]]) / 3,
             dtype=torch.float64, name="sym_matrix_power(S, -1)")
R = sym_matrix_power(S, 0.5)
check_tensor(R @ R, S, name="R @ R for R = sym_matrix_power(S, 0.5)")
print("visible sym_matrix_power tests passed")
### BEGIN HIDDEN TESTS
for seed, n in enumerate([1, 3, 4, 5]):
    g = torch.Generator().manual_seed(100 + seed)
    M = torch.randn(n, n, generator=g, dtype=torch.float64)
    S = M @ M.T + 0.5 * n * torch.eye(n, dtype=torch.float64)
    L, Q = torch.linalg.eigh(S)
    for p in (0.5, -1.0, 3, 0, -0.5, 1.7):
        expected = (Q * L**p) @ Q.T
        check_tensor(sym_matrix_power(S, p), expected, dtype=torch.float64, rtol=1e-6, atol=1e-8,
                     name=f"sym_matrix_power(random {n}x{n} SPD matrix, p={p})")
    check_tensor(sym_matrix_power(S, -1) @ S, torch.eye(n, dtype=torch.float64), atol=1e-8,
                 name=f"sym_matrix_power(S, -1) @ S for a random {n}x{n} S")
check_tensor(sym_matrix_power(S.float(), 2), (S @ S).float(), dtype=torch.float32, rtol=1e-4,
             name="sym_matrix_power(float32 S, 2)")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "eigen_plot_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# **Picture.** A symmetric matrix maps the unit circle onto an ellipse whose axes are its
# eigenvectors, stretched by its eigenvalues.

# %% nbgrader={"grade": false, "grade_id": "eigen_plot", "locked": true, "schema_version": 3, "solution": false, "task": false}
S_demo = torch.tensor([[2.0, 1.0], [1.0, 2.0]])
angles = torch.linspace(0, 2 * math.pi, 200)
circle = torch.stack([angles.cos(), angles.sin()])          # (2, 200) points on the unit circle
ellipse = S_demo @ circle
values, vectors = torch.linalg.eigh(S_demo)
fig, ax = plt.subplots(figsize=(3.5, 3.5))
ax.plot(circle[0], circle[1], "--", color="gray", label="unit circle")
ax.plot(ellipse[0], ellipse[1], label="S applied to it")
for lam, q in zip(values, vectors.T):
    ax.arrow(0, 0, float(lam * q[0]), float(lam * q[1]), width=0.03, length_includes_head=True,
             color="C3")
    ax.annotate(f"λ={lam:.0f}", (float(lam * q[0]), float(lam * q[1])))
ax.set_aspect("equal")
ax.legend(loc="lower right", fontsize=8)
ax.set_title("eigenvectors = axes of the ellipse")
plt.show()

# %% [markdown] nbgrader={"grade": false, "grade_id": "task3_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 3 — singular value decomposition (2 points)
#
# *Every* matrix $A \in \mathbb{R}^{m \times n}$ (not only square or symmetric ones) factors as
#
# $$A = U \Sigma V^\top = \sum_{i=1}^{r} \sigma_i \, \mathbf{u}_i \mathbf{v}_i^\top, \qquad r = \min(m, n),$$
#
# with orthonormal columns $\mathbf{u}_i$, $\mathbf{v}_i$ and singular values
# $\sigma_1 \ge \sigma_2 \ge \dots \ge 0$. Keeping only the first $k$ terms gives the **best
# rank-$k$ approximation** $A_k$ (Eckart–Young theorem), with error
#
# $$\lVert A - A_k \rVert_F = \sqrt{\textstyle\sum_{i > k} \sigma_i^2}.$$
#
# This is how PCA and image compression work. (Low-rank structure also drives LoRA adapters,
# but differently: LoRA does not truncate an SVD; it freezes the pretrained weight $W$ and
# *trains* a low-rank update $W + BA$ with thin matrices $B \in \mathbb{R}^{m \times r}$,
# $A \in \mathbb{R}^{r \times n}$, $r \ll \min(m, n)$.)
#
# Write `low_rank(A, k)` that returns $A_k$ (same shape as `A`) for $0 \le k \le \min(m, n)$.
# Use `torch.linalg.svd(A, full_matrices=False)`, which returns `U`, `S` (the $\sigma_i$,
# descending) and `Vh` $= V^\top$ — note: **`Vh` is already transposed**; its *rows* are the
# $\mathbf{v}_i$.

# %% nbgrader={"grade": false, "grade_id": "low_rank", "locked": false, "schema_version": 3, "solution": true, "task": false}
def low_rank(A, k):
    ### BEGIN SOLUTION
    U, S, Vh = torch.linalg.svd(A, full_matrices=False)
    return U[:, :k] @ torch.diag(S[:k]) @ Vh[:k, :]
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_low_rank", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
from autograders import check_close, check_tensor

A = torch.tensor([[3.0, 0.0], [0.0, 1.0], [0.0, 0.0]], dtype=torch.float64)
check_tensor(low_rank(A, 1), [[3.0, 0.0], [0.0, 0.0], [0.0, 0.0]], dtype=torch.float64,
             atol=1e-12, name="low_rank(A, 1)")
check_tensor(low_rank(A, 2), A, atol=1e-12, name="low_rank(A, 2) (full rank: A itself)")
print("visible low_rank tests passed")
### BEGIN HIDDEN TESTS
for seed, (m, n) in enumerate([(5, 3), (4, 6), (6, 6)]):
    g = torch.Generator().manual_seed(200 + seed)
    A = torch.randn(m, n, generator=g, dtype=torch.float64)
    U, S, Vh = torch.linalg.svd(A, full_matrices=False)
    for k in range(min(m, n) + 1):
        got = low_rank(A, k)
        expected = (U[:, :k] * S[:k]) @ Vh[:k]
        check_tensor(got, expected, dtype=torch.float64, rtol=1e-6, atol=1e-9,
                     name=f"low_rank(random {m}x{n} matrix, k={k})")
        check_close(torch.linalg.norm(A - got), S[k:].square().sum().sqrt(), rtol=1e-6, atol=1e-9,
                    name=f"Frobenius error of low_rank(random {m}x{n}, k={k})")
        check_close(torch.linalg.matrix_rank(got), k, name=f"rank of low_rank(random {m}x{n}, k={k})")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "svd_plot_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# **Picture.** A 64×64 grayscale pattern and its rank-1, rank-4 and rank-12 approximations with
# your `low_rank`: most of the image lives in a few singular directions.

# %% nbgrader={"grade": false, "grade_id": "svd_plot", "locked": true, "schema_version": 3, "solution": false, "task": false}
u = torch.linspace(-1, 1, 64)
image = (torch.outer(u, u.flip(0)) + ((u[:, None] ** 2 + u[None, :] ** 2) < 0.4).float()
         + 0.3 * torch.sin(6 * u)[None, :])
try:
    ranks = (1, 4, 12)
    panels = [image] + [low_rank(image, k) for k in ranks]
    fig, axes = plt.subplots(1, 4, figsize=(8, 2.2))
    for ax, panel, title in zip(axes, panels, ["original"] + [f"rank {k}" for k in ranks]):
        ax.imshow(panel, cmap="gray")
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    plt.show()
except NotImplementedError:
    print("Implement low_rank above to see the picture.")

# %% [markdown] nbgrader={"grade": false, "grade_id": "task4_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 4 — derivatives, partial derivatives and the chain rule (3 points)
#
# The **derivative** of $f$ at $x$ is the slope of the tangent,
# $f'(x) = \lim_{h \to 0} \frac{f(x + h) - f(x)}{h}$. On a computer we cannot take the limit,
# but the **centred difference**
#
# $$f'(x) \approx \frac{f(x + h) - f(x - h)}{2h}$$
#
# has error $O(h^2)$ instead of the forward difference's $O(h)$ (the plot below shows both; for
# tiny $h$ rounding errors take over). For $f : \mathbb{R}^n \to \mathbb{R}$ the **partial
# derivative** $\partial f / \partial x_i$ moves only coordinate $i$; together they form the
# **gradient** $\nabla f(\mathbf{x}) = \left(\partial f/\partial x_1, \dots, \partial f/\partial x_n\right)$,
# the direction of steepest ascent.
#
# The **chain rule** differentiates compositions: $\frac{d}{dx} f(g(x)) = f'(g(x)) \, g'(x)$,
# and with many variables, if $L$ depends on $w_j$ through $z_1, \dots, z_N$,
#
# $$\frac{\partial L}{\partial w_j} = \sum_{i=1}^{N} \frac{\partial L}{\partial z_i} \frac{\partial z_i}{\partial w_j}.$$
#
# Backpropagation is exactly this rule, applied from the loss backwards.
#
# Write two functions:
#
# 1. `numerical_gradient(f, x, h=1e-5)`: the gradient of a scalar function `f` at a tensor `x`
#    of any shape, by centred differences, one coordinate at a time. Return a tensor shaped like
#    `x` and **leave `x` unchanged**: either build perturbed copies (`x + step`), or, if you
#    change an entry of `x` in place, save it first and write the saved value back
#    (`flat[i] = old`) — adding and then subtracting `h` need not give back exactly the same
#    floating-point number. (The test allows differences of $10^{-12}$.)
# 2. `sigmoid_mse_grad(w, X, y)`: the gradient with respect to $\mathbf{w}$ of the loss of a
#    one-neuron "network",
#
#    $$L(\mathbf{w}) = \frac{1}{N} \sum_{i=1}^{N} \left(\sigma(z_i) - y_i\right)^2, \qquad z_i = \mathbf{x}_i^\top \mathbf{w}, \qquad \sigma(z) = \frac{1}{1 + e^{-z}},$$
#
#    where $\mathbf{x}_i$ is row $i$ of `X` (shape $(N, d)$), `w` has shape $(d,)$ and `y` shape
#    $(N,)$. Derive it with the chain rule (you need $\sigma'(z) = \sigma(z)(1 - \sigma(z))$)
#    and compute it with tensor operations. **No autograd**: `backward` and `torch.autograd` are
#    off while it runs.

# %% nbgrader={"grade": false, "grade_id": "derivatives_plot", "locked": true, "schema_version": 3, "solution": false, "task": false}
hs = torch.logspace(-14, -1, 60, dtype=torch.float64)
x0 = torch.tensor(1.0, dtype=torch.float64)
exact = torch.cos(x0)  # d/dx sin(x)
forward_err = ((torch.sin(x0 + hs) - torch.sin(x0)) / hs - exact).abs()
centred_err = ((torch.sin(x0 + hs) - torch.sin(x0 - hs)) / (2 * hs) - exact).abs()
fig, ax = plt.subplots(figsize=(4.5, 3))
ax.loglog(hs, forward_err, label="forward  (f(x+h) - f(x)) / h")
ax.loglog(hs, centred_err, label="centred  (f(x+h) - f(x-h)) / 2h")
ax.set_xlabel("step h")
ax.set_ylabel("error in d/dx sin(x) at x = 1")
ax.legend(fontsize=8)
plt.show()

# %% nbgrader={"grade": false, "grade_id": "derivatives", "locked": false, "schema_version": 3, "solution": true, "task": false}
def numerical_gradient(f, x, h=1e-5):
    ### BEGIN SOLUTION
    grad = torch.zeros_like(x)
    for i in range(x.numel()):
        step = torch.zeros_like(x)
        step.view(-1)[i] = h
        grad.view(-1)[i] = (f(x + step) - f(x - step)) / (2 * h)
    return grad
    ### END SOLUTION


def sigmoid_mse_grad(w, X, y):
    ### BEGIN SOLUTION
    p = torch.sigmoid(X @ w)                    # sigma(z_i)
    dL_dz = 2 * (p - y) * p * (1 - p) / X.shape[0]
    return X.T @ dL_dz
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_derivatives", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
from autograders import check_grad, check_source_forbids, check_tensor, forbid

x = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
check_tensor(numerical_gradient(lambda v: (v**3).sum(), x), 3 * x**2, rtol=1e-6, atol=1e-8,
             name="numerical_gradient of sum(x^3)")

X = torch.tensor([[1.0, 2.0], [0.5, -1.0], [-1.0, 0.0]], dtype=torch.float64)
y = torch.tensor([1.0, 0.0, 1.0], dtype=torch.float64)
w = torch.tensor([0.3, -0.2], dtype=torch.float64)
with forbid(torch.autograd.grad, torch.Tensor.backward):
    got = sigmoid_mse_grad(w, X, y)
check_tensor(got, shape=(2,), dtype=torch.float64, name="sigmoid_mse_grad(w, X, y)")
# check_grad compares your gradient with centred differences of the loss
check_grad(lambda v: ((torch.sigmoid(X @ v) - y) ** 2).mean(), w,
           analytic=lambda v: sigmoid_mse_grad(v, X, y), name="sigmoid_mse_grad")
check_source_forbids(sigmoid_mse_grad, ["backward", "autograd"])
print("visible derivative tests passed")
### BEGIN HIDDEN TESTS
# numerical_gradient: several functions, shapes and points; x must not change
cases = [
    (lambda v: (v**3).sum(), lambda v: 3 * v**2, (4,)),
    (lambda v: torch.sin(v[0]) * torch.exp(v[1]),
     lambda v: torch.stack([torch.cos(v[0]) * torch.exp(v[1]), torch.sin(v[0]) * torch.exp(v[1])]),
     (2,)),
    (lambda v: (v * v.flip(0)).sum() + v[0, 0] ** 2,
     lambda v: 2 * v.flip(0) + torch.nn.functional.pad(2 * v[:1, :1], (0, 2, 0, 1)), (2, 3)),
    (lambda v: torch.log1p(v.square()).sum() * 3.0, lambda v: 6 * v / (1 + v.square()), (3, 2)),
]
for seed, (f, df, shape) in enumerate(cases):
    g = torch.Generator().manual_seed(300 + seed)
    x = torch.randn(*shape, generator=g, dtype=torch.float64)
    before = x.clone()
    got = numerical_gradient(f, x)
    check_tensor(x, before, rtol=0, atol=1e-12,
                 name="x after numerical_gradient (it must not change)")
    check_tensor(got, df(x), dtype=torch.float64, rtol=1e-6, atol=1e-8,
                 name=f"numerical_gradient (case {seed}, shape {shape})")
x = torch.tensor([0.3, 2.0], dtype=torch.float64)
check_tensor(numerical_gradient(lambda v: (v**2).sum(), x, h=1e-3), 2 * x, rtol=1e-9, atol=1e-9,
             name="numerical_gradient with h=1e-3 (centred differences are exact on x^2)")

# sigmoid_mse_grad: compare with autograd on random problems
for seed, (N, d) in enumerate([(1, 1), (5, 3), (40, 4)]):
    g = torch.Generator().manual_seed(400 + seed)
    X = torch.randn(N, d, generator=g, dtype=torch.float64)
    y = (torch.rand(N, generator=g) < 0.5).to(torch.float64)
    w = torch.randn(d, generator=g, dtype=torch.float64)
    w_leaf = w.clone().requires_grad_(True)
    ((torch.sigmoid(X @ w_leaf) - y) ** 2).mean().backward()
    expected = w_leaf.grad.detach()
    with forbid(torch.autograd.grad, torch.Tensor.backward):
        got = sigmoid_mse_grad(w, X, y)
    check_tensor(got, expected, dtype=torch.float64, rtol=1e-7, atol=1e-10,
                 name=f"sigmoid_mse_grad on a random problem (N={N}, d={d})")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "task5_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 5 — gradient descent by hand (2 points)
#
# Gradient descent walks downhill: $\mathbf{w}_{t+1} = \mathbf{w}_t - \eta \, \nabla f(\mathbf{w}_t)$
# with a **learning rate** $\eta > 0$. Take the quadratic bowl
#
# $$f(\mathbf{w}) = \tfrac12 \mathbf{w}^\top A \mathbf{w} - \mathbf{b}^\top \mathbf{w}, \qquad A \text{ symmetric positive definite}.$$
#
# Its partial derivatives give $\nabla f(\mathbf{w}) = A\mathbf{w} - \mathbf{b}$ (work it out
# for $2 \times 2$ if you doubt it), so the minimum is where $A\mathbf{w}^\star = \mathbf{b}$.
# Along each eigenvector of $A$ the error shrinks by the factor $1 - \eta\lambda_i$ per step:
# the walk converges exactly when $0 < \eta < 2 / \lambda_{\max}$ — eigenvalues again.
#
# Write `gradient_descent(A, b, w0, lr, steps)` that runs `steps` updates from `w0` and returns
# the whole path as a tensor of shape `(steps + 1, d)`: row 0 is `w0`, row $t$ is
# $\mathbf{w}_t$. Compute the gradient with the formula above (no autograd) and do not modify
# `w0`.

# %% nbgrader={"grade": false, "grade_id": "gradient_descent", "locked": false, "schema_version": 3, "solution": true, "task": false}
def gradient_descent(A, b, w0, lr, steps):
    ### BEGIN SOLUTION
    w = w0.clone()
    path = [w]
    for _ in range(steps):
        w = w - lr * (A @ w - b)
        path.append(w)
    return torch.stack(path)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_gradient_descent", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
from autograders import check_source_forbids, check_tensor, forbid

A = torch.tensor([[1.0, 0.0], [0.0, 10.0]], dtype=torch.float64)
b = torch.tensor([1.0, 1.0], dtype=torch.float64)
w0 = torch.zeros(2, dtype=torch.float64)
with forbid(torch.autograd.grad, torch.Tensor.backward):
    path = gradient_descent(A, b, w0, lr=0.1, steps=100)
check_tensor(path, shape=(101, 2), dtype=torch.float64, name="gradient_descent path")
check_tensor(path[0], w0, name="path[0] (the start)")
check_tensor(path[1], [0.1, 0.1], name="path[1] (one step)")
check_tensor(path[-1], [1.0, 0.1], atol=1e-4, name="path[-1] (near the minimum A^-1 b)")
check_source_forbids(gradient_descent, ["backward", "autograd"])
print("visible gradient_descent tests passed")
### BEGIN HIDDEN TESTS
for seed, (d, steps) in enumerate([(1, 5), (3, 40), (5, 25)]):
    g = torch.Generator().manual_seed(500 + seed)
    M = torch.randn(d, d, generator=g, dtype=torch.float64)
    A = M @ M.T + torch.eye(d, dtype=torch.float64)
    b = torch.randn(d, generator=g, dtype=torch.float64)
    w0 = torch.randn(d, generator=g, dtype=torch.float64)
    before = w0.clone()
    L, Q = torch.linalg.eigh(A)
    lr = 1.0 / float(L.max())
    w_star = torch.linalg.solve(A, b)
    # closed form: w_t - w* = (I - lr A)^t (w0 - w*), computed in the eigenbasis
    t = torch.arange(steps + 1, dtype=torch.float64)[:, None]
    expected = w_star + ((1 - lr * L) ** t * (Q.T @ (w0 - w_star))) @ Q.T
    with forbid(torch.autograd.grad, torch.Tensor.backward):
        path = gradient_descent(A, b, w0, lr, steps)
    check_tensor(w0, before, rtol=0, atol=0, name="w0 after gradient_descent (it must not change)")
    check_tensor(path, expected, dtype=torch.float64, rtol=1e-7, atol=1e-9,
                 name=f"gradient_descent path (random {d}x{d} problem, {steps} steps)")
path = gradient_descent(A, b, w0, 0.1, 0)
check_tensor(path, w0[None], name="gradient_descent with steps=0")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "gd_plot_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# **Picture.** Contours of $f$ for $A = \operatorname{diag}(1, 10)$, $\lambda_{\max} = 10$, and
# your paths for three learning rates: too small (slow), good, and just above $2/\lambda_{\max}$
# (it zig-zags out of the bowl).

# %% nbgrader={"grade": false, "grade_id": "gd_plot", "locked": true, "schema_version": 3, "solution": false, "task": false}
A_demo = torch.tensor([[1.0, 0.0], [0.0, 10.0]], dtype=torch.float64)
b_demo = torch.tensor([1.0, 1.0], dtype=torch.float64)
grid = torch.linspace(-1.5, 2.5, 80, dtype=torch.float64)
W1, W2 = torch.meshgrid(grid, grid, indexing="xy")
F = 0.5 * (W1**2 + 10 * W2**2) - W1 - W2
try:
    fig, ax = plt.subplots(figsize=(4.5, 3.5))
    ax.contour(W1, W2, F, levels=20, cmap="Greys", linewidths=0.6)
    start = torch.tensor([-1.0, 1.5], dtype=torch.float64)
    for lr, color in ((0.02, "C0"), (0.15, "C2"), (0.205, "C3")):
        path = gradient_descent(A_demo, b_demo, start, lr, 15)
        ax.plot(path[:, 0], path[:, 1], "o-", ms=2.5, color=color, label=f"lr = {lr}")
    ax.plot([1.0], [0.1], "k*", ms=10, label="minimum")
    ax.set_xlim(-1.5, 2.5)
    ax.set_ylim(-1.5, 2.5)
    ax.legend(fontsize=8)
    plt.show()
except NotImplementedError:
    print("Implement gradient_descent above to see the picture.")

# %% [markdown] nbgrader={"grade": false, "grade_id": "task6_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 6 — probability (3 points)
#
# Three distributions you will meet again (as noise, as labels, as counts):
#
# | distribution | values | probability | mean | variance |
# |---|---|---|---|---|
# | Normal $\mathcal{N}(\mu, \sigma^2)$ | $x \in \mathbb{R}$ | $p(x) = \frac{1}{\sigma\sqrt{2\pi}} e^{-(x-\mu)^2 / 2\sigma^2}$ | $\mu$ | $\sigma^2$ |
# | Bernoulli$(p)$ | $x \in \{0, 1\}$ | $P(x) = p^x (1-p)^{1-x}$ | $p$ | $p(1-p)$ |
# | Poisson$(\lambda)$ | $k \in \{0, 1, 2, \dots\}$ | $P(k) = \frac{\lambda^k e^{-\lambda}}{k!}$ | $\lambda$ | $\lambda$ |
#
# From $n$ samples we estimate the mean and variance with
# $\bar{x} = \frac1n \sum_i x_i$ and $s^2 = \frac{1}{n-1} \sum_i (x_i - \bar{x})^2$ (dividing by
# $n - 1$, *Bessel's correction*, makes $s^2$ unbiased).
#
# **Bayes' rule** turns a prior belief $P(H)$ about hypotheses $H$ and the likelihood
# $P(D \mid H)$ of the data into the posterior
#
# $$P(H \mid D) = \frac{P(D \mid H)\,P(H)}{\sum_{H'} P(D \mid H')\,P(H')}.$$
#
# With many observations the likelihood is a product of many small numbers and underflows to
# 0 in floating point; work with **logarithms** ($\log P(D \mid H) = \sum_i \log P(x_i \mid H)$)
# and subtract the maximum before exponentiating (or use `torch.softmax`).
#
# Write three functions (all in `float64`):
#
# 1. `poisson_pmf(k, lam)`: $P(k)$ for a tensor `k` of non-negative whole numbers (stored as
#    floats) and a rate `lam > 0`. It must work for large `k` and `lam` (think $k = 400$,
#    $\lambda = 150$): compute the logarithm first; $\log k! = $ `torch.lgamma(k + 1)`.
# 2. `mean_var(x)`: the sample mean and the unbiased sample variance of `x` along dimension 0,
#    as a tuple `(mean, var)`. Write the formulas yourself: `var`/`std` (and
#    `torch.var_mean`, `torch.std_mean`) are off while it runs.
# 3. `coin_posterior(biases, prior, flips)`: a coin has one of the head-probabilities in
#    `biases` (shape $(H,)$, each strictly between 0 and 1), with prior probabilities `prior`
#    (shape $(H,)$). Given `flips`, a tensor of 0/1 outcomes (1 = heads), return the posterior
#    probability of each bias (shape $(H,)$, summing to 1). Thousands of flips must work.

# %% nbgrader={"grade": false, "grade_id": "distributions_plot", "locked": true, "schema_version": 3, "solution": false, "task": false}
from torch.distributions import Normal, Poisson

fig, axes = plt.subplots(1, 2, figsize=(8, 2.6))
xs = torch.linspace(-6, 6, 200)
for mu, sigma in ((0.0, 1.0), (1.0, 2.0)):
    axes[0].plot(xs, Normal(mu, sigma).log_prob(xs).exp(), label=f"N({mu:g}, {sigma:g}²)")
axes[0].set_title("Normal densities", fontsize=9)
axes[0].legend(fontsize=8)
ks = torch.arange(0, 16, dtype=torch.float64)
for lam, offset in ((2.0, -0.2), (6.0, 0.2)):
    axes[1].bar(ks + offset, Poisson(lam).log_prob(ks).exp(), width=0.4, label=f"λ = {lam:g}")
axes[1].set_title("Poisson probabilities", fontsize=9)
axes[1].legend(fontsize=8)
plt.show()

# %% nbgrader={"grade": false, "grade_id": "probability", "locked": false, "schema_version": 3, "solution": true, "task": false}
def poisson_pmf(k, lam):
    ### BEGIN SOLUTION
    k = torch.as_tensor(k, dtype=torch.float64)
    return torch.exp(k * math.log(lam) - lam - torch.lgamma(k + 1))
    ### END SOLUTION


def mean_var(x):
    ### BEGIN SOLUTION
    n = x.shape[0]
    mean = x.sum(dim=0) / n
    var = ((x - mean) ** 2).sum(dim=0) / (n - 1)
    return mean, var
    ### END SOLUTION


def coin_posterior(biases, prior, flips):
    ### BEGIN SOLUTION
    heads = flips.sum()
    tails = flips.numel() - heads
    log_post = torch.log(prior) + heads * torch.log(biases) + tails * torch.log1p(-biases)
    return torch.softmax(log_post, dim=0)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_probability", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
from autograders import check_close, check_source_forbids, check_tensor, forbid

VAR_OPS = (torch.var, torch.std, torch.var_mean, torch.std_mean, torch.Tensor.var, torch.Tensor.std)

k = torch.arange(0, 6, dtype=torch.float64)
check_tensor(poisson_pmf(k, 2.0), [math.exp(-2) * 2.0**i / math.factorial(i) for i in range(6)],
             dtype=torch.float64, rtol=1e-9, name="poisson_pmf(0..5, lam=2)")

with forbid(*VAR_OPS):
    mean, var = mean_var(torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64))
check_close(mean, 2.5, name="mean of [1, 2, 3, 4]")
check_close(var, 5 / 3, name="unbiased variance of [1, 2, 3, 4]")
check_source_forbids(mean_var, ["var", "std"])

biases = torch.tensor([0.25, 0.5, 0.75], dtype=torch.float64)
prior = torch.full((3,), 1 / 3, dtype=torch.float64)
flips = torch.tensor([1.0, 1.0, 0.0], dtype=torch.float64)
check_tensor(coin_posterior(biases, prior, flips), [0.15, 0.4, 0.45], dtype=torch.float64,
             rtol=1e-9, name="coin_posterior after heads, heads, tails")
print("visible probability tests passed")
### BEGIN HIDDEN TESTS
from torch.distributions import Bernoulli, Normal, Poisson

# poisson_pmf against torch.distributions, including large k and lam
for lam in (0.5, 4.0, 150.0):
    k = torch.arange(0, 401, dtype=torch.float64)
    expected = Poisson(torch.tensor(lam, dtype=torch.float64)).log_prob(k).exp()
    got = poisson_pmf(k, lam)
    check_tensor(got, expected, dtype=torch.float64, rtol=1e-9, atol=1e-300,
                 name=f"poisson_pmf(k = 0..400, lam={lam})")
    check_close(got.sum(), 1.0, rtol=1e-9, name=f"sum of poisson_pmf over k = 0..400, lam={lam}")

# mean_var on random matrices against torch.var, and on samples of the three distributions
for seed, shape in enumerate([(2,), (7, 3), (50, 4)]):
    torch.manual_seed(600 + seed)
    x = torch.randn(*shape, dtype=torch.float64) * 3 + 1
    with forbid(*VAR_OPS):
        mean, var = mean_var(x)
    check_tensor(mean, x.mean(0), dtype=torch.float64, name=f"mean of a random {shape} tensor")
    check_tensor(var, x.var(0), dtype=torch.float64, name=f"variance of a random {shape} tensor")
for seed, dist in enumerate([Normal(2.0, 3.0), Bernoulli(0.3), Poisson(4.0)]):
    torch.manual_seed(700 + seed)
    samples = dist.sample((20000,)).to(torch.float64)
    with forbid(*VAR_OPS):
        mean, var = mean_var(samples)
    check_close(mean, dist.mean, atol=0.1, rtol=0,
                name=f"sample mean of 20000 {type(dist).__name__} samples")
    check_close(var, dist.variance, atol=0.05 * float(dist.variance) + 0.01, rtol=0,
                name=f"sample variance of 20000 {type(dist).__name__} samples")

# coin_posterior against a log-space reference built from torch.distributions
for seed, (H, n) in enumerate([(2, 10), (5, 200), (4, 3000)]):
    torch.manual_seed(800 + seed)
    biases = torch.rand(H, dtype=torch.float64) * 0.9 + 0.05
    prior = torch.rand(H, dtype=torch.float64) + 0.1
    prior = prior / prior.sum()
    flips = Bernoulli(float(biases[0])).sample((n,)).to(torch.float64)
    log_lik = Bernoulli(probs=biases[:, None]).log_prob(flips[None, :]).sum(1)
    expected = torch.softmax(log_lik + prior.log(), dim=0)
    got = coin_posterior(biases, prior, flips)
    check_tensor(got, expected, dtype=torch.float64, rtol=1e-7, atol=1e-12,
                 name=f"coin_posterior ({H} biases, {n} flips)")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "outro", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## What next
#
# You have multiplied matrices, decomposed them, differentiated by hand and numerically, walked
# downhill and updated beliefs with Bayes' rule. In **01 · Tensors** you will handle PyTorch's
# tensors fluently, and in **02 · Autograd** let PyTorch do the chain rule for you.
