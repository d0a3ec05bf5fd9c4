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
]
