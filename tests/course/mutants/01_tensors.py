"""Planted wrong solutions for 01_tensors: each must lose points when autograded."""

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
]
