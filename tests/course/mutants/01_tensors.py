"""Planted wrong solutions for 01_tensors: each must lose points when autograded."""
# ruff: noqa: E501  (planted cell sources are data: long string literals read best unsplit)

# The reference answers of Task 9, as source text; each dtype mutant changes a few of them.
_PROMOTED = {
    "a + 1.5": "torch.float32",
    "a / 2": "torch.float32",
    "a // 2": "torch.int64",
    "a.to(torch.int32) + a": "torch.int64",
    "b + torch.ones(2, dtype=torch.float64)": "torch.float64",
    "b + torch.tensor(1.0, dtype=torch.float64)": "torch.float32",
    "a * torch.tensor(2.5, dtype=torch.float64)": "torch.float64",
    "torch.tensor([250], dtype=torch.uint8) + 10": "torch.uint8",
    "(a > 1).sum()": "torch.int64",
}


def _predicted(wrong: dict[str, str]) -> str:
    answers = {**_PROMOTED, **wrong}
    return "PREDICTED = {\n" + "".join(f"    {k!r}: {v},\n" for k, v in answers.items()) + "}\n"


MUTANTS = [
    # make_grid
    {"name": "grid_int64", "cell": "make_grid",
     "source": "def make_grid(rows, cols):\n    return torch.arange(rows * cols).reshape(rows, cols)\n"},
    {"name": "grid_transposed", "cell": "make_grid",
     "source": "def make_grid(rows, cols):\n    return torch.arange(rows * cols, dtype=torch.float32).reshape(cols, rows).T\n"},
    {"name": "grid_off_by_one", "cell": "make_grid",
     "source": "def make_grid(rows, cols):\n    return torch.arange(1, rows * cols + 1, dtype=torch.float32).reshape(rows, cols)\n"},
    # clip_negatives
    {"name": "clip_in_place", "cell": "clip_negatives",
     "source": "def clip_negatives(x):\n    x[x < 0] = 0\n    return x\n"},
    {"name": "clip_wrong_sign", "cell": "clip_negatives",
     "source": "def clip_negatives(x):\n    out = x.clone()\n    out[out > 0] = 0\n    return out\n"},
    {"name": "clip_abs", "cell": "clip_negatives",
     "source": "def clip_negatives(x):\n    return x.abs()\n"},
    # center_columns
    {"name": "center_rows", "cell": "center_columns",
     "source": "def center_columns(x):\n    return x - x.mean(dim=1, keepdim=True)\n"},
    {"name": "center_global", "cell": "center_columns",
     "source": "def center_columns(x):\n    return x - x.mean()\n"},
    {"name": "center_float32", "cell": "center_columns",
     "source": "def center_columns(x):\n    return (x - x.mean(0)).float()\n"},
    # batch_images
    {"name": "batch_cat", "cell": "batch_images",
     "source": "def batch_images(images):\n    return torch.cat(images).unsqueeze(1)\n"},
    {"name": "batch_channel_last", "cell": "batch_images",
     "source": "def batch_images(images):\n    return torch.stack(images).unsqueeze(-1)\n"},
    {"name": "batch_zeros", "cell": "batch_images",
     "source": "def batch_images(images):\n"
               "    return torch.zeros(len(images), 1, *images[0].shape)\n"},
    {"name": "batch_reversed", "cell": "batch_images",
     "source": "def batch_images(images):\n    return torch.stack(images[::-1]).unsqueeze(1)\n"},
    # to_best_device
    {"name": "device_float", "cell": "to_best_device",
     "source": "def to_best_device(x):\n    return x.float()\n"},
    {"name": "device_zeros", "cell": "to_best_device",
     "source": "def to_best_device(x):\n    return torch.zeros(3)\n"},
    {"name": "device_meta", "cell": "to_best_device",
     "source": "def to_best_device(x):\n    return x.to('meta')\n"},
    # full marks on a CPU grader before the test pretended to have a GPU (review issue 12)
    {"name": "device_return_x", "cell": "to_best_device",
     "source": "def to_best_device(x):\n    return x\n"},
    {"name": "device_move_discarded", "cell": "to_best_device",
     "source": "def to_best_device(x):\n"
               "    if torch.cuda.is_available():\n"
               "        x.to('cuda')\n"
               "    return x\n"},
    {"name": "device_always_cuda", "cell": "to_best_device",
     "source": "def to_best_device(x):\n    return x.cuda()\n"},
    # crop_pixels
    {"name": "crop_view_after_permute", "cell": "crop_pixels",
     "source": "def crop_pixels(x, top, left, size):\n"
               "    window = x[:, :, top:top + size, left:left + size]\n"
               "    return window.permute(0, 2, 3, 1).view(x.shape[0], size * size, x.shape[1])\n"},
    {"name": "crop_reshape_without_permute", "cell": "crop_pixels",
     "source": "def crop_pixels(x, top, left, size):\n"
               "    window = x[:, :, top:top + size, left:left + size]\n"
               "    return window.reshape(x.shape[0], size * size, x.shape[1])\n"},
    {"name": "crop_column_major", "cell": "crop_pixels",
     "source": "def crop_pixels(x, top, left, size):\n"
               "    window = x[:, :, top:top + size, left:left + size]\n"
               "    return window.transpose(1, 3).reshape(x.shape[0], size * size, x.shape[1])\n"},
    {"name": "crop_rows_and_columns_swapped", "cell": "crop_pixels",
     "source": "def crop_pixels(x, top, left, size):\n"
               "    window = x[:, :, left:left + size, top:top + size]\n"
               "    return window.permute(0, 2, 3, 1).reshape(x.shape[0], size * size, x.shape[1])\n"},
    {"name": "crop_off_by_one", "cell": "crop_pixels",
     "source": "def crop_pixels(x, top, left, size):\n"
               "    window = x[:, :, top + 1:top + 1 + size, left:left + size]\n"
               "    return window.permute(0, 2, 3, 1).reshape(x.shape[0], size * size, x.shape[1])\n"},
    # pick_scores
    {"name": "pick_squeeze_every_dim", "cell": "pick_scores",
     "source": "def pick_scores(scores, labels):\n    return scores.gather(1, labels.unsqueeze(1)).squeeze()\n"},
    {"name": "pick_gather_dim0", "cell": "pick_scores",
     "source": "def pick_scores(scores, labels):\n    return scores.gather(0, labels.unsqueeze(0)).squeeze(0)\n"},
    {"name": "pick_index_columns_only", "cell": "pick_scores",
     "source": "def pick_scores(scores, labels):\n    return scores[:, labels]\n"},
    {"name": "pick_rows_and_columns_swapped", "cell": "pick_scores",
     "source": "def pick_scores(scores, labels):\n    return scores[labels, torch.arange(len(labels))]\n"},
    # standardize_columns_
    {"name": "standardize_out_of_place", "cell": "standardize_columns_",
     "source": "def standardize_columns_(x):\n"
               "    x = (x - x.mean(0)) / x.std(0, correction=0)\n"
               "    return x\n"},
    {"name": "standardize_a_clone", "cell": "standardize_columns_",
     "source": "def standardize_columns_(x):\n"
               "    y = x.clone()\n"
               "    return y.sub_(y.mean(0)).div_(y.std(0, correction=0))\n"},
    {"name": "standardize_rebinds_data", "cell": "standardize_columns_",
     "source": "def standardize_columns_(x):\n"
               "    x.data = (x - x.mean(0)) / x.std(0, correction=0)\n"
               "    return x\n"},
    {"name": "standardize_through_a_numpy_copy", "cell": "standardize_columns_",
     "source": "def standardize_columns_(x):\n"
               "    y = torch.tensor(x.numpy())\n"
               "    y.sub_(y.mean(0)).div_(y.std(0, correction=0))\n"
               "    x.data = y\n"
               "    return x\n"},
    {"name": "standardize_unbiased_std", "cell": "standardize_columns_",
     "source": "def standardize_columns_(x):\n    return x.sub_(x.mean(0)).div_(x.std(0))\n"},
    # predicted_dtypes: each a common wrong belief about one expression
    {"name": "dtypes_numpy_float64", "cell": "predicted_dtypes",
     "source": _predicted({"a + 1.5": "torch.float64", "a / 2": "torch.float64"})},
    {"name": "dtypes_integer_division", "cell": "predicted_dtypes",
     "source": _predicted({"a / 2": "torch.int64"})},
    {"name": "dtypes_scalar_tensor_widens", "cell": "predicted_dtypes",
     "source": _predicted({"b + torch.tensor(1.0, dtype=torch.float64)": "torch.float64"})},
    {"name": "dtypes_uint8_widens", "cell": "predicted_dtypes",
     "source": _predicted({"torch.tensor([250], dtype=torch.uint8) + 10": "torch.int64"})},
    {"name": "dtypes_bool_sum", "cell": "predicted_dtypes",
     "source": _predicted({"(a > 1).sum()": "torch.bool"})},
    {"name": "dtypes_names_not_dtypes", "cell": "predicted_dtypes",
     "source": _predicted({"a // 2": "'int64'"})},
]
