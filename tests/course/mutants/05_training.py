"""Planted wrong solutions for 05_training: each must lose points when autograded."""
# ruff: noqa: E501  (planted cell sources are data: long string literals read best unsplit)

_EPOCH = '''def train_one_epoch(model, loader, loss_fn, optimizer, device):
    {train}
    total, count = 0.0, 0
    for xb, yb in loader:
        xb, yb = xb.to(device), yb.to(device)
        {body}
    return {result}
'''
_EPOCH_BODY = '''optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(xb)
        count += len(xb)'''


def _epoch(train="model.train()", body=_EPOCH_BODY, result="total / count"):
    return _EPOCH.format(train=train, body=body, result=result)


_EVAL = '''def evaluate(model, loader, loss_fn, device):
    {mode}
    total, correct, count = 0.0, 0, 0
    with {context}:
        for xb, yb in loader:
            xb, yb = xb.to(device), yb.to(device)
            logits = model(xb)
            total += loss_fn(logits, yb).item() * len(xb)
            correct += (logits.argmax(dim={dim}) == yb).sum().item()
            count += len(xb)
    return total / count, correct / count
'''


def _eval(mode="model.eval()", context="torch.no_grad()", dim=1):
    return _EVAL.format(mode=mode, context=context, dim=dim)


_EVAL_BATCH_MEANS = '''def evaluate(model, loader, loss_fn, device):
    model.eval()
    losses, accs = [], []
    with torch.no_grad():
        for xb, yb in loader:
            xb, yb = xb.to(device), yb.to(device)
            logits = model(xb)
            losses.append(loss_fn(logits, yb).item())
            accs.append((logits.argmax(dim=1) == yb).float().mean().item())
    return sum(losses) / len(losses), sum(accs) / len(accs)
'''

_SGD = '''class SGDMomentum(torch.optim.Optimizer):
    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay))

    {decorator}
    def step(self):
        for group in self.param_groups:
            lr, mu, wd = {hyper}
            for p in group["params"]:
                {skip}
                g = {grad}
                if mu:
                    state = self.state[p]
                    if "buf" not in state:
                        state["buf"] = {first}
                    else:
                        state["buf"].mul_(mu).add_({add})
                    g = state["buf"]
                p.add_(g, alpha={alpha})
'''


def _sgd(decorator="@torch.no_grad()", hyper='group["lr"], group["momentum"], group["weight_decay"]',
         skip="if p.grad is None:\n                    continue", grad="p.grad + wd * p",
         first="g.clone()", add="g", alpha="-lr"):
    return _SGD.format(decorator=decorator, hyper=hyper, skip=skip, grad=grad, first=first, add=add,
                       alpha=alpha)


_SGD_SUTSKEVER = '''class SGDMomentum(torch.optim.Optimizer):
    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            lr, mu, wd = group["lr"], group["momentum"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad + wd * p
                state = self.state[p]
                v = state.get("v", torch.zeros_like(p))
                v = mu * v + lr * g
                state["v"] = v
                p.sub_(v)
'''
_SGD_DECAY_AFTER_MOMENTUM = '''class SGDMomentum(torch.optim.Optimizer):
    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            lr, mu, wd = group["lr"], group["momentum"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if "buf" not in state:
                    state["buf"] = p.grad.clone()
                else:
                    state["buf"].mul_(mu).add_(p.grad)
                p.add_(state["buf"] + wd * p, alpha=-lr)
'''
_SGD_WRAPS_TORCH = '''class SGDMomentum(torch.optim.Optimizer):
    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay))
        self.inner = torch.optim.SGD(self.param_groups, lr=lr, momentum=momentum, weight_decay=weight_decay)

    def step(self):
        self.inner.step()
'''

_ADAM = '''class Adam(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))
        self.t = 0

    @torch.no_grad()
    def step(self):
        {global_step}
        for group in self.param_groups:
            lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = {grad}
                state = self.state[p]
                if not state:
                    state["t"] = 0
                    state["m"] = torch.zeros_like(p)
                    state["v"] = torch.zeros_like(p)
                {count}
                t, m, v = {t}, state["m"], state["v"]
                m.mul_(b1).add_(g, alpha=1 - b1)
                v.mul_(b2).add_(g * g, alpha=1 - b2)
                m_hat = {m_hat}
                v_hat = {v_hat}
                {update}
'''


def _adam(global_step="", grad="p.grad + wd * p", count='state["t"] += 1', t='state["t"]',
          m_hat="m / (1 - b1 ** t)", v_hat="v / (1 - b2 ** t)",
          update="p.sub_(lr * m_hat / (v_hat.sqrt() + eps))"):
    return _ADAM.format(global_step=global_step, grad=grad, count=count, t=t, m_hat=m_hat,
                        v_hat=v_hat, update=update)


_RMSPROP = '''class RMSprop(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            lr, alpha, eps, wd = {hyper}
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = {grad}
                state = self.state[p]
                if not state:
                    state["t"] = 0
                    state["v"] = torch.zeros_like(p)
                state["t"] += 1
                v = state["v"]
                {average}
                {update}
'''


def _rmsprop(hyper='group["lr"], group["alpha"], group["eps"], group["weight_decay"]', grad="p.grad + wd * p",
             average="v.mul_(alpha).add_(g * g, alpha=1 - alpha)", update="p.sub_(lr * g / (v.sqrt() + eps))"):
    return _RMSPROP.format(hyper=hyper, grad=grad, average=average, update=update)


_CLIP = '''def clip_grad_norm(parameters, max_norm):
    {body}
'''
_CLIP_PER_PARAM = _CLIP.format(body='''norms = []
    for p in parameters:
        if p.grad is None:
            continue
        n = p.grad.norm()
        norms.append(n)
        if n > max_norm:
            p.grad.mul_(max_norm / (n + 1e-6))
    return torch.stack(norms).norm()''')
_CLIP_SUM_OF_NORMS = _CLIP.format(body='''grads = [p.grad for p in parameters if p.grad is not None]
    total = sum(g.norm() for g in grads)
    if total > max_norm:
        for g in grads:
            g.mul_(max_norm / (total + 1e-6))
    return total''')
_CLIP_ALWAYS = _CLIP.format(body='''grads = [p.grad for p in parameters if p.grad is not None]
    total = torch.sqrt(sum((g ** 2).sum() for g in grads))
    for g in grads:
        g.mul_(max_norm / (total + 1e-6))
    return total''')
_CLIP_GENERATOR_TWICE = _CLIP.format(body='''total = torch.sqrt(sum((p.grad ** 2).sum() for p in parameters if p.grad is not None))
    if total > max_norm:
        for p in parameters:
            if p.grad is not None:
                p.grad.mul_(max_norm / (total + 1e-6))
    return total''')
_CLIP_NOT_IN_PLACE = _CLIP.format(body='''grads = [p.grad for p in parameters if p.grad is not None]
    total = torch.sqrt(sum((g ** 2).sum() for g in grads))
    if total > max_norm:
        for g in grads:
            g = g * (max_norm / (total + 1e-6))
    return total''')
_CLIP_LIBRARY = _CLIP.format(body='''return torch.nn.utils.clip_grad_norm_(parameters, max_norm)''')

_SCHED = '''def warmup_cosine(step, warmup_steps, total_steps):
    {body}
'''

_METRICS = '''def classification_metrics(y_true, y_pred, num_classes):
    C = num_classes
    cm = torch.bincount(y_true * C + y_pred, minlength=C * C).reshape(C, C).double()
    tp = cm.diag()
    predicted, actual = cm.sum(dim={pdim}), cm.sum(dim={adim})
    precision = {precision}
    recall = torch.where(actual > 0, tp / actual.clamp(min=1), 0.0)
    denom = precision + recall
    f1 = torch.where(denom > 0, 2 * precision * recall / denom.clamp(min=1e-300), 0.0)
    return {{
        "accuracy": (tp.sum() / cm.sum()).item(),
        "precision": {pmean},
        "recall": recall.mean().item(),
        "f1": {f1},
    }}
'''


def _metrics(pdim=0, adim=1, precision="torch.where(predicted > 0, tp / predicted.clamp(min=1), 0.0)",
             pmean="precision.mean().item()", f1="f1.mean().item()"):
    return _METRICS.format(pdim=pdim, adim=adim, precision=precision, pmean=pmean, f1=f1)


_TRAIN_MNIST = '''def make_mnist_model():
    return {model}


def train_mnist(model, X, y, epochs):
    model.to(DEVICE)
    loader = DataLoader(TensorDataset(X, y), batch_size=64, shuffle={shuffle},
                        generator=make_generator(torch.initial_seed() % 2**31))
    optimizer = {optimizer}
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(epochs):
        {epoch}
    return model
'''


def _mnist(model="nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))", shuffle="True",
           optimizer="torch.optim.Adam(model.parameters(), lr=1e-3)",
           epoch="train_one_epoch(model, loader, loss_fn, optimizer, DEVICE)"):
    return _TRAIN_MNIST.format(model=model, shuffle=shuffle, optimizer=optimizer, epoch=epoch)


MUTANTS = [
    # train_one_epoch
    {"name": "epoch_no_zero_grad", "cell": "train_one_epoch",
     "source": _epoch(body=_EPOCH_BODY.replace("optimizer.zero_grad()\n        ", ""))},
    {"name": "epoch_step_before_backward", "cell": "train_one_epoch", "source": _epoch(
        body=_EPOCH_BODY.replace("loss.backward()\n        optimizer.step()", "optimizer.step()\n        loss.backward()"))},
    {"name": "epoch_mean_of_batch_means", "cell": "train_one_epoch", "source": _epoch(
        body=_EPOCH_BODY.replace("loss.item() * len(xb)", "loss.item()").replace("count += len(xb)", "count += 1"))},
    {"name": "epoch_no_train_mode", "cell": "train_one_epoch", "source": _epoch(train="pass")},
    {"name": "epoch_returns_last_loss", "cell": "train_one_epoch", "source": _epoch(result="loss.item()")},
    # evaluate
    {"name": "eval_no_eval_mode", "cell": "evaluate", "source": _eval(mode="pass")},
    {"name": "eval_records_gradients", "cell": "evaluate", "source": _eval(context="torch.enable_grad()")},
    {"name": "eval_argmax_batch_dim", "cell": "evaluate", "source": _eval(dim=0)},
    {"name": "eval_mean_of_batch_means", "cell": "evaluate", "source": _EVAL_BATCH_MEANS},
    # SGDMomentum
    {"name": "sgd_lr_inside_velocity", "cell": "sgd_momentum", "source": _SGD_SUTSKEVER},
    {"name": "sgd_dampening", "cell": "sgd_momentum", "source": _sgd(add="g, alpha=1 - mu")},
    {"name": "sgd_no_weight_decay", "cell": "sgd_momentum", "source": _sgd(grad="p.grad")},
    {"name": "sgd_decay_after_momentum", "cell": "sgd_momentum", "source": _SGD_DECAY_AFTER_MOMENTUM},
    {"name": "sgd_defaults_not_group", "cell": "sgd_momentum", "source": _sgd(
        hyper='self.defaults["lr"], self.defaults["momentum"], self.defaults["weight_decay"]')},
    # lr read from the group as told, the rest from the constructor: caught by the visible
    # two-group case since review issue 12 (before, only hidden tests held such a case)
    {"name": "sgd_group_lr_default_momentum", "cell": "sgd_momentum", "source": _sgd(
        hyper='group["lr"], self.defaults["momentum"], self.defaults["weight_decay"]')},
    {"name": "sgd_no_skip_none", "cell": "sgd_momentum", "source": _sgd(skip="pass")},
    {"name": "sgd_no_no_grad", "cell": "sgd_momentum", "source": _sgd(decorator="")},
    {"name": "sgd_wraps_torch", "cell": "sgd_momentum", "source": _SGD_WRAPS_TORCH},
    # RMSprop
    {"name": "rmsprop_eps_inside_sqrt", "cell": "rmsprop", "source": _rmsprop(
        update="p.sub_(lr * g / (v + eps).sqrt())")},
    {"name": "rmsprop_adagrad_sum", "cell": "rmsprop", "source": _rmsprop(average="v.add_(g * g)")},
    {"name": "rmsprop_alpha_swapped", "cell": "rmsprop", "source": _rmsprop(
        average="v.mul_(1 - alpha).add_(g * g, alpha=alpha)")},
    {"name": "rmsprop_bias_corrected_like_adam", "cell": "rmsprop", "source": _rmsprop(
        update='p.sub_(lr * g / ((v / (1 - alpha ** state["t"])).sqrt() + eps))')},
    {"name": "rmsprop_defaults_not_group", "cell": "rmsprop", "source": _rmsprop(
        hyper='group["lr"], self.defaults["alpha"], self.defaults["eps"], self.defaults["weight_decay"]')},
    {"name": "rmsprop_no_weight_decay", "cell": "rmsprop", "source": _rmsprop(grad="p.grad")},
    {"name": "rmsprop_not_in_place", "cell": "rmsprop", "source": _rmsprop(
        update="p = p - lr * g / (v.sqrt() + eps)")},
    # Adam
    {"name": "adam_no_bias_correction", "cell": "adam", "source": _adam(m_hat="m", v_hat="v")},
    {"name": "adam_corrects_m_only", "cell": "adam", "source": _adam(v_hat="v")},
    {"name": "adam_eps_inside_sqrt", "cell": "adam", "source": _adam(
        update="p.sub_(lr * m_hat / (v_hat + eps).sqrt())")},
    {"name": "adam_t_from_zero", "cell": "adam", "source": _adam(count="", t='state["t"]')},
    {"name": "adam_shared_step_counter", "cell": "adam", "source": _adam(count="self.t += 1", t="self.t")},
    {"name": "adamw_decoupled_decay", "cell": "adam", "source": _adam(
        grad="p.grad", update="p.sub_(lr * m_hat / (v_hat.sqrt() + eps) + lr * wd * p)")},
    {"name": "adam_group_lr_default_betas_eps", "cell": "adam", "source": _adam().replace(
        'group["betas"], group["eps"]', 'self.defaults["betas"], self.defaults["eps"]')},
    # clip_grad_norm
    {"name": "clip_per_parameter", "cell": "clip_grad_norm", "source": _CLIP_PER_PARAM},
    {"name": "clip_sum_of_norms", "cell": "clip_grad_norm", "source": _CLIP_SUM_OF_NORMS},
    {"name": "clip_always_rescales", "cell": "clip_grad_norm", "source": _CLIP_ALWAYS},
    {"name": "clip_generator_consumed_twice", "cell": "clip_grad_norm", "source": _CLIP_GENERATOR_TWICE},
    {"name": "clip_not_in_place", "cell": "clip_grad_norm", "source": _CLIP_NOT_IN_PLACE},
    {"name": "clip_library", "cell": "clip_grad_norm", "source": _CLIP_LIBRARY},
    # warmup_cosine
    {"name": "sched_warmup_from_zero", "cell": "warmup_cosine", "source": _SCHED.format(body=(
        "if step < warmup_steps:\n        return step / warmup_steps\n"
        "    if step >= total_steps:\n        return 0.0\n"
        "    return 0.5 * (1 + math.cos(math.pi * (step - warmup_steps) / (total_steps - warmup_steps)))"))},
    {"name": "sched_no_half", "cell": "warmup_cosine", "source": _SCHED.format(body=(
        "if step < warmup_steps:\n        return (step + 1) / warmup_steps\n"
        "    if step >= total_steps:\n        return 0.0\n"
        "    return math.cos(0.5 * math.pi * (step - warmup_steps) / (total_steps - warmup_steps))"))},
    {"name": "sched_not_clamped", "cell": "warmup_cosine", "source": _SCHED.format(body=(
        "if step < warmup_steps:\n        return (step + 1) / warmup_steps\n"
        "    return 0.5 * (1 + math.cos(math.pi * (step - warmup_steps) / (total_steps - warmup_steps)))"))},
    {"name": "sched_cosine_over_total", "cell": "warmup_cosine", "source": _SCHED.format(body=(
        "if step < warmup_steps:\n        return (step + 1) / warmup_steps\n"
        "    if step >= total_steps:\n        return 0.0\n"
        "    return 0.5 * (1 + math.cos(math.pi * step / total_steps))"))},
    # classification_metrics
    {"name": "metrics_precision_recall_swapped", "cell": "classification_metrics", "source": _metrics(pdim=1, adim=0)},
    {"name": "metrics_micro_precision", "cell": "classification_metrics", "source": _metrics(
        pmean="(tp.sum() / predicted.sum()).item()")},
    {"name": "metrics_f1_of_macro_averages", "cell": "classification_metrics", "source": _metrics(
        f1="(2 * precision.mean() * recall.mean() / (precision.mean() + recall.mean())).item()")},
    {"name": "metrics_no_zero_division_guard", "cell": "classification_metrics", "source": _metrics(
        precision="tp / predicted")},
    {"name": "metrics_mean_over_present_classes", "cell": "classification_metrics", "source": _metrics(
        pmean="precision[actual > 0].mean().item()", f1="f1[actual > 0].mean().item()")},
    # rmse
    {"name": "rmse_is_mse", "cell": "rmse",
     "source": "def rmse(pred, target):\n    return ((pred - target) ** 2).mean()\n"},
    {"name": "rmse_is_mae", "cell": "rmse",
     "source": "def rmse(pred, target):\n    return (pred - target).abs().mean()\n"},
    {"name": "rmse_sqrt_of_sum", "cell": "rmse",
     "source": "def rmse(pred, target):\n    return ((pred - target) ** 2).sum().sqrt()\n"},
    # MNIST project
    {"name": "mnist_no_shuffle", "cell": "mnist_model", "source": _mnist(shuffle="False")},
    {"name": "mnist_no_step", "cell": "mnist_model", "source": _mnist(
        optimizer="torch.optim.SGD(model.parameters(), lr=0.0)")},
    {"name": "mnist_diverging_lr", "cell": "mnist_model", "source": _mnist(
        optimizer="torch.optim.SGD(model.parameters(), lr=50.0)")},
    {"name": "mnist_huge_init", "cell": "mnist_model", "source": _mnist(
        model="nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10)).apply("
              "lambda m: nn.init.normal_(m.weight, std=1.0) if isinstance(m, nn.Linear) else None)")},
    {"name": "mnist_one_batch_per_epoch", "cell": "mnist_model", "source": _mnist(
        epoch="xb, yb = next(iter(loader))\n        optimizer.zero_grad()\n"
              "        loss_fn(model(xb.to(DEVICE)), yb.to(DEVICE)).backward()\n        optimizer.step()")},
]
