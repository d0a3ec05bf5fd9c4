"""Planted wrong solutions for 03_neural_networks: each must lose points when autograded."""
# ruff: noqa: E501  (planted cell sources are data: long string literals read best unsplit)

_BACKPROP = """def forward_backward(X, t, W1, b1, W2, b2):
    N = X.shape[0]
    H = X @ W1.T + b1
    A = H.clamp(min=0)
    Z = A @ W2.T + b2
    loss = F.cross_entropy(Z, t)
    G_Z = torch.softmax(Z, dim=1)
    G_Z[torch.arange(N), t] -= 1
    G_Z = {scale}
    G_H = (G_Z @ W2) * {mask}
    grads = {grads}
    return loss, grads
"""


def _backprop(scale="G_Z / N", mask="(H > 0)",
              grads='{"W2": G_Z.T @ A, "b2": G_Z.sum(0), "W1": G_H.T @ X, "b1": G_H.sum(0)}'):
    return _BACKPROP.format(scale=scale, mask=mask, grads=grads)


_LOSSES = """def mae_loss(pred, target):
    return {mae}


def bce_loss(probs, target):
{bce}


def bce_with_logits_loss(logits, target):
{logits}
"""
_GOOD_BCE = """    log_p = torch.log(probs).clamp(min=-100)
    log_not_p = torch.log(1 - probs).clamp(min=-100)
    return -(target * log_p + (1 - target) * log_not_p).mean()"""
_GOOD_LOGITS = (
    "    return (logits.clamp(min=0) - logits * target"
    " + torch.log1p(torch.exp(-logits.abs()))).mean()"
)


def _losses(mae="(pred - target).abs().mean()", bce=_GOOD_BCE, logits=_GOOD_LOGITS):
    return _LOSSES.format(mae=mae, bce=bce, logits=logits)


MUTANTS = [
    # bce_losses: MAE, BCE from probabilities, BCE from logits
    {"name": "mae_without_abs", "cell": "bce_losses", "source": _losses(mae="(pred - target).mean()")},
    {"name": "mae_sum_not_mean", "cell": "bce_losses", "source": _losses(mae="(pred - target).abs().sum()")},
    {"name": "bce_without_clamping", "cell": "bce_losses",
     "source": _losses(bce="    return -(target * torch.log(probs) + (1 - target) * torch.log(1 - probs)).mean()")},
    {"name": "bce_clamps_probabilities_to_eps", "cell": "bce_losses",
     "source": _losses(bce="    p = probs.clamp(1e-7, 1 - 1e-7)\n"
                           "    return -(target * torch.log(p) + (1 - target) * torch.log(1 - p)).mean()")},
    {"name": "logits_log_of_sigmoid", "cell": "bce_losses",
     "source": _losses(logits="    p = torch.sigmoid(logits)\n"
                              "    return -(target * torch.log(p) + (1 - target) * torch.log(1 - p)).mean()")},
    {"name": "logits_through_clamped_bce", "cell": "bce_losses",
     "source": _losses(logits="    return bce_loss(torch.sigmoid(logits), target)")},
    {"name": "logits_log1p_exp_overflows", "cell": "bce_losses",
     "source": _losses(logits="    return ((1 - target) * logits + torch.log1p(torch.exp(-logits))).mean()")},
    {"name": "logits_sign_error", "cell": "bce_losses",
     "source": _losses(logits="    return (logits.clamp(min=0) + logits * target"
                              " + torch.log1p(torch.exp(-logits.abs()))).mean()")},
    # softmax
    {"name": "softmax_no_max_shift", "cell": "softmax",
     "source": "def softmax(x, dim=-1):\n    e = x.exp()\n    return e / e.sum(dim=dim, keepdim=True)\n"},
    {"name": "softmax_global_max", "cell": "softmax",
     "source": "def softmax(x, dim=-1):\n    e = (x - x.max()).exp()\n    return e / e.sum(dim=dim, keepdim=True)\n"},
    {"name": "softmax_no_keepdim", "cell": "softmax",
     "source": "def softmax(x, dim=-1):\n    e = (x - x.amax(dim=dim, keepdim=True)).exp()\n"
               "    return e / e.sum(dim=dim)\n"},
    {"name": "softmax_fixed_last_dim", "cell": "softmax",
     "source": "def softmax(x, dim=-1):\n    e = (x - x.amax(dim=-1, keepdim=True)).exp()\n"
               "    return e / e.sum(dim=-1, keepdim=True)\n"},
    {"name": "softmax_library", "cell": "softmax",
     "source": "def softmax(x, dim=-1):\n    return torch.softmax(x, dim=dim)\n"},
    # TwoLayerNet
    {"name": "net_no_activation", "cell": "two_layer_net",
     "source": "class TwoLayerNet(nn.Module):\n    def __init__(self, in_features, hidden, out_features):\n"
               "        super().__init__()\n        self.hidden = nn.Linear(in_features, hidden)\n"
               "        self.output = nn.Linear(hidden, out_features)\n\n"
               "    def forward(self, x):\n        return self.output(self.hidden(x))\n"},
    {"name": "net_sigmoid", "cell": "two_layer_net",
     "source": "class TwoLayerNet(nn.Module):\n    def __init__(self, in_features, hidden, out_features):\n"
               "        super().__init__()\n        self.hidden = nn.Linear(in_features, hidden)\n"
               "        self.output = nn.Linear(hidden, out_features)\n\n"
               "    def forward(self, x):\n        return self.output(torch.sigmoid(self.hidden(x)))\n"},
    {"name": "net_relu_on_output", "cell": "two_layer_net",
     "source": "class TwoLayerNet(nn.Module):\n    def __init__(self, in_features, hidden, out_features):\n"
               "        super().__init__()\n        self.hidden = nn.Linear(in_features, hidden)\n"
               "        self.output = nn.Linear(hidden, out_features)\n\n"
               "    def forward(self, x):\n        return F.relu(self.output(F.relu(self.hidden(x))))\n"},
    {"name": "net_layers_in_list", "cell": "two_layer_net",
     "source": "class TwoLayerNet(nn.Module):\n    def __init__(self, in_features, hidden, out_features):\n"
               "        super().__init__()\n"
               "        self.layers = [nn.Linear(in_features, hidden), nn.Linear(hidden, out_features)]\n\n"
               "    def forward(self, x):\n        return self.layers[1](F.relu(self.layers[0](x)))\n"},
    {"name": "net_no_hidden_bias", "cell": "two_layer_net",
     "source": "class TwoLayerNet(nn.Module):\n    def __init__(self, in_features, hidden, out_features):\n"
               "        super().__init__()\n        self.hidden = nn.Linear(in_features, hidden, bias=False)\n"
               "        self.output = nn.Linear(hidden, out_features)\n\n"
               "    def forward(self, x):\n        return self.output(F.relu(self.hidden(x)))\n"},
    # make_mlp
    {"name": "mlp_activation_after_last", "cell": "make_mlp",
     "source": "def make_mlp(sizes, activation=nn.ReLU):\n    layers = []\n"
               "    for a, b in zip(sizes, sizes[1:]):\n        layers += [nn.Linear(a, b), activation()]\n"
               "    return nn.Sequential(*layers)\n"},
    {"name": "mlp_always_relu", "cell": "make_mlp",
     "source": "def make_mlp(sizes, activation=nn.ReLU):\n    layers = [nn.Linear(sizes[0], sizes[1])]\n"
               "    for a, b in zip(sizes[1:], sizes[2:]):\n        layers += [nn.ReLU(), nn.Linear(a, b)]\n"
               "    return nn.Sequential(*layers)\n"},
    {"name": "mlp_drops_last_layer", "cell": "make_mlp",
     "source": "def make_mlp(sizes, activation=nn.ReLU):\n    layers = []\n"
               "    for k in range(len(sizes) - 2):\n        if k > 0:\n            layers.append(activation())\n"
               "        layers.append(nn.Linear(sizes[k], sizes[k + 1]))\n"
               "    return nn.Sequential(*layers)\n"},
    {"name": "mlp_module_list", "cell": "make_mlp",
     "source": "def make_mlp(sizes, activation=nn.ReLU):\n    layers = []\n"
               "    for k in range(len(sizes) - 1):\n        if k > 0:\n            layers.append(activation())\n"
               "        layers.append(nn.Linear(sizes[k], sizes[k + 1]))\n"
               "    return nn.ModuleList(layers)\n"},
    # mse_loss
    {"name": "mse_sum", "cell": "mse_loss",
     "source": "def mse_loss(pred, target):\n    return ((pred - target) ** 2).sum()\n"},
    {"name": "mse_rmse", "cell": "mse_loss",
     "source": "def mse_loss(pred, target):\n    return ((pred - target) ** 2).mean().sqrt()\n"},
    {"name": "mse_mean_rows_only", "cell": "mse_loss",
     "source": "def mse_loss(pred, target):\n    return ((pred - target) ** 2).mean(dim=0)\n"},
    {"name": "mse_item", "cell": "mse_loss",
     "source": "def mse_loss(pred, target):\n    return torch.tensor(((pred - target) ** 2).mean().item())\n"},
    {"name": "mse_library", "cell": "mse_loss",
     "source": "def mse_loss(pred, target):\n    return F.mse_loss(pred, target)\n"},
    # cross_entropy
    {"name": "ce_log_of_softmax", "cell": "cross_entropy",
     "source": "def cross_entropy(logits, targets):\n    p = softmax(logits, dim=1)\n"
               "    return -p[torch.arange(len(targets)), targets].log().mean()\n"},
    {"name": "ce_sum", "cell": "cross_entropy",
     "source": "def cross_entropy(logits, targets):\n    m = logits.amax(dim=1, keepdim=True)\n"
               "    logp = logits - m - (logits - m).exp().sum(dim=1, keepdim=True).log()\n"
               "    return -logp[torch.arange(logits.shape[0]), targets].sum()\n"},
    {"name": "ce_wrong_indexing", "cell": "cross_entropy",
     "source": "def cross_entropy(logits, targets):\n    m = logits.amax(dim=1, keepdim=True)\n"
               "    logp = logits - m - (logits - m).exp().sum(dim=1, keepdim=True).log()\n"
               "    return -logp[:, targets].mean()\n"},
    {"name": "ce_normalise_over_batch", "cell": "cross_entropy",
     "source": "def cross_entropy(logits, targets):\n    m = logits.amax(dim=0, keepdim=True)\n"
               "    logp = logits - m - (logits - m).exp().sum(dim=0, keepdim=True).log()\n"
               "    return -logp[torch.arange(logits.shape[0]), targets].mean()\n"},
    {"name": "ce_library", "cell": "cross_entropy",
     "source": "def cross_entropy(logits, targets):\n    return F.cross_entropy(logits, targets)\n"},
    # fit_line
    {"name": "line_target_not_reshaped", "cell": "fit_line",
     "source": "def fit_line(x, y):\n    model = nn.Linear(1, 1)\n"
               "    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)\n"
               "    loss_fn = nn.MSELoss()\n"
               "    for _ in range(1000):\n        optimizer.zero_grad()\n"
               "        loss = loss_fn(model(x.unsqueeze(1)), y)\n        loss.backward()\n"
               "        optimizer.step()\n"
               "    return model.weight.item(), model.bias.item()\n"},
    {"name": "line_no_zero_grad", "cell": "fit_line",
     "source": "def fit_line(x, y):\n    model = nn.Linear(1, 1)\n"
               "    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)\n"
               "    for _ in range(1000):\n"
               "        loss = F.mse_loss(model(x.unsqueeze(1)), y.unsqueeze(1))\n        loss.backward()\n"
               "        optimizer.step()\n"
               "    return model.weight.item(), model.bias.item()\n"},
    {"name": "line_too_few_steps", "cell": "fit_line",
     "source": "def fit_line(x, y):\n    model = nn.Linear(1, 1)\n"
               "    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)\n"
               "    for _ in range(50):\n        optimizer.zero_grad()\n"
               "        loss = F.mse_loss(model(x.unsqueeze(1)), y.unsqueeze(1))\n        loss.backward()\n"
               "        optimizer.step()\n"
               "    return model.weight.item(), model.bias.item()\n"},
    {"name": "line_no_bias", "cell": "fit_line",
     "source": "def fit_line(x, y):\n    model = nn.Linear(1, 1, bias=False)\n"
               "    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)\n"
               "    for _ in range(1000):\n        optimizer.zero_grad()\n"
               "        loss = F.mse_loss(model(x.unsqueeze(1)), y.unsqueeze(1))\n        loss.backward()\n"
               "        optimizer.step()\n"
               "    return model.weight.item(), 0.0\n"},
    {"name": "line_swapped_result", "cell": "fit_line",
     "source": "def fit_line(x, y):\n    model = nn.Linear(1, 1)\n"
               "    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)\n"
               "    for _ in range(1000):\n        optimizer.zero_grad()\n"
               "        loss = F.mse_loss(model(x.unsqueeze(1)), y.unsqueeze(1))\n        loss.backward()\n"
               "        optimizer.step()\n"
               "    return model.bias.item(), model.weight.item()\n"},
    # forward_backward (backpropagation by hand)
    {"name": "backprop_no_mean_over_batch", "cell": "forward_backward", "source": _backprop(scale="G_Z")},
    {"name": "backprop_no_relu_mask", "cell": "forward_backward", "source": _backprop(mask="1.0")},
    {"name": "backprop_weight_grad_transposed", "cell": "forward_backward", "source": _backprop(
        grads='{"W2": A.T @ G_Z, "b2": G_Z.sum(0), "W1": X.T @ G_H, "b1": G_H.sum(0)}')},
    {"name": "backprop_bias_grad_mean", "cell": "forward_backward", "source": _backprop(
        grads='{"W2": G_Z.T @ A, "b2": G_Z.mean(0), "W1": G_H.T @ X, "b1": G_H.mean(0)}')},
    {"name": "backprop_sign_flipped", "cell": "forward_backward", "source": _backprop(scale="-G_Z / N")},
    {"name": "backprop_wrong_transpose_through_layer", "cell": "forward_backward", "source": _backprop().replace(
        "(G_Z @ W2)", "(G_Z @ W2.T)")},
    {"name": "backprop_uses_autograd", "cell": "forward_backward",
     "source": "def forward_backward(X, t, W1, b1, W2, b2):\n"
               "    ps = [w.detach().clone().requires_grad_(True) for w in (W1, b1, W2, b2)]\n"
               "    loss = F.cross_entropy(F.relu(X @ ps[0].T + ps[1]) @ ps[2].T + ps[3], t)\n"
               "    loss.backward()\n"
               "    return loss.detach(), dict(zip([\"W1\", \"b1\", \"W2\", \"b2\"], [p.grad for p in ps]))\n"},
    # passed the centred visible case, failed the uncentred hidden ones (review issue 12)
    {"name": "line_lr_too_large_uncentred", "cell": "fit_line",
     "source": "def fit_line(x, y):\n    model = nn.Linear(1, 1)\n"
               "    optimizer = torch.optim.SGD(model.parameters(), lr=0.2)\n"
               "    for _ in range(300):\n        optimizer.zero_grad()\n"
               "        loss = F.mse_loss(model(x.unsqueeze(1)), y.unsqueeze(1))\n        loss.backward()\n"
               "        optimizer.step()\n"
               "    return model.weight.item(), model.bias.item()\n"},
    {"name": "line_slow_along_valley", "cell": "fit_line",
     "source": "def fit_line(x, y):\n    model = nn.Linear(1, 1)\n"
               "    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)\n"
               "    for _ in range(200):\n        optimizer.zero_grad()\n"
               "        loss = F.mse_loss(model(x.unsqueeze(1)), y.unsqueeze(1))\n        loss.backward()\n"
               "        optimizer.step()\n"
               "    return model.weight.item(), model.bias.item()\n"},
    {"name": "line_standardised_not_converted_back", "cell": "fit_line",
     "source": "def fit_line(x, y):\n    mu, s = x.mean(), x.std()\n    xs = (x - mu) / s\n"
               "    model = nn.Linear(1, 1)\n"
               "    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)\n"
               "    for _ in range(500):\n        optimizer.zero_grad()\n"
               "        loss = F.mse_loss(model(xs.unsqueeze(1)), y.unsqueeze(1))\n        loss.backward()\n"
               "        optimizer.step()\n"
               "    return model.weight.item() / s.item(), model.bias.item()\n"},
    # train_xor
    {"name": "xor_linear_only", "cell": "train_xor",
     "source": "def train_xor(X, y):\n    model = nn.Sequential(nn.Linear(2, 8), nn.Linear(8, 1))\n"
               "    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)\n"
               "    loss_fn = nn.BCEWithLogitsLoss()\n    for _ in range(300):\n"
               "        optimizer.zero_grad()\n        loss = loss_fn(model(X).squeeze(-1), y)\n"
               "        loss.backward()\n        optimizer.step()\n    return model\n"},
    {"name": "xor_one_hidden_unit", "cell": "train_xor",
     "source": "def train_xor(X, y):\n    model = nn.Sequential(nn.Linear(2, 1), nn.ReLU(), nn.Linear(1, 1))\n"
               "    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)\n"
               "    loss_fn = nn.BCEWithLogitsLoss()\n    for _ in range(300):\n"
               "        optimizer.zero_grad()\n        loss = loss_fn(model(X).squeeze(-1), y)\n"
               "        loss.backward()\n        optimizer.step()\n    return model\n"},
    {"name": "xor_no_step", "cell": "train_xor",
     "source": "def train_xor(X, y):\n    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))\n"
               "    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)\n"
               "    loss_fn = nn.BCEWithLogitsLoss()\n    for _ in range(300):\n"
               "        optimizer.zero_grad()\n        loss = loss_fn(model(X).squeeze(-1), y)\n"
               "        loss.backward()\n    return model\n"},
    {"name": "xor_sigmoid_output", "cell": "train_xor",
     "source": "def train_xor(X, y):\n"
               "    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1), nn.Sigmoid())\n"
               "    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)\n"
               "    loss_fn = nn.BCELoss()\n    for _ in range(300):\n"
               "        optimizer.zero_grad()\n        loss = loss_fn(model(X).squeeze(-1), y)\n"
               "        loss.backward()\n        optimizer.step()\n    return model\n"},
]
