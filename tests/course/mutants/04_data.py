"""Planted wrong solutions for 04_data: each must lose points when autograded."""
# ruff: noqa: E501  (planted cell sources are data: long string literals read best unsplit)

_DATASET = '''class ImageDataset(Dataset):
    def __init__(self, images, labels, scale, transform=None):
        self.images = torch.as_tensor(images)
        self.labels = torch.as_tensor(labels)
        self.scale = scale
        self.transform = transform

    def __len__(self):
        return {length}

    def __getitem__(self, i):
        {body}
'''
_GOOD_BODY = '''image = (self.images[i].to(torch.float32) / self.scale).unsqueeze(0)
        if self.transform is not None:
            image = self.transform(image)
        return image, int(self.labels[i])'''


def _dataset(length="len(self.images)", body=_GOOD_BODY):
    return _DATASET.format(length=length, body=body)


_TRANSFORMS = '''class Normalize:
    def __init__(self, mean, std):
        self.mean = torch.as_tensor(mean, dtype=torch.float32){shape}
        self.std = torch.as_tensor(std, dtype=torch.float32){shape}

    def __call__(self, x):
        {normalize}


class Compose:
    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, x):
        for t in {order}:
            x = t(x)
        return x
'''


def _transforms(shape=".reshape(-1, 1, 1)", normalize="return (x - self.mean) / self.std",
                order="self.transforms"):
    return _TRANSFORMS.format(shape=shape, normalize=normalize, order=order)


_MEAN_STD_BATCH_MEANS = '''def mean_std(loader):
    means, sq_means = [], []
    for images, _ in loader:
        x = images.to(torch.float64)
        means.append(x.mean(dim=(0, 2, 3)))
        sq_means.append((x ** 2).mean(dim=(0, 2, 3)))
    mean = torch.stack(means).mean(0)
    return mean, (torch.stack(sq_means).mean(0) - mean ** 2).sqrt()
'''
_MEAN_STD_BATCH_STDS = '''def mean_std(loader):
    total, count, stds = 0, 0, []
    for images, _ in loader:
        x = images.to(torch.float64)
        total = total + x.sum(dim=(0, 2, 3))
        count += x.shape[0] * x.shape[2] * x.shape[3]
        stds.append(x.transpose(0, 1).reshape(x.shape[1], -1).std(dim=1, unbiased=False))
    return total / count, torch.stack(stds).mean(0)
'''
_MEAN_STD_UNBIASED = '''def mean_std(loader):
    total = total_sq = 0
    count = 0
    for images, _ in loader:
        x = images.to(torch.float64)
        total = total + x.sum(dim=(0, 2, 3))
        total_sq = total_sq + (x ** 2).sum(dim=(0, 2, 3))
        count += x.shape[0] * x.shape[2] * x.shape[3]
    mean = total / count
    return mean, ((total_sq - count * mean ** 2) / (count - 1)).sqrt()
'''
_MEAN_STD_ALL_CHANNELS = '''def mean_std(loader):
    total = total_sq = 0
    count = 0
    for images, _ in loader:
        x = images.to(torch.float64)
        total = total + x.sum()
        total_sq = total_sq + (x ** 2).sum()
        count += x.numel()
    mean = total / count
    return mean.reshape(1), (total_sq / count - mean ** 2).sqrt().reshape(1)
'''
_MEAN_STD_FLOAT32 = '''def mean_std(loader):
    total = total_sq = 0
    count = 0
    for images, _ in loader:
        total = total + images.sum(dim=(0, 2, 3))
        total_sq = total_sq + (images ** 2).sum(dim=(0, 2, 3))
        count += images.shape[0] * images.shape[2] * images.shape[3]
    mean = total / count
    return mean, (total_sq / count - mean ** 2).sqrt()
'''

_PAD = '''PAD = 0


def pad_collate(batch):
    {body}
'''


def _pad(body):
    return _PAD.format(body=body)


_SPLIT = '''def stratified_split(labels, val_fraction, seed):
    {body}
'''

_SPLIT_AND_SAMPLE = """def split_dataset(dataset, val_fraction, seed):
    n_val = round(val_fraction * len(dataset))
    generator = torch.Generator().manual_seed(seed)
    return {split}


def balanced_loader(dataset, labels, batch_size, num_samples, seed):
    counts = torch.bincount(labels)
    weights = {weights}
    generator = torch.Generator().manual_seed(seed)
    sampler = WeightedRandomSampler(weights, num_samples=num_samples, replacement=True{sampler_generator})
    return {loader}
"""


def _split_and_sample(
    split="random_split(dataset, [len(dataset) - n_val, n_val], generator=generator)",
    weights="1.0 / counts[labels].double()",
    sampler_generator=", generator=generator",
    loader="DataLoader(dataset, batch_size=batch_size, sampler=sampler)",
):
    return _SPLIT_AND_SAMPLE.format(
        split=split, weights=weights, sampler_generator=sampler_generator, loader=loader
    )


_WORKERS = """def seed_worker(worker_id):
{seed_body}


def make_worker_loader(dataset, batch_size, seed, num_workers=2):
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(dataset, batch_size=batch_size, shuffle=True, num_workers=num_workers,
                      {init}generator=generator)
"""
_GOOD_SEED = """    info = get_worker_info()
    info.dataset.rng = np.random.default_rng(info.seed)"""


def _workers(seed_body=_GOOD_SEED, init="worker_init_fn=seed_worker, "):
    return _WORKERS.format(seed_body=seed_body, init=init)


MUTANTS = [
    # ImageDataset
    {"name": "dataset_len_off_by_one", "cell": "image_dataset", "source": _dataset(length="len(self.images) - 1")},
    {"name": "dataset_no_scaling", "cell": "image_dataset", "source": _dataset(
        body=_GOOD_BODY.replace(" / self.scale", ""))},
    {"name": "dataset_no_channel", "cell": "image_dataset", "source": _dataset(
        body=_GOOD_BODY.replace(".unsqueeze(0)", ""))},
    {"name": "dataset_float64_image", "cell": "image_dataset", "source": _dataset(
        body=_GOOD_BODY.replace("self.images[i].to(torch.float32)", "self.images[i].to(torch.float64)"))},
    {"name": "dataset_float_label", "cell": "image_dataset", "source": _dataset(
        body=_GOOD_BODY.replace("int(self.labels[i])", "float(self.labels[i])"))},
    {"name": "dataset_ignores_transform", "cell": "image_dataset", "source": _dataset(
        body="return (self.images[i].to(torch.float32) / self.scale).unsqueeze(0), int(self.labels[i])")},
    {"name": "dataset_transform_before_scaling", "cell": "image_dataset", "source": _dataset(
        body="image = self.images[i].to(torch.float32).unsqueeze(0)\n"
             "        if self.transform is not None:\n            image = self.transform(image)\n"
             "        return image / self.scale, int(self.labels[i])")},
    # make_loader
    {"name": "loader_no_shuffle", "cell": "make_loader",
     "source": "def make_loader(dataset, batch_size, seed):\n"
               "    return DataLoader(dataset, batch_size=batch_size, shuffle=False)\n"},
    {"name": "loader_global_seed", "cell": "make_loader",
     "source": "def make_loader(dataset, batch_size, seed):\n    torch.manual_seed(seed)\n"
               "    return DataLoader(dataset, batch_size=batch_size, shuffle=True)\n"},
    {"name": "loader_unseeded", "cell": "make_loader",
     "source": "def make_loader(dataset, batch_size, seed):\n"
               "    return DataLoader(dataset, batch_size=batch_size, shuffle=True)\n"},
    {"name": "loader_drop_last", "cell": "make_loader",
     "source": "def make_loader(dataset, batch_size, seed):\n    g = torch.Generator().manual_seed(seed)\n"
               "    return DataLoader(dataset, batch_size=batch_size, shuffle=True, generator=g, drop_last=True)\n"},
    {"name": "loader_same_order_every_epoch", "cell": "make_loader",
     "source": "def make_loader(dataset, batch_size, seed):\n"
               "    order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed)).tolist()\n"
               "    return DataLoader(dataset, batch_size=batch_size, sampler=order)\n"},
    # Normalize / Compose
    {"name": "normalize_channel_last", "cell": "transforms", "source": _transforms(shape="")},
    {"name": "normalize_in_place", "cell": "transforms", "source": _transforms(
        normalize="return x.sub_(self.mean).div_(self.std)")},
    {"name": "normalize_times_std", "cell": "transforms", "source": _transforms(
        normalize="return (x - self.mean) * self.std")},
    # output dtype (review issue 12: now specified, float32 in -> float32 out, float64 -> float64)
    {"name": "normalize_float64_stats", "cell": "transforms", "source": _transforms(
        normalize="return (x - self.mean.double()) / self.std.double()")},
    {"name": "normalize_always_float32", "cell": "transforms", "source": _transforms(
        normalize="return ((x - self.mean) / self.std).float()")},
    {"name": "compose_reversed", "cell": "transforms", "source": _transforms(order="reversed(self.transforms)")},
    {"name": "compose_first_only", "cell": "transforms", "source": _transforms(order="self.transforms[:1]")},
    # mean_std
    {"name": "mean_std_batch_means", "cell": "mean_std", "source": _MEAN_STD_BATCH_MEANS},
    {"name": "mean_std_batch_stds", "cell": "mean_std", "source": _MEAN_STD_BATCH_STDS},
    {"name": "mean_std_unbiased", "cell": "mean_std", "source": _MEAN_STD_UNBIASED},
    {"name": "mean_std_all_channels", "cell": "mean_std", "source": _MEAN_STD_ALL_CHANNELS},
    {"name": "mean_std_float32", "cell": "mean_std", "source": _MEAN_STD_FLOAT32},
    # pad_collate
    {"name": "pad_with_one", "cell": "pad_collate", "source": _pad(
        "lengths = torch.tensor([len(t) for t, _ in batch])\n"
        "    padded = torch.ones(len(batch), int(lengths.max()), dtype=torch.int64)\n"
        "    for row, (t, _) in enumerate(batch):\n        padded[row, :len(t)] = t\n"
        "    return padded, lengths, torch.tensor([lab for _, lab in batch])")},
    {"name": "pad_time_major", "cell": "pad_collate", "source": _pad(
        "lengths = torch.tensor([len(t) for t, _ in batch])\n"
        "    padded = torch.zeros(int(lengths.max()), len(batch), dtype=torch.int64)\n"
        "    for col, (t, _) in enumerate(batch):\n        padded[:len(t), col] = t\n"
        "    return padded, lengths, torch.tensor([lab for _, lab in batch])")},
    {"name": "pad_lengths_all_max", "cell": "pad_collate", "source": _pad(
        "longest = max(len(t) for t, _ in batch)\n"
        "    padded = torch.zeros(len(batch), longest, dtype=torch.int64)\n"
        "    for row, (t, _) in enumerate(batch):\n        padded[row, :len(t)] = t\n"
        "    return padded, torch.full((len(batch),), longest), torch.tensor([lab for _, lab in batch])")},
    {"name": "pad_sorted_by_length", "cell": "pad_collate", "source": _pad(
        "batch = sorted(batch, key=lambda item: len(item[0]), reverse=True)\n"
        "    lengths = torch.tensor([len(t) for t, _ in batch])\n"
        "    padded = torch.zeros(len(batch), int(lengths.max()), dtype=torch.int64)\n"
        "    for row, (t, _) in enumerate(batch):\n        padded[row, :len(t)] = t\n"
        "    return padded, lengths, torch.tensor([lab for _, lab in batch])")},
    {"name": "pad_library", "cell": "pad_collate", "source": _pad(
        "from torch.nn.utils.rnn import pad_sequence\n"
        "    padded = pad_sequence([t for t, _ in batch], batch_first=True)\n"
        "    return padded, torch.tensor([len(t) for t, _ in batch]), torch.tensor([lab for _, lab in batch])")},
    # stratified_split
    {"name": "split_tail", "cell": "stratified_split", "source": _SPLIT.format(body=(
        "k = round(val_fraction * len(labels))\n    idx = torch.arange(len(labels))\n"
        "    return idx[:-k], idx[-k:]"))},
    {"name": "split_random_not_stratified", "cell": "stratified_split", "source": _SPLIT.format(body=(
        "g = torch.Generator().manual_seed(seed)\n    idx = torch.randperm(len(labels), generator=g)\n"
        "    k = round(val_fraction * len(labels))\n    return idx[k:], idx[:k]"))},
    {"name": "split_unseeded", "cell": "stratified_split", "source": _SPLIT.format(body=(
        "train, val = [], []\n    for c in torch.unique(labels):\n"
        "        idx = torch.nonzero(labels == c).flatten()\n        idx = idx[torch.randperm(len(idx))]\n"
        "        k = round(val_fraction * len(idx))\n        val.append(idx[:k])\n        train.append(idx[k:])\n"
        "    return torch.cat(train), torch.cat(val)"))},
    {"name": "split_not_shuffled_within_class", "cell": "stratified_split", "source": _SPLIT.format(body=(
        "train, val = [], []\n    for c in torch.unique(labels):\n"
        "        idx = torch.nonzero(labels == c).flatten()\n"
        "        k = round(val_fraction * len(idx))\n        val.append(idx[:k])\n        train.append(idx[k:])\n"
        "    return torch.cat(train), torch.cat(val)"))},
    {"name": "split_overlap", "cell": "stratified_split", "source": _SPLIT.format(body=(
        "g = torch.Generator().manual_seed(seed)\n    train, val = [], []\n"
        "    for c in torch.unique(labels):\n"
        "        idx = torch.nonzero(labels == c).flatten()\n        idx = idx[torch.randperm(len(idx), generator=g)]\n"
        "        k = round(val_fraction * len(idx))\n        val.append(idx[:k])\n        train.append(idx[k - 1:])\n"
        "    return torch.cat(train), torch.cat(val)"))},
    # split_and_sample: random_split with a seed, WeightedRandomSampler per example
    {"name": "split_not_seeded", "cell": "split_and_sample",
     "source": _split_and_sample(split="random_split(dataset, [len(dataset) - n_val, n_val])")},
    {"name": "split_first_rows_unshuffled", "cell": "split_and_sample",
     "source": _split_and_sample(split="(Subset(dataset, range(len(dataset) - n_val)), Subset(dataset, range(len(dataset) - n_val, len(dataset))))")},
    {"name": "split_sizes_swapped", "cell": "split_and_sample",
     "source": _split_and_sample(split="random_split(dataset, [n_val, len(dataset) - n_val], generator=generator)")},
    {"name": "sampler_weights_inverted", "cell": "split_and_sample",
     "source": _split_and_sample(weights="counts[labels].double()")},
    {"name": "sampler_weights_per_class", "cell": "split_and_sample",
     "source": _split_and_sample(weights="1.0 / counts.double()")},
    {"name": "sampler_not_seeded", "cell": "split_and_sample",
     "source": _split_and_sample(sampler_generator="")},
    {"name": "sampler_replaced_by_shuffle", "cell": "split_and_sample",
     "source": _split_and_sample(loader="DataLoader(dataset, batch_size=batch_size, shuffle=True, generator=generator)")},
    # worker_seeding: each worker must give its copy of the dataset a generator of its own
    {"name": "workers_not_seeded", "cell": "worker_seeding", "source": _workers(init="")},
    {"name": "workers_same_fixed_seed", "cell": "worker_seeding",
     "source": _workers(seed_body="    get_worker_info().dataset.rng = np.random.default_rng(0)")},
    {"name": "workers_seeded_by_worker_id", "cell": "worker_seeding",
     "source": _workers(seed_body="    get_worker_info().dataset.rng = np.random.default_rng(worker_id)")},
    {"name": "workers_reseed_global_numpy", "cell": "worker_seeding",
     "source": _workers(seed_body="    np.random.seed(torch.initial_seed() % 2**32)")},
    {"name": "workers_loader_not_seeded", "cell": "worker_seeding",
     "source": _workers().replace(", generator=generator)", ")")},
]
