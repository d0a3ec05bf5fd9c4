"""Planted wrong solutions for 06_cnn: each must lose points when autograded."""
# ruff: noqa: E501  (planted cell sources are data: long string literals read best unsplit)

_SIZE = "def conv_output_size(size, kernel_size, stride=1, padding=0):\n    return {expr}\n"

_CONV = '''def conv2d(x, weight, bias=None, stride=1, padding=0):
    {strides}
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    kh, kw = weight.shape[-2:]
    xp = F.pad(x, {pad})
    windows = xp.unfold(2, kh, {step_h}).unfold(3, kw, {step_w})
    out = torch.einsum("ncijuv,ocuv->noij", windows, {weight})
    {bias}
    return out
'''


def _conv(strides="sh, sw = (stride, stride) if isinstance(stride, int) else stride",
          pad="(pw, pw, ph, ph)", step_h="sh", step_w="sw", weight="weight",
          bias="if bias is not None:\n        out = out + bias.view(1, -1, 1, 1)"):
    return _CONV.format(strides=strides, pad=pad, step_h=step_h, step_w=step_w, weight=weight, bias=bias)


_POOL = '''def max_pool2d(x, kernel_size, stride=None):
    stride = {default}
    windows = x.unfold(2, kernel_size, stride).unfold(3, kernel_size, stride)
    return {reduce}
'''


def _pool(default="kernel_size if stride is None else stride", reduce="windows.amax(dim=(-2, -1))"):
    return _POOL.format(default=default, reduce=reduce)


_BN = '''class MyBatchNorm2d(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def forward(self, x):
        if {training}:
            m = x.numel() // x.shape[1]
            mean = x.mean(dim={dims})
            var = ((x - mean.view({view})) ** 2).sum(dim={dims}) / {divisor}
            {update}
        else:
            mean, var = self.running_mean, self.running_var
        x_hat = (x - mean.view({view})) / {denominator}
        return self.weight.view(1, -1, 1, 1) * x_hat + self.bias.view(1, -1, 1, 1)
'''
_BN_UPDATE = '''with torch.no_grad():
                self.running_mean.mul_(1 - self.momentum).add_(self.momentum * mean)
                self.running_var.mul_(1 - self.momentum).add_(self.momentum * {running_var})'''


def _bn(training="self.training", dims="(0, 2, 3)", view="1, -1, 1, 1", divisor="m",
        running_var="var * m / (m - 1)", update=None,
        denominator="torch.sqrt(var.view(1, -1, 1, 1) + self.eps)"):
    if update is None:
        update = _BN_UPDATE.format(running_var=running_var)
    return _BN.format(training=training, dims=dims, view=view, divisor=divisor, update=update,
                      denominator=denominator)


_LENET = '''class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding={padding})
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear({flat}, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = {pool}({act}(self.conv1(x)), 2)
        x = {pool}({act}(self.conv2(x)), 2)
        x = {flatten}
        x = {act}(self.fc1(x))
        x = {act}(self.fc2(x))
        return {out}
'''


def _lenet(padding="2", flat="16 * 5 * 5", pool="F.max_pool2d", act="F.relu", flatten="x.flatten(1)",
           out="self.fc3(x)"):
    return _LENET.format(padding=padding, flat=flat, pool=pool, act=act, flatten=flatten, out=out)


_LOADERS = '''def make_train_transform():
    return {transform}


def make_loaders(train_images, train_labels, test_images, test_labels, batch_size, seed):
    {prepare}
    train_ds = ImageDataset(train_images, train_labels, transform={train_tf})
    test_ds = ImageDataset(test_images, test_labels{test_tf})
    train_loader = DataLoader(train_ds, batch_size=batch_size{shuffle})
    test_loader = DataLoader(test_ds, batch_size=batch_size)
    return train_loader, test_loader
'''


def _loaders(transform="v2.RandomAffine(degrees=10, translate=(0.1, 0.1))", prepare="",
             train_tf="make_train_transform()", test_tf="",
             shuffle=", shuffle=True, generator=make_generator(seed)"):
    return _LOADERS.format(transform=transform, prepare=prepare, train_tf=train_tf, test_tf=test_tf,
                           shuffle=shuffle)


_LOADERS_BATCH_TRANSFORM = '''def make_train_transform():
    return v2.RandomAffine(degrees=10, translate=(0.1, 0.1))


def make_loaders(train_images, train_labels, test_images, test_labels, batch_size, seed):
    transform = make_train_transform()

    def augment_batch(items):
        images = torch.stack([image for image, _ in items])
        labels = torch.tensor([label for _, label in items])
        return transform(images), labels

    train_loader = DataLoader(ImageDataset(train_images, train_labels), batch_size=batch_size, shuffle=True,
                              generator=make_generator(seed), collate_fn=augment_batch)
    test_loader = DataLoader(ImageDataset(test_images, test_labels), batch_size=batch_size)
    return train_loader, test_loader
'''

_TRAIN = '''def train_lenet(model, train_loader, epochs):
    model.to(DEVICE)
    optimizer = {optimizer}
    for _ in range({epochs}):
        model.train()
        for xb, yb in train_loader:
            xb, yb = xb.to(DEVICE), yb.to(DEVICE)
            {zero_grad}
            F.cross_entropy({logits}, yb).backward()
            optimizer.step()
    {ret}
'''


def _train(optimizer="torch.optim.Adam(model.parameters(), lr=2e-3)", epochs="epochs",
           zero_grad="optimizer.zero_grad()", logits="model(xb)", ret="return model"):
    return _TRAIN.format(optimizer=optimizer, epochs=epochs, zero_grad=zero_grad, logits=logits, ret=ret)


_MAPS = '''def capture_feature_maps(model, x, names):
    modules = dict(model.named_modules())
    maps, handles = {{}}, []
    try:
        for name in names:
            {hook}

            handles.append(modules[name].register_forward_hook(hook))
        {run}
    finally:
        {remove}
    return maps
'''
_HOOK = "def hook(module, inputs, output, name=name):\n                maps[name] = {stored}"


def _maps(hook=None, stored="output.detach().clone()", run="with torch.no_grad():\n            model(x)",
          remove="for handle in handles:\n            handle.remove()"):
    hook = hook or _HOOK.format(stored=stored)
    return _MAPS.format(hook=hook, run=run, remove=remove)


_MAPS_REMOVE_ON_SUCCESS = '''def capture_feature_maps(model, x, names):
    modules = dict(model.named_modules())
    maps, handles = {}, []
    for name in names:
        def hook(module, inputs, output, name=name):
            maps[name] = output.detach().clone()

        handles.append(modules[name].register_forward_hook(hook))
    with torch.no_grad():
        model(x)
    for handle in handles:
        handle.remove()
    return maps
'''

MUTANTS = [
    # conv_output_size
    {"name": "size_padding_once", "cell": "conv_output_size",
     "source": _SIZE.format(expr="(size + padding - kernel_size) // stride + 1")},
    {"name": "size_true_division", "cell": "conv_output_size",
     "source": _SIZE.format(expr="(size + 2 * padding - kernel_size) / stride + 1")},
    {"name": "size_ceil", "cell": "conv_output_size",
     "source": _SIZE.format(expr="math.ceil((size + 2 * padding - kernel_size) / stride) + 1")},
    {"name": "size_no_plus_one", "cell": "conv_output_size",
     "source": _SIZE.format(expr="(size + 2 * padding - kernel_size) // stride")},
    # conv2d
    {"name": "conv_flipped_kernel", "cell": "conv2d", "source": _conv(weight="weight.flip(-2, -1)")},
    {"name": "conv_pad_one_side", "cell": "conv2d", "source": _conv(pad="(pw, 0, ph, 0)")},
    {"name": "conv_ignores_stride", "cell": "conv2d", "source": _conv(step_h="1", step_w="1")},
    {"name": "conv_stride_axes_swapped", "cell": "conv2d",
     "source": _conv(strides="sw, sh = (stride, stride) if isinstance(stride, int) else stride")},
    {"name": "conv_no_bias", "cell": "conv2d", "source": _conv(bias="pass")},
    {"name": "conv_library", "cell": "conv2d",
     "source": "def conv2d(x, weight, bias=None, stride=1, padding=0):\n"
               "    return F.conv2d(x, weight, bias, stride=stride, padding=padding)\n"},
    # max_pool2d
    {"name": "pool_default_stride_one", "cell": "max_pool2d", "source": _pool(default="1 if stride is None else stride")},
    {"name": "pool_average", "cell": "max_pool2d", "source": _pool(reduce="windows.mean(dim=(-2, -1))")},
    {"name": "pool_reshape_ignores_stride", "cell": "max_pool2d",
     "source": "def max_pool2d(x, kernel_size, stride=None):\n    N, C, H, W = x.shape\n    k = kernel_size\n"
               "    return x.reshape(N, C, H // k, k, W // k, k).amax(dim=(3, 5))\n"},
    {"name": "pool_library", "cell": "max_pool2d",
     "source": "def max_pool2d(x, kernel_size, stride=None):\n    return F.max_pool2d(x, kernel_size, stride)\n"},
    # MyBatchNorm2d
    {"name": "bn_no_running_update", "cell": "batchnorm", "source": _bn(update="pass")},
    {"name": "bn_running_var_biased", "cell": "batchnorm", "source": _bn(running_var="var")},
    {"name": "bn_normalise_unbiased", "cell": "batchnorm", "source": _bn(divisor="(m - 1)", running_var="var")},
    {"name": "bn_momentum_reversed", "cell": "batchnorm",
     "source": _bn(update="with torch.no_grad():\n"
                          "                self.running_mean.mul_(self.momentum).add_((1 - self.momentum) * mean)\n"
                          "                self.running_var.mul_(self.momentum).add_((1 - self.momentum) * var * m / (m - 1))")},
    {"name": "bn_eval_uses_batch_stats", "cell": "batchnorm", "source": _bn(training="True")},
    {"name": "bn_eps_outside_sqrt", "cell": "batchnorm",
     "source": _bn(denominator="(torch.sqrt(var.view(1, -1, 1, 1)) + self.eps)")},
    {"name": "bn_running_stats_keep_graph", "cell": "batchnorm",
     "source": _bn(update="self.running_mean = (1 - self.momentum) * self.running_mean + self.momentum * mean\n"
                          "            self.running_var = (1 - self.momentum) * self.running_var + self.momentum * var * m / (m - 1)")},
    {"name": "bn_stats_over_all_channels", "cell": "batchnorm", "source": _bn(dims="(0, 1, 2, 3)")},
    # LeNet5
    {"name": "lenet_no_padding", "cell": "lenet", "source": _lenet(padding="0", flat="16 * 4 * 4")},
    {"name": "lenet_no_activation", "cell": "lenet", "source": _lenet(act="")},
    {"name": "lenet_average_pool", "cell": "lenet", "source": _lenet(pool="F.avg_pool2d")},
    {"name": "lenet_tanh", "cell": "lenet", "source": _lenet(act="torch.tanh")},
    {"name": "lenet_softmax_output", "cell": "lenet", "source": _lenet(out="F.softmax(self.fc3(x), dim=1)")},
    {"name": "lenet_flatten_channels_last", "cell": "lenet", "source": _lenet(flatten="x.permute(0, 2, 3, 1).flatten(1)")},
    # make_train_transform / make_loaders
    {"name": "loaders_augment_test_split", "cell": "loaders", "source": _loaders(test_tf=", transform=make_train_transform()")},
    {"name": "loaders_no_shuffle", "cell": "loaders", "source": _loaders(shuffle="")},
    {"name": "loaders_seed_ignored", "cell": "loaders", "source": _loaders(shuffle=", shuffle=True")},
    {"name": "loaders_augment_once_beforehand", "cell": "loaders",
     "source": _loaders(prepare="train_images = make_train_transform()(train_images)", train_tf="None")},
    {"name": "loaders_augment_whole_batch", "cell": "loaders", "source": _LOADERS_BATCH_TRANSFORM},
    {"name": "loaders_random_resized_crop", "cell": "loaders", "source": _loaders(transform="v2.RandomResizedCrop(28)")},
    {"name": "loaders_normalise_in_transform", "cell": "loaders",
     "source": _loaders(transform="v2.Compose([v2.RandomCrop(28, padding=2), v2.Normalize([0.1307], [0.3081])])")},
    # train_lenet
    {"name": "train_plain_sgd_small_lr", "cell": "train_lenet", "source": _train(optimizer="torch.optim.SGD(model.parameters(), lr=0.01)")},
    {"name": "train_one_epoch_only", "cell": "train_lenet", "source": _train(epochs="1")},
    {"name": "train_softmax_before_loss", "cell": "train_lenet", "source": _train(logits="F.softmax(model(xb), dim=1)")},
    {"name": "train_no_zero_grad", "cell": "train_lenet", "source": _train(zero_grad="pass")},
    {"name": "train_no_return", "cell": "train_lenet", "source": _train(ret="pass")},
    # capture_feature_maps
    {"name": "maps_hooks_not_removed", "cell": "feature_maps", "source": _maps(remove="pass")},
    {"name": "maps_late_binding_name", "cell": "feature_maps",
     "source": _maps(hook="def hook(module, inputs, output):\n                maps[name] = output.detach().clone()")},
    {"name": "maps_no_clone_inplace_overwrite", "cell": "feature_maps", "source": _maps(stored="output.detach()")},
    {"name": "maps_input_not_output", "cell": "feature_maps", "source": _maps(stored="inputs[0].detach().clone()")},
    {"name": "maps_records_graph", "cell": "feature_maps", "source": _maps(stored="output.clone()", run="model(x)")},
    {"name": "maps_remove_only_on_success", "cell": "feature_maps", "source": _MAPS_REMOVE_ON_SUCCESS},
]
