"""Planted wrong solutions for 02_autograd: each must lose points when autograded."""


def _fit_line(update: str, reset: str = "        w.grad.zero_()\n        b.grad.zero_()\n",
              returned: str = "w.detach(), b.detach(), losses",
              record: str = "losses.append(loss.item())") -> str:
    return (
        "def fit_line(x, y, lr, steps):\n"
        "    w = torch.zeros((), dtype=x.dtype, requires_grad=True)\n"
        "    b = torch.zeros((), dtype=x.dtype, requires_grad=True)\n"
        "    losses = []\n"
        "    for _ in range(steps):\n"
        "        loss = ((w * x + b - y) ** 2).mean()\n"
        "        loss.backward()\n"
        f"{update}{reset}"
        f"        {record}\n"
        f"    return {returned}\n"
    )


_NO_GRAD_UPDATE = (
    "        with torch.no_grad():\n"
    "            w -= lr * w.grad\n"
    "            b -= lr * b.grad\n"
)

_VJP = '''def vjp(f, x, v):
    x = x.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(f(x), x, grad_outputs=v)
    return grad.detach()
'''

_JACOBIAN = '''def jacobian_rows(f, x):
    x = x.detach().clone().requires_grad_(True)
    out = f(x)
    rows = []
    for i in range(out.shape[0]):
        e = torch.zeros_like(out)
        e[i] = 1.0
        (row,) = torch.autograd.grad(out, x, grad_outputs=e, retain_graph=True)
        rows.append(row)
    return torch.stack(rows).detach()
'''


def _softplus(forward: str, backward: str) -> str:
    return (
        "class Softplus(torch.autograd.Function):\n"
        "    @staticmethod\n"
        "    def forward(ctx, x):\n"
        f"{forward}"
        "\n"
        "    @staticmethod\n"
        "    def backward(ctx, grad_output):\n"
        f"{backward}"
        "\n\n"
        "softplus = Softplus.apply\n"
    )


_FORWARD = (
    "        ctx.save_for_backward(x)\n"
    "        return x.clamp(min=0) + torch.log1p(torch.exp(-x.abs()))\n"
)
_BACKWARD = (
    "        (x,) = ctx.saved_tensors\n"
    "        return grad_output * torch.sigmoid(x)\n"
)

MUTANTS = [
    # fit_line
    {"name": "fit_missing_zero_grad", "cell": "fit_line",
     "source": _fit_line(_NO_GRAD_UPDATE, reset="")},
    {"name": "fit_wrong_sign", "cell": "fit_line",
     "source": _fit_line("        with torch.no_grad():\n"
                         "            w += lr * w.grad\n"
                         "            b += lr * b.grad\n")},
    {"name": "fit_update_outside_no_grad", "cell": "fit_line",
     "source": _fit_line("        w -= lr * w.grad\n"
                         "        b -= lr * b.grad\n")},
    {"name": "fit_rebinds_parameters", "cell": "fit_line",
     "source": _fit_line("        w = w - lr * w.grad\n"
                         "        b = b - lr * b.grad\n",
                         reset="")},
    {"name": "fit_returns_undetached", "cell": "fit_line",
     "source": _fit_line(_NO_GRAD_UPDATE, returned="w, b, losses")},
    {"name": "fit_keeps_loss_tensors", "cell": "fit_line",
     "source": _fit_line(_NO_GRAD_UPDATE, record="losses.append(loss)")},
    # graph_nodes
    {"name": "graph_depth_first", "cell": "graph_nodes",
     "source": '''def graph_nodes(t):
    if t.grad_fn is None:
        return []
    order, seen, stack = [], set(), [t.grad_fn]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        order.append(node)
        for child, _ in reversed(node.next_functions):
            if child is not None:
                stack.append(child)
    return order
'''},
    {"name": "graph_no_dedupe", "cell": "graph_nodes",
     "source": '''def graph_nodes(t):
    if t.grad_fn is None:
        return []
    order = [t.grad_fn]
    i = 0
    while i < len(order):
        for child, _ in order[i].next_functions:
            if child is not None:
                order.append(child)
        i += 1
    return order
'''},
    {"name": "graph_keeps_none", "cell": "graph_nodes",
     "source": '''def graph_nodes(t):
    if t.grad_fn is None:
        return []
    order, seen, i = [t.grad_fn], {t.grad_fn}, 0
    while i < len(order):
        for child, _ in order[i].next_functions:
            if child not in seen:
                seen.add(child)
                order.append(child)
        i += 1
    return order
'''},
    {"name": "graph_skips_root", "cell": "graph_nodes",
     "source": '''def graph_nodes(t):
    if t.grad_fn is None:
        return []
    order = [c for c, _ in t.grad_fn.next_functions if c is not None]
    seen, i = set(order), 0
    while i < len(order):
        for child, _ in order[i].next_functions:
            if child is not None and child not in seen:
                seen.add(child)
                order.append(child)
        i += 1
    return order
'''},
    {"name": "graph_dedupe_by_name", "cell": "graph_nodes",
     "source": '''def graph_nodes(t):
    if t.grad_fn is None:
        return []
    order, seen, i = [t.grad_fn], {t.grad_fn.name()}, 0
    while i < len(order):
        for child, _ in order[i].next_functions:
            if child is not None and child.name() not in seen:
                seen.add(child.name())
                order.append(child)
        i += 1
    return order
'''},
    # straight_through_round
    {"name": "ste_plain_round", "cell": "straight_through_round",
     "source": "def straight_through_round(x):\n    return torch.round(x)\n"},
    {"name": "ste_missing_detach", "cell": "straight_through_round",
     "source": "def straight_through_round(x):\n    return x + (torch.round(x) - x)\n"},
    {"name": "ste_detach_everything", "cell": "straight_through_round",
     "source": "def straight_through_round(x):\n    return torch.round(x.detach())\n"},
    {"name": "ste_wrong_sign", "cell": "straight_through_round",
     "source": "def straight_through_round(x):\n    return x + (x - torch.round(x)).detach()\n"},
    {"name": "ste_in_place", "cell": "straight_through_round",
     "source": "def straight_through_round(x):\n"
               "    with torch.no_grad():\n"
               "        x.round_()\n"
               "    return x\n"},
    # jacobian
    {"name": "jacobian_columns", "cell": "jacobian",
     "source": _VJP + '''

def jacobian_rows(f, x):
    x = x.detach().clone().requires_grad_(True)
    out = f(x)
    rows = []
    for i in range(out.shape[0]):
        e = torch.zeros_like(out)
        e[i] = 1.0
        (row,) = torch.autograd.grad(out, x, grad_outputs=e, retain_graph=True)
        rows.append(row)
    return torch.stack(rows, dim=1).detach()
'''},
    {"name": "jacobian_accumulates_grad", "cell": "jacobian",
     "source": _VJP + '''

def jacobian_rows(f, x):
    x = x.detach().clone().requires_grad_(True)
    out = f(x)
    rows = []
    for i in range(out.shape[0]):
        e = torch.zeros_like(out)
        e[i] = 1.0
        out.backward(e, retain_graph=True)
        rows.append(x.grad.clone())
    return torch.stack(rows)
'''},
    {"name": "jacobian_uses_library", "cell": "jacobian",
     "source": _VJP + '''

def jacobian_rows(f, x):
    return torch.autograd.functional.jacobian(f, x)
'''},
    {"name": "vjp_ignores_v", "cell": "jacobian",
     "source": '''def vjp(f, x, v):
    x = x.detach().clone().requires_grad_(True)
    f(x).sum().backward()
    return x.grad
''' + "\n\n" + _JACOBIAN},
    {"name": "vjp_modifies_callers_x", "cell": "jacobian",
     "source": '''def vjp(f, x, v):
    x.requires_grad_(True)
    f(x).backward(v)
    return x.grad.detach()
''' + "\n\n" + _JACOBIAN},
    # softplus
    {"name": "softplus_backward_ignores_grad_output", "cell": "softplus",
     "source": _softplus(_FORWARD, "        (x,) = ctx.saved_tensors\n"
                                   "        return torch.sigmoid(x)\n")},
    {"name": "softplus_backward_wrong_sign", "cell": "softplus",
     "source": _softplus(_FORWARD, "        (x,) = ctx.saved_tensors\n"
                                   "        return grad_output * torch.sigmoid(-x)\n")},
    {"name": "softplus_unstable_forward", "cell": "softplus",
     "source": _softplus("        ctx.save_for_backward(x)\n"
                         "        return torch.log(1 + torch.exp(x))\n", _BACKWARD)},
    {"name": "softplus_calls_library", "cell": "softplus",
     "source": _softplus("        ctx.save_for_backward(x)\n"
                         "        return F.softplus(x)\n", _BACKWARD)},
    {"name": "softplus_backward_from_output", "cell": "softplus",
     "source": _softplus("        out = x.clamp(min=0) + torch.log1p(torch.exp(-x.abs()))\n"
                         "        ctx.save_for_backward(out)\n"
                         "        return out\n",
                         "        (out,) = ctx.saved_tensors\n"
                         "        return grad_output * torch.sigmoid(out)\n")},
]
