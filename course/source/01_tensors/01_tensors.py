# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown] nbgrader={"grade": false, "grade_id": "intro", "locked": true, "schema_version": 3, "solution": false, "task": false}
# # 01 · Tensors
#
# A tensor is an $n$-dimensional array: a scalar has 0 dimensions, a vector 1, a matrix 2,
# a batch of RGB images $(N, C, H, W)$ has 4. Every tensor has a **shape**, a **dtype** and a
# **device**. This assignment walks through creating, indexing, reshaping and combining them:
#
# 1. creation and dtypes (**Task 1**),
# 2. indexing, slicing and boolean masks (**Task 2**),
# 3. broadcasting (**Task 3**),
# 4. `stack` vs `cat`, `unsqueeze` (**Task 4**),
# 5. `reshape`, `view`, `permute` and contiguous memory (**Task 5**),
# 6. moving tensors to a device (**Task 6**),
# 7. `squeeze`/`unsqueeze` and `gather` (**Task 7**),
# 8. in-place operations, aliasing and NumPy memory (**Task 8**),
# 9. type promotion (**Task 9**).
#
# Replace every `raise NotImplementedError()` with your code. Run the tests below each task;
# hidden tests check the same behaviour on other inputs. **Total: 17 points** (2 per task, 1
# for Task 9).

# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false, "task": false}
import matplotlib.pyplot as plt
import torch

torch.manual_seed(0)

# %% [markdown] nbgrader={"grade": false, "grade_id": "creation_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Creating tensors
#
# | call | gives |
# |---|---|
# | `torch.tensor([[1, 2], [3, 4]])` | a copy of Python data; the dtype is inferred (`int64` here) |
# | `torch.zeros(2, 3)`, `torch.ones(2, 3)`, `torch.full((2, 3), 7.0)` | constant tensors |
# | `torch.arange(5)`, `torch.linspace(0, 1, 5)` | ranges: integers $0 \dots 4$; 5 evenly spaced floats |
# | `torch.rand(2, 3)` / `torch.randn(2, 3)` | uniform on $[0, 1)$ / standard normal $\mathcal{N}(0, 1)$ samples |
# | `torch.zeros_like(x)`, `torch.rand_like(x)` | same shape, dtype and device as `x` |
#
# The **dtype** fixes how each number is stored. Floating-point data defaults to `float32`
# (what networks train in); `float64` is slower but more precise; Python integers give `int64`
# (labels, indices); comparisons give `bool`. Convert with `x.to(torch.float64)`, `x.float()`,
# `x.long()`. A tensor's **shape** is `x.shape` (a `torch.Size`, i.e. a tuple), its number of
# dimensions `x.ndim` and its number of elements `x.numel()`.

# %% nbgrader={"grade": false, "grade_id": "creation_demo", "locked": true, "schema_version": 3, "solution": false, "task": false}
examples = {
    "torch.tensor([[1, 2], [3, 4]])": torch.tensor([[1, 2], [3, 4]]),
    "torch.tensor([1.5, 2.0])": torch.tensor([1.5, 2.0]),
    "torch.zeros(2, 3)": torch.zeros(2, 3),
    "torch.arange(5)": torch.arange(5),
    "torch.rand(2, 2, dtype=torch.float64)": torch.rand(2, 2, dtype=torch.float64),
    "torch.tensor([1, 2]) > 1": torch.tensor([1, 2]) > 1,
}
for code, t in examples.items():
    print(f"{code:40s} shape={tuple(t.shape)!s:8s} ndim={t.ndim} dtype={t.dtype}")

# rand is uniform, randn is bell-shaped: a picture of 10,000 samples of each
fig, ax = plt.subplots(figsize=(4.5, 2.5))
ax.hist(torch.rand(10_000).numpy(), bins=50, alpha=0.6, density=True, label="torch.rand")
ax.hist(torch.randn(10_000).numpy(), bins=50, alpha=0.6, density=True, label="torch.randn")
ax.legend(fontsize=8)
plt.show()

# %% [markdown] nbgrader={"grade": false, "grade_id": "task1_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 1 — creation and dtype (2 points)
#
# Write `make_grid(rows, cols)` returning a `float32` tensor of shape `(rows, cols)` whose entry
# $(i, j)$ is $i \cdot \text{cols} + j$ — the numbers $0 \dots rows\cdot cols - 1$ laid out row by row.
# Hint: `torch.arange` then reshape; mind the dtype (`arange` of ints gives `int64`).

# %% nbgrader={"grade": false, "grade_id": "make_grid", "locked": false, "schema_version": 3, "solution": true, "task": false}
def make_grid(rows, cols):
    ### BEGIN SOLUTION
    return torch.arange(rows * cols, dtype=torch.float32).reshape(rows, cols)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_make_grid", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
from autograders import check_tensor

check_tensor(make_grid(2, 3), [[0, 1, 2], [3, 4, 5]], dtype=torch.float32, name="make_grid(2, 3)")
### BEGIN HIDDEN TESTS
check_tensor(make_grid(1, 1), [[0.0]], dtype=torch.float32, name="make_grid(1, 1)")
check_tensor(make_grid(4, 2), torch.arange(8.0).view(4, 2), dtype=torch.float32, name="make_grid(4, 2)")
for rows, cols in [(3, 5), (1, 6), (6, 1)]:
    i = torch.arange(rows)[:, None]
    j = torch.arange(cols)[None, :]
    check_tensor(make_grid(rows, cols), (i * cols + j).float(), dtype=torch.float32,
                 name=f"make_grid({rows}, {cols})")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "task2_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 2 — indexing and masking (2 points)
#
# Indexing works as for Python lists, once per dimension: for a matrix `x`, `x[0]` is the first
# row, `x[:, 1]` the second column, `x[1:3]` rows 1 and 2, `x[::2]` every other row and
# `x[..., -1]` the last entry along the last dimension. Slices are **views**: they share
# memory with `x`, so writing into them writes into `x`.
#
# A **boolean mask** — a `bool` tensor of the same shape, e.g. `x < 0` — selects entries:
# `x[x < 0]` is a 1-D tensor of the negative entries, and `x[x < 0] = 0` overwrites them in place.
#
# Write `clip_negatives(x)` that returns a **new** tensor equal to `x` with every negative entry
# replaced by 0, without modifying `x`, using a boolean mask (no `relu`/`clamp` needed).

# %% nbgrader={"grade": false, "grade_id": "indexing_demo", "locked": true, "schema_version": 3, "solution": false, "task": false}
x = torch.arange(12).reshape(3, 4)
print(x)
print("x[0]      =", x[0].tolist())
print("x[:, 1]   =", x[:, 1].tolist())
print("x[1:3, ::2] =", x[1:3, ::2].tolist())
print("x[x % 5 == 0] =", x[x % 5 == 0].tolist())
row = x[0]
row[0] = 100  # a view: this changes x as well
print("after row[0] = 100, x[0, 0] =", x[0, 0].item())

# %% nbgrader={"grade": false, "grade_id": "clip_negatives", "locked": false, "schema_version": 3, "solution": true, "task": false}
def clip_negatives(x):
    ### BEGIN SOLUTION
    out = x.clone()
    out[out < 0] = 0
    return out
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_clip_negatives", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
x = torch.tensor([[-1.0, 2.0], [3.0, -4.0]])
check_tensor(clip_negatives(x), [[0.0, 2.0], [3.0, 0.0]], name="clip_negatives(x)")
check_tensor(x, [[-1.0, 2.0], [3.0, -4.0]], name="x after clip_negatives (it must not change)")
### BEGIN HIDDEN TESTS
for seed, shape in enumerate([(5, 7), (3,), (2, 3, 4)]):
    torch.manual_seed(seed)
    y = torch.randn(*shape)
    y_before = y.clone()
    check_tensor(clip_negatives(y), torch.where(y < 0, 0.0, y), name=f"clip_negatives(random {shape})")
    check_tensor(y, y_before, name="the input after clip_negatives (it must not change)")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "task3_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 3 — broadcasting (2 points)
#
# Broadcasting lines shapes up from the right; a dimension of size 1 stretches to match, and a
# missing leading dimension counts as 1:
#
# | shapes | result |
# |---|---|
# | $(3, 4)$ and $(4,)$ | $(3, 4)$: the vector is added to every row |
# | $(3, 4)$ and $(3, 1)$ | $(3, 4)$: the column is added to every column |
# | $(3, 1)$ and $(1, 4)$ | $(3, 4)$: an "outer" sum |
# | $(3, 4)$ and $(3,)$ | error: $4 \neq 3$ |
#
# No data is copied: the stretched dimension has stride 0. Reductions with `keepdim=True` keep
# the reduced dimension as size 1, ready to broadcast back.
#
# Write `center_columns(x)` that subtracts each column's mean from that column of a 2-D tensor,
# so every column of the result has mean $0$. Hint: `x.mean(dim=0, keepdim=True)` has shape $(1, C)$.

# %% nbgrader={"grade": false, "grade_id": "center_columns", "locked": false, "schema_version": 3, "solution": true, "task": false}
def center_columns(x):
    ### BEGIN SOLUTION
    return x - x.mean(dim=0, keepdim=True)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_center_columns", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
x = torch.tensor([[1.0, 10.0], [3.0, 30.0]])
check_tensor(center_columns(x), [[-1.0, -10.0], [1.0, 10.0]], name="center_columns(x)")
### BEGIN HIDDEN TESTS
for seed, shape in enumerate([(6, 3), (2, 5), (7, 1), (4, 4)]):
    torch.manual_seed(10 + seed)
    y = torch.randn(*shape, dtype=torch.float64) * 5 + torch.arange(shape[1])
    check_tensor(center_columns(y), y - y.mean(0), name=f"center_columns(random {shape})",
                 dtype=torch.float64)
    check_tensor(center_columns(y).mean(0), torch.zeros(shape[1], dtype=torch.float64), atol=1e-12,
                 name=f"column means after center_columns(random {shape})")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "task4_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 4 — `stack` vs `cat`, `unsqueeze` (2 points)
#
# `torch.cat` joins tensors along an **existing** dimension; `torch.stack` adds a **new** one.
# `x.unsqueeze(d)` inserts a dimension of size 1 at position `d` (and `x.squeeze(d)` removes
# one). The cell below shows the shapes.
#
# Write `batch_images(images)` that turns a list of $N$ tensors of shape $(H, W)$ into one
# tensor of shape $(N, 1, H, W)$ — a batch with one channel.

# %% nbgrader={"grade": false, "grade_id": "stack_demo", "locked": true, "schema_version": 3, "solution": false, "task": false}
a, b = torch.zeros(2, 3), torch.ones(2, 3)
print("cat   dim=0:", tuple(torch.cat([a, b], dim=0).shape))
print("cat   dim=1:", tuple(torch.cat([a, b], dim=1).shape))
print("stack dim=0:", tuple(torch.stack([a, b], dim=0).shape))
print("stack dim=2:", tuple(torch.stack([a, b], dim=2).shape))
print("unsqueeze(0):", tuple(a.unsqueeze(0).shape), " unsqueeze(-1):", tuple(a.unsqueeze(-1).shape))

# %% nbgrader={"grade": false, "grade_id": "batch_images", "locked": false, "schema_version": 3, "solution": true, "task": false}
def batch_images(images):
    ### BEGIN SOLUTION
    return torch.stack(images).unsqueeze(1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_batch_images", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
imgs = [torch.full((2, 3), float(i)) for i in range(4)]
out = batch_images(imgs)
check_tensor(out, shape=(4, 1, 2, 3), name="batch_images(imgs)")
check_tensor(out[2, 0], imgs[2], name="batch_images(imgs)[2, 0] (image 2, its only channel)")
### BEGIN HIDDEN TESTS
check_tensor(out[:, 0], torch.stack(imgs), name="batch_images(imgs)[:, 0] (all images in order)")
check_tensor(batch_images([torch.ones(5, 5)]), shape=(1, 1, 5, 5), name="batch_images(one image)")
torch.manual_seed(20)
rand_imgs = [torch.randn(3, 5) for _ in range(6)]
out = batch_images(rand_imgs)
check_tensor(out, shape=(6, 1, 3, 5), name="batch_images(6 random 3x5 images)")
for n, img in enumerate(rand_imgs):
    check_tensor(out[n, 0], img, name=f"batch_images(random images)[{n}, 0]")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "task5_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 5 — `reshape`, `view`, `permute` and contiguous memory (2 points)
#
# A tensor is a block of memory plus a **shape** and **strides**: the stride of a dimension is
# how many elements to skip in memory to move one step along it. A $(2, 3)$ tensor stored row
# by row has strides $(3, 1)$. Many operations only change shape and strides and share the
# memory:
#
# * `x.view(shape)` reinterprets the memory with a new shape; it needs the elements to be laid
#   out in the order of the new shape and raises an error otherwise,
# * `x.T`, `x.transpose(i, j)`, `x.permute(...)` and slices just change strides: the result is
#   usually **not contiguous** (its elements are not in row-by-row order in memory),
# * `x.contiguous()` copies into row-by-row order; `x.reshape(shape)` is `view` when possible and
#   `contiguous().view` otherwise.
#
# Images come as $(N, C, H, W)$ (channels first), but to treat each pixel as a vector of $C$
# features (e.g. to cluster colours, or as "tokens" for a transformer) you want
# $(N, \text{pixels}, C)$.
#
# Write `crop_pixels(x, top, left, size)`: from a batch `x` of shape $(N, C, H, W)$ take the
# `size` × `size` window whose top-left corner is row `top`, column `left`, and return its pixels
# as a tensor of shape $(N, \text{size}^2, C)$, listed row by row:
#
# $$\text{out}[n,\; r \cdot \text{size} + c,\; k] = x[n,\; k,\; \text{top} + r,\; \text{left} + c].$$
#
# Do not modify `x`. Hint: slice, `permute` the channel axis last, then flatten the two pixel
# axes (can you use `view` there?).

# %% nbgrader={"grade": false, "grade_id": "view_demo", "locked": true, "schema_version": 3, "solution": false, "task": false}
m = torch.arange(6).reshape(2, 3)
print("m strides:", m.stride(), "contiguous:", m.is_contiguous())
print("m.T strides:", m.T.stride(), "contiguous:", m.T.is_contiguous())
print("m.view(3, 2) =", m.view(3, 2).tolist(), "  (same memory, new shape: not a transpose!)")
try:
    m.T.view(6)
except RuntimeError as exc:
    print("m.T.view(6) fails:", str(exc).split(".")[0])
print("m.T.reshape(6) =", m.T.reshape(6).tolist(), "  (reshape copies when it must)")

# %% nbgrader={"grade": false, "grade_id": "crop_pixels", "locked": false, "schema_version": 3, "solution": true, "task": false}
def crop_pixels(x, top, left, size):
    ### BEGIN SOLUTION
    window = x[:, :, top:top + size, left:left + size]         # (N, C, size, size), a view
    n, c = x.shape[0], x.shape[1]
    return window.permute(0, 2, 3, 1).reshape(n, size * size, c)  # not contiguous: reshape
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_crop_pixels", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
x = torch.arange(2 * 3 * 4 * 5, dtype=torch.float32).reshape(2, 3, 4, 5)
out = crop_pixels(x, 1, 2, 2)
check_tensor(out, shape=(2, 4, 3), name="crop_pixels(x, top=1, left=2, size=2)")
check_tensor(out[0, 0], x[0, :, 1, 2], name="crop_pixels(...)[0, 0] (pixel at row 1, column 2)")
check_tensor(out[1, 1], x[1, :, 1, 3], name="crop_pixels(...)[1, 1] (pixel at row 1, column 3)")
print("visible crop_pixels tests passed")
### BEGIN HIDDEN TESTS
def reference_crop(x, top, left, size):
    n, c = x.shape[:2]
    out = torch.empty(n, size * size, c, dtype=x.dtype)
    for r in range(size):
        for col in range(size):
            out[:, r * size + col, :] = x[:, :, top + r, left + col]
    return out


cases = [((2, 3, 4, 5), 1, 2, 2), ((1, 2, 6, 6), 0, 3, 3), ((3, 4, 5, 7), 2, 1, 3),
         ((2, 1, 4, 4), 0, 0, 4), ((2, 3, 5, 5), 4, 1, 1)]
for seed, (shape, top, left, size) in enumerate(cases):
    torch.manual_seed(30 + seed)
    x = torch.randn(*shape)
    before = x.clone()
    got = crop_pixels(x, top, left, size)
    check_tensor(got, reference_crop(x, top, left, size),
                 name=f"crop_pixels(random {shape}, top={top}, left={left}, size={size})")
    check_tensor(x, before, rtol=0, atol=0, name="x after crop_pixels (it must not change)")
# a non-contiguous input (a transposed batch) must work too
xt = torch.randn(2, 3, 6, 5).transpose(2, 3)
check_tensor(crop_pixels(xt, 1, 2, 3), reference_crop(xt, 1, 2, 3),
             name="crop_pixels on a non-contiguous batch")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "task6_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 6 — devices (2 points)
#
# Tensors live on a device: `cpu`, or `cuda` on a GPU host. Write `to_best_device(x)` that
# returns `x` moved to `cuda` (with `x.to("cuda")` or `x.cuda()`) when
# `torch.cuda.is_available()` and unchanged otherwise. Your notebook then runs the same on a
# laptop and on the course GPU. Operations need all their tensors on the same device; create
# new tensors with `device=x.device` (or `torch.zeros_like(x)`) to follow the input.
#
# The grader may have no GPU, so the test also **pretends**: while your function runs it makes
# `torch.cuda.is_available()` answer `True` (then `False`) and records the device each
# `.to(...)`/`.cuda()` call asks for instead of moving anything. Ask
# `torch.cuda.is_available()` inside your function, each time it is called.

# %% nbgrader={"grade": false, "grade_id": "to_best_device", "locked": false, "schema_version": 3, "solution": true, "task": false}
def to_best_device(x):
    ### BEGIN SOLUTION
    return x.to("cuda") if torch.cuda.is_available() else x
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_to_best_device", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
from torch.overrides import TorchFunctionMode


class PretendDevices(TorchFunctionMode):
    """Records the device each Tensor.to / Tensor.cuda call asks for; moves nothing.

    A call asking for cuda returns a copy tagged `pretend_device = "cuda"`.
    """

    def __init__(self):
        super().__init__()
        self.requests = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func is torch.Tensor.cuda:
            target = "cuda"
        elif func is torch.Tensor.to:
            candidates = list(args[1:]) + [kwargs.get("device")]
            found = [a for a in candidates if isinstance(a, str | torch.device | int)
                     and not isinstance(a, bool)]
            target = found[0] if found else None
            if isinstance(target, int):
                target = f"cuda:{target}"
        else:
            return func(*args, **kwargs)
        if target is not None and torch.device(target).type != "cpu":
            self.requests.append(str(target))
            out = args[0].clone()
            out.pretend_device = torch.device(target).type
            return out
        return func(*args, **kwargs)


def pretend_call(x, gpu):
    """to_best_device(x) while torch.cuda.is_available() answers `gpu`."""
    saved = torch.cuda.is_available, torch.cuda.device_count
    torch.cuda.is_available, torch.cuda.device_count = (lambda: gpu), (lambda: int(gpu))
    try:
        with PretendDevices() as mode:
            out = to_best_device(x)
    finally:
        torch.cuda.is_available, torch.cuda.device_count = saved
    return out, mode.requests


def check_best_device(x, label):
    before = x.clone()
    out, requests = pretend_call(x, gpu=True)
    assert getattr(out, "pretend_device", None) == "cuda", (
        f"to_best_device({label}) with a GPU present should return x moved to cuda; the device "
        f"calls it made: {requests or 'none'}, and it returned a tensor that was not moved")
    check_tensor(out, before, dtype=before.dtype, rtol=0, atol=0,
                 name=f"to_best_device({label}) with a GPU present")
    out, requests = pretend_call(x, gpu=False)
    assert not requests and getattr(out, "pretend_device", None) is None, (
        f"to_best_device({label}) without a GPU must not move x to {requests[0]}: "
        "check torch.cuda.is_available()")
    check_tensor(out, before, dtype=before.dtype, device="cpu", rtol=0, atol=0,
                 name=f"to_best_device({label}) without a GPU")
    real = "cuda" if torch.cuda.is_available() else "cpu"  # and on the grader's real hardware
    check_tensor(to_best_device(x), before, dtype=before.dtype, device=real, rtol=0, atol=0,
                 name=f"to_best_device({label}) on this machine")


check_best_device(torch.zeros(3), "torch.zeros(3)")
### BEGIN HIDDEN TESTS
check_best_device(torch.arange(4), "torch.arange(4)")
torch.manual_seed(40)
check_best_device(torch.randn(2, 5, dtype=torch.float64), "a random float64 (2, 5) tensor")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "task7_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 7 — `squeeze`, `unsqueeze` and `gather` (2 points)
#
# `x.squeeze(d)` removes dimension `d` if its size is 1 (and leaves `x` alone otherwise);
# `x.squeeze()` with no argument removes **every** size-1 dimension — so a batch of one
# example, shape $(1, C)$, silently loses its batch dimension. Name the dimension.
#
# `x.gather(dim, index)` picks one entry per position of `index` along `dim`; `index` has as
# many dimensions as `x`. For a matrix and `dim=1`: $\text{out}[i, j] = x[i,\ \text{index}[i, j]]$
# — in each row $i$, take the columns listed in row $i$ of `index`. The same with **advanced
# indexing**: `x[rows, cols]` with two integer tensors pairs them up entry by entry, so
# `x[torch.arange(N), cols]` takes `x[i, cols[i]]` from every row.
#
# A classifier outputs scores of shape $(N, C)$, one row per example and one column per class.
# Write `pick_scores(scores, labels)` that returns the $(N,)$ tensor of each example's score for
# its label: $\text{out}[i] = \text{scores}[i, \text{labels}[i]]$, in the dtype of `scores`, for
# any $N \ge 1$ (a batch of one too) and any $C \ge 1$.

# %% nbgrader={"grade": false, "grade_id": "gather_demo", "locked": true, "schema_version": 3, "solution": false, "task": false}
s = torch.tensor([[10, 11, 12], [20, 21, 22]])
print("s.gather(1, [[2], [0]]) =", s.gather(1, torch.tensor([[2], [0]])).tolist())
print("s.gather(0, [[1, 0, 1]]) =", s.gather(0, torch.tensor([[1, 0, 1]])).tolist())
print("s[[0, 1], [2, 0]] =", s[torch.tensor([0, 1]), torch.tensor([2, 0])].tolist())
one = torch.zeros(1, 3, 1)
print("squeeze():", tuple(one.squeeze().shape), " squeeze(-1):", tuple(one.squeeze(-1).shape))

# %% nbgrader={"grade": false, "grade_id": "pick_scores", "locked": false, "schema_version": 3, "solution": true, "task": false}
def pick_scores(scores, labels):
    ### BEGIN SOLUTION
    return scores.gather(1, labels.unsqueeze(1)).squeeze(1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_pick_scores", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
scores = torch.tensor([[0.1, 0.7, 0.2, 0.0], [0.5, 0.1, 0.1, 0.3], [0.0, 0.0, 0.1, 0.9]])
check_tensor(pick_scores(scores, torch.tensor([1, 0, 3])), [0.7, 0.5, 0.9], dtype=torch.float32,
             name="pick_scores(scores, labels=[1, 0, 3])")
### BEGIN HIDDEN TESTS
check_tensor(pick_scores(scores[1:2], torch.tensor([3])), [0.3], dtype=torch.float32,
             name="pick_scores on a batch of one (shape (1,); did squeeze() remove the batch dimension?)")
check_tensor(pick_scores(torch.tensor([[4.0], [5.0]]), torch.tensor([0, 0])), [4.0, 5.0],
             name="pick_scores with one class (C = 1)")
for seed, (n, c) in enumerate([(7, 5), (2, 9), (6, 6), (1, 1)]):
    g = torch.Generator().manual_seed(50 + seed)
    s = torch.randn(n, c, generator=g, dtype=torch.float64)
    lab = torch.randint(0, c, (n,), generator=g)
    before = s.clone()
    expected = torch.tensor([s[i, lab[i]].item() for i in range(n)], dtype=torch.float64)
    check_tensor(pick_scores(s, lab), expected, dtype=torch.float64, rtol=0, atol=0,
                 name=f"pick_scores(random ({n}, {c}) scores, labels {lab.tolist()})")
    check_tensor(s, before, rtol=0, atol=0, name="scores after pick_scores (it must not change)")
ints = torch.arange(12).reshape(4, 3)
check_tensor(pick_scores(ints, torch.tensor([2, 2, 0, 1])), [2, 5, 6, 10], dtype=torch.int64,
             name="pick_scores on int64 scores (keep the dtype)")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "task8_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 8 — in-place operations, aliasing and NumPy memory (2 points)
#
# A method whose name ends in `_` works **in place**: `x.add_(1)`, `x.mul_(2)`, `x.clamp_(0, 1)`,
# `x.zero_()` overwrite `x`'s memory and return `x` itself; so do `x += 1` and `x[:] = ...`.
# `x = x + 1` does not: it makes a new tensor and rebinds the *name* `x`, and whoever else holds
# the old tensor still sees the old values.
#
# Two names can be two views of one memory (**aliases**): `y = x`, slices and `view`s share
# memory, so an in-place change through one shows through the other; `x.clone()` copies.
# NumPy arrays are in on it too, on the CPU:
#
# | call | memory |
# |---|---|
# | `torch.from_numpy(a)`, `torch.as_tensor(a)` | **shared** with the array `a` |
# | `t.numpy()` | **shared** with the tensor `t` |
# | `torch.tensor(a)`, `t.clone()`, `np.array(t)` | a **copy** |
#
# Write `standardize_columns_(x)` that standardises every column of a 2-D float tensor **in
# place** — subtract the column's mean, divide by its population standard deviation
# (`correction=0`) — and returns `x` itself. `x` may be a view of a larger tensor or share its
# memory with a NumPy array: whatever shares `x`'s memory must see the new values, and nothing
# else may change.

# %% nbgrader={"grade": false, "grade_id": "inplace_demo", "locked": true, "schema_version": 3, "solution": false, "task": false}
import numpy as np

a = np.zeros(3)
shared, copied = torch.from_numpy(a), torch.tensor(a)
shared += 1                    # in place: a sees it
copied.add_(5)                 # in place on a copy: a does not
print("a =", a, " shared =", shared.tolist(), " copied =", copied.tolist())
t = torch.ones(2)
alias = t
t = t * 10                     # a new tensor; `alias` still holds the old one
print("t =", t.tolist(), " alias =", alias.tolist())

# %% nbgrader={"grade": false, "grade_id": "standardize_columns_", "locked": false, "schema_version": 3, "solution": true, "task": false}
def standardize_columns_(x):
    ### BEGIN SOLUTION
    mean = x.mean(dim=0, keepdim=True)
    std = x.std(dim=0, keepdim=True, correction=0)
    return x.sub_(mean).div_(std)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_standardize_columns_", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
import numpy as np


def reference_standardize(x):
    x = x.double()
    return (x - x.mean(0)) / x.std(0, correction=0)


def check_standardize(x, label, also=()):
    """Run standardize_columns_(x); x and every tensor in `also` (same memory) must show the result."""
    expected = reference_standardize(x)
    ptr = x.data_ptr()
    out = standardize_columns_(x)
    assert out is x, (f"standardize_columns_({label}) must return x itself (the tensor it changed in "
                      f"place), got {'a new tensor' if isinstance(out, torch.Tensor) else repr(out)}")
    assert x.data_ptr() == ptr, (f"standardize_columns_({label}) moved x to new memory (x.data = ...?): "
                                 "write into the memory x already has")
    for name, t in [("x", x), *also]:
        check_tensor(t, expected, rtol=1e-5, atol=1e-5, name=f"{name} after standardize_columns_({label})")


arr = np.array([[1.0, 10.0], [3.0, 30.0], [5.0, 20.0]])
check_standardize(torch.from_numpy(arr), "torch.from_numpy(arr)",
                  also=[("the NumPy array arr (it shares x's memory)", torch.from_numpy(arr))])
### BEGIN HIDDEN TESTS
g = torch.Generator().manual_seed(60)
for shape in [(5, 3), (8, 1), (2, 6)]:
    check_standardize(torch.randn(shape, generator=g, dtype=torch.float64) * 3 + 1, f"random float64 {shape}")
big = torch.randn(6, 5, generator=g, dtype=torch.float64)
before = big.clone()
check_standardize(big[:, 1:3], "big[:, 1:3], a view", also=[("big[:, 1:3]", big[:, 1:3])])
check_tensor(big[:, [0, 3, 4]], before[:, [0, 3, 4]], rtol=0, atol=0,
             name="the other columns of big (they must not change)")
arr = np.random.default_rng(61).normal(size=(7, 4)).astype(np.float32)
check_standardize(torch.from_numpy(arr), "a float32 tensor sharing a NumPy array",
                  also=[("the NumPy array", torch.from_numpy(arr))])
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "task9_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 9 — type promotion (1 point)
#
# When an operation mixes dtypes, PyTorch picks the result's dtype (`torch.result_type(a, b)`
# tells you which) by three rules:
#
# 1. **categories** rank bool < integer < floating point: mixing categories gives the higher one
#    (`int64` tensor + `float32` tensor → `float32`);
# 2. within one category the wider dtype wins among tensors **with** dimensions
#    (`float32` + `float64` → `float64`);
# 3. Python numbers and 0-dimensional tensors never widen a tensor with dimensions of the same
#    category; when their category is higher, a 0-d tensor brings its own dtype and a Python
#    number the default one (`float32` for floats).
#
# True division `/` always gives floating point; `//` keeps integers; `sum` of bools or ints
# gives `int64`. A value that does not fit the result dtype wraps around silently.
#
# Fill `PREDICTED` with the result dtype of each expression in `EXPRESSIONS` (e.g.
# `PREDICTED["a / 2"] = torch.float32`). Think first, then check with `torch.result_type` or by
# running the expression.

# %% nbgrader={"grade": false, "grade_id": "promotion_setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
a = torch.tensor([1, 2, 3])      # int64
b = torch.tensor([0.5, 1.5])     # float32
EXPRESSIONS = [
    "a + 1.5",
    "a / 2",
    "a // 2",
    "a.to(torch.int32) + a",
    "b + torch.ones(2, dtype=torch.float64)",
    "b + torch.tensor(1.0, dtype=torch.float64)",
    "a * torch.tensor(2.5, dtype=torch.float64)",
    "torch.tensor([250], dtype=torch.uint8) + 10",
    "(a > 1).sum()",
]

# %% nbgrader={"grade": false, "grade_id": "predicted_dtypes", "locked": false, "schema_version": 3, "solution": true, "task": false}
PREDICTED = {}
### BEGIN SOLUTION
PREDICTED = {
    "a + 1.5": torch.float32,
    "a / 2": torch.float32,
    "a // 2": torch.int64,
    "a.to(torch.int32) + a": torch.int64,
    "b + torch.ones(2, dtype=torch.float64)": torch.float64,
    "b + torch.tensor(1.0, dtype=torch.float64)": torch.float32,
    "a * torch.tensor(2.5, dtype=torch.float64)": torch.float64,
    "torch.tensor([250], dtype=torch.uint8) + 10": torch.uint8,
    "(a > 1).sum()": torch.int64,
}
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_predicted_dtypes", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
WHY = {
    "a + 1.5": "a Python float takes the default float dtype (rule 3)",
    "a / 2": "true division of integers gives the default float dtype",
    "a // 2": "floor division keeps integers",
    "a.to(torch.int32) + a": "both have dimensions: the wider integer wins (rule 2)",
    "b + torch.ones(2, dtype=torch.float64)": "both have dimensions: the wider float wins (rule 2)",
    "b + torch.tensor(1.0, dtype=torch.float64)": "a 0-d tensor of the same category never widens (rule 3)",
    "a * torch.tensor(2.5, dtype=torch.float64)": "a 0-d tensor of a higher category brings its own dtype (rule 3)",
    "torch.tensor([250], dtype=torch.uint8) + 10": "a Python int never widens a uint8 tensor: 250 + 10 wraps to 4",
    "(a > 1).sum()": "sums of bools count in int64",
}


def check_prediction(expr):
    got = PREDICTED.get(expr)
    fresh = {"torch": torch, "a": torch.tensor([1, 2, 3]), "b": torch.tensor([0.5, 1.5])}
    actual = eval(expr, fresh).dtype  # the cell above's a and b, even if later code rebound them
    assert isinstance(got, torch.dtype), (
        f"PREDICTED[{expr!r}] should be a torch.dtype such as torch.float32, got {got!r}")
    assert got == actual, f"{expr}: you predicted {got}, it gives {actual}: {WHY[expr]}."


assert isinstance(PREDICTED, dict), f"PREDICTED should be a dict, got {type(PREDICTED).__name__}"
missing = [e for e in EXPRESSIONS if e not in PREDICTED]
assert not missing, f"PREDICTED has no entry for {missing}"
for expr in EXPRESSIONS[:3]:
    check_prediction(expr)
### BEGIN HIDDEN TESTS
for expr in EXPRESSIONS[3:]:
    check_prediction(expr)
### END HIDDEN TESTS
