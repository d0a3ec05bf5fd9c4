"""Planted wrong solutions for 00_math_foundations: each must lose points when autograded."""

_GRAD = '''def numerical_gradient(f, x, h=1e-5):
    grad = torch.zeros_like(x)
    for i in range(x.numel()):
        step = torch.zeros_like(x)
        step.view(-1)[i] = h
        grad.view(-1)[i] = (f(x + step) - f(x - step)) / (2 * h)
    return grad
'''

_SIGMOID_GRAD = '''def sigmoid_mse_grad(w, X, y):
    p = torch.sigmoid(X @ w)
    return X.T @ (2 * (p - y) * p * (1 - p)) / X.shape[0]
'''

_POISSON = '''def poisson_pmf(k, lam):
    k = torch.as_tensor(k, dtype=torch.float64)
    return torch.exp(k * math.log(lam) - lam - torch.lgamma(k + 1))
'''

_MEAN_VAR = '''def mean_var(x):
    n = x.shape[0]
    mean = x.sum(dim=0) / n
    return mean, ((x - mean) ** 2).sum(dim=0) / (n - 1)
'''

_POSTERIOR = '''def coin_posterior(biases, prior, flips):
    heads = flips.sum()
    tails = flips.numel() - heads
    log_post = torch.log(prior) + heads * torch.log(biases) + tails * torch.log1p(-biases)
    return torch.softmax(log_post, dim=0)
'''

_CHECKED_MATMUL = """def matmul(A, B):
    if A.dim() != 2 or B.dim() != 2 or A.shape[1] != B.shape[0]:
        raise ValueError('bad shapes')
"""

MUTANTS = [
    # matmul
    {"name": "matmul_uses_at", "cell": "matmul",
     "source": "def matmul(A, B):\n"
               "    if A.dim() != 2 or B.dim() != 2 or A.shape[1] != B.shape[0]:\n"
               "        raise ValueError('bad shapes')\n"
               "    return A @ B\n"},
    {"name": "matmul_wrong_axis", "cell": "matmul",
     "source": "def matmul(A, B):\n"
               "    if A.dim() != 2 or B.dim() != 2 or A.shape[1] != B.shape[0]:\n"
               "        raise ValueError('bad shapes')\n"
               "    return (A[:, :, None] * B[None, :, :]).sum(dim=0)\n"},
    {"name": "matmul_no_shape_check", "cell": "matmul",
     "source": "def matmul(A, B):\n"
               "    return (A[:, :, None] * B[None, :, :]).sum(dim=1)\n"},
    {"name": "matmul_loop_off_by_one", "cell": "matmul",
     "source": "def matmul(A, B):\n"
               "    if A.dim() != 2 or B.dim() != 2 or A.shape[1] != B.shape[0]:\n"
               "        raise ValueError('bad shapes')\n"
               "    C = torch.zeros(A.shape[0], B.shape[1], dtype=A.dtype)\n"
               "    for l in range(A.shape[1] - 1):\n"
               "        C += A[:, l:l + 1] * B[l:l + 1, :]\n"
               "    return C\n"},
    # bypasses of the first version's guard (review issue 12): each is a library matrix product
    {"name": "matmul_f_linear", "cell": "matmul",
     "source": _CHECKED_MATMUL + "    return torch.nn.functional.linear(A, B.T)\n"},
    {"name": "matmul_addmm", "cell": "matmul",
     "source": _CHECKED_MATMUL
               + "    return torch.addmm(torch.zeros(A.shape[0], B.shape[1], dtype=A.dtype), A, B)\n"},
    {"name": "matmul_multi_dot", "cell": "matmul",
     "source": _CHECKED_MATMUL + "    return torch.linalg.multi_dot([A, B])\n"},
    {"name": "matmul_inner", "cell": "matmul",
     "source": _CHECKED_MATMUL + "    return torch.inner(A, B.T)\n"},
    {"name": "matmul_vecdot", "cell": "matmul",
     "source": _CHECKED_MATMUL + "    return torch.linalg.vecdot(A[:, :, None], B[None, :, :], dim=1)\n"},
    {"name": "matmul_row_dots", "cell": "matmul",
     "source": _CHECKED_MATMUL
               + "    return torch.stack([torch.stack([torch.dot(A[i], B[:, j]) for j in range(B.shape[1])])\n"
               + "                        for i in range(A.shape[0])])\n"},
    {"name": "matmul_nn_linear_layer", "cell": "matmul",
     "source": _CHECKED_MATMUL
               + "    layer = torch.nn.Linear(A.shape[1], B.shape[1], bias=False).to(A.dtype)\n"
               + "    with torch.no_grad():\n"
               + "        layer.weight.copy_(B.T)\n"
               + "        return layer(A)\n"},
    {"name": "matmul_float32", "cell": "matmul",
     "source": "def matmul(A, B):\n"
               "    if A.dim() != 2 or B.dim() != 2 or A.shape[1] != B.shape[0]:\n"
               "        raise ValueError('bad shapes')\n"
               "    return (A.float()[:, :, None] * B.float()[None, :, :]).sum(dim=1)\n"},
    # sym_matrix_power
    {"name": "power_wrong_order", "cell": "sym_matrix_power",
     "source": "def sym_matrix_power(S, p):\n"
               "    L, Q = torch.linalg.eigh(S)\n"
               "    return Q.T @ torch.diag(L ** p) @ Q\n"},
    {"name": "power_times_p", "cell": "sym_matrix_power",
     "source": "def sym_matrix_power(S, p):\n"
               "    L, Q = torch.linalg.eigh(S)\n"
               "    return Q @ torch.diag(L * p) @ Q.T\n"},
    {"name": "power_general_eig", "cell": "sym_matrix_power",
     "source": "def sym_matrix_power(S, p):\n"
               "    L, V = torch.linalg.eig(S)\n"
               "    return V @ torch.diag(L ** p) @ torch.linalg.inv(V)\n"},
    {"name": "power_matrix_power_int", "cell": "sym_matrix_power",
     "source": "def sym_matrix_power(S, p):\n"
               "    return torch.linalg.matrix_power(S, int(p))\n"},
    # low_rank
    {"name": "low_rank_smallest", "cell": "low_rank",
     "source": "def low_rank(A, k):\n"
               "    U, S, Vh = torch.linalg.svd(A, full_matrices=False)\n"
               "    r = S.shape[0]\n"
               "    return U[:, r - k:] @ torch.diag(S[r - k:]) @ Vh[r - k:, :]\n"},
    {"name": "low_rank_no_sigma", "cell": "low_rank",
     "source": "def low_rank(A, k):\n"
               "    U, S, Vh = torch.linalg.svd(A, full_matrices=False)\n"
               "    return U[:, :k] @ Vh[:k, :]\n"},
    {"name": "low_rank_vh_as_v", "cell": "low_rank",
     "source": "def low_rank(A, k):\n"
               "    U, S, V = torch.linalg.svd(A, full_matrices=False)\n"
               "    return U[:, :k] @ torch.diag(S[:k]) @ V[:, :k].T\n"},
    {"name": "low_rank_off_by_one", "cell": "low_rank",
     "source": "def low_rank(A, k):\n"
               "    U, S, Vh = torch.linalg.svd(A, full_matrices=False)\n"
               "    return U[:, :k + 1] @ torch.diag(S[:k + 1]) @ Vh[:k + 1, :]\n"},
    # derivatives
    {"name": "grad_forward_difference", "cell": "derivatives",
     "source": '''def numerical_gradient(f, x, h=1e-5):
    grad = torch.zeros_like(x)
    for i in range(x.numel()):
        step = torch.zeros_like(x)
        step.view(-1)[i] = h
        grad.view(-1)[i] = (f(x + step) - f(x)) / h
    return grad


''' + _SIGMOID_GRAD},
    {"name": "grad_all_coordinates_at_once", "cell": "derivatives",
     "source": '''def numerical_gradient(f, x, h=1e-5):
    return torch.full_like(x, float((f(x + h) - f(x - h)) / (2 * h)))


''' + _SIGMOID_GRAD},
    {"name": "grad_perturbs_x_in_place", "cell": "derivatives",
     "source": '''def numerical_gradient(f, x, h=1e-5):
    grad = torch.zeros_like(x)
    flat = x.view(-1)
    for i in range(x.numel()):
        flat[i] += h
        plus = f(x)
        flat[i] -= 2 * h
        minus = f(x)
        grad.view(-1)[i] = (plus - minus) / (2 * h)
    return grad


''' + _SIGMOID_GRAD},
    {"name": "chain_rule_missing_sigmoid_derivative", "cell": "derivatives",
     "source": _GRAD + '''

def sigmoid_mse_grad(w, X, y):
    p = torch.sigmoid(X @ w)
    return X.T @ (2 * (p - y)) / X.shape[0]
'''},
    {"name": "chain_rule_sum_not_mean", "cell": "derivatives",
     "source": _GRAD + '''

def sigmoid_mse_grad(w, X, y):
    p = torch.sigmoid(X @ w)
    return X.T @ (2 * (p - y) * p * (1 - p))
'''},
    {"name": "chain_rule_uses_autograd", "cell": "derivatives",
     "source": _GRAD + '''

def sigmoid_mse_grad(w, X, y):
    w = w.detach().clone().requires_grad_(True)
    ((torch.sigmoid(X @ w) - y) ** 2).mean().backward()
    return w.grad
'''},
    # gradient_descent
    {"name": "gd_wrong_sign", "cell": "gradient_descent",
     "source": "def gradient_descent(A, b, w0, lr, steps):\n"
               "    w = w0.clone()\n"
               "    path = [w]\n"
               "    for _ in range(steps):\n"
               "        w = w + lr * (A @ w - b)\n"
               "        path.append(w)\n"
               "    return torch.stack(path)\n"},
    {"name": "gd_in_place_alias", "cell": "gradient_descent",
     "source": "def gradient_descent(A, b, w0, lr, steps):\n"
               "    w = w0\n"
               "    path = [w]\n"
               "    for _ in range(steps):\n"
               "        w -= lr * (A @ w - b)\n"
               "        path.append(w)\n"
               "    return torch.stack(path)\n"},
    {"name": "gd_half_gradient", "cell": "gradient_descent",
     "source": "def gradient_descent(A, b, w0, lr, steps):\n"
               "    w = w0.clone()\n"
               "    path = [w]\n"
               "    for _ in range(steps):\n"
               "        w = w - lr * (0.5 * A @ w - b)\n"
               "        path.append(w)\n"
               "    return torch.stack(path)\n"},
    {"name": "gd_uses_autograd", "cell": "gradient_descent",
     "source": "def gradient_descent(A, b, w0, lr, steps):\n"
               "    w = w0.clone()\n"
               "    path = [w]\n"
               "    for _ in range(steps):\n"
               "        leaf = w.detach().requires_grad_(True)\n"
               "        (0.5 * leaf @ A @ leaf - b @ leaf).backward()\n"
               "        w = w - lr * leaf.grad\n"
               "        path.append(w)\n"
               "    return torch.stack(path)\n"},
    # probability
    {"name": "poisson_lgamma_off_by_one", "cell": "probability",
     "source": '''def poisson_pmf(k, lam):
    k = torch.as_tensor(k, dtype=torch.float64)
    return torch.exp(k * math.log(lam) - lam - torch.lgamma(k))


''' + _MEAN_VAR + "\n\n" + _POSTERIOR},
    {"name": "poisson_direct_overflows", "cell": "probability",
     "source": '''def poisson_pmf(k, lam):
    k = torch.as_tensor(k, dtype=torch.float64)
    return lam ** k * math.exp(-lam) / torch.exp(torch.lgamma(k + 1))


''' + _MEAN_VAR + "\n\n" + _POSTERIOR},
    {"name": "variance_biased", "cell": "probability",
     "source": _POISSON + '''

def mean_var(x):
    mean = x.sum(dim=0) / x.shape[0]
    return mean, ((x - mean) ** 2).sum(dim=0) / x.shape[0]


''' + _POSTERIOR},
    {"name": "variance_uses_torch_var", "cell": "probability",
     "source": _POISSON + '''

def mean_var(x):
    return x.mean(dim=0), x.var(dim=0)


''' + _POSTERIOR},
    {"name": "posterior_unnormalised", "cell": "probability",
     "source": _POISSON + "\n\n" + _MEAN_VAR + '''

def coin_posterior(biases, prior, flips):
    heads = flips.sum()
    tails = flips.numel() - heads
    return prior * biases ** heads * (1 - biases) ** tails
'''},
    {"name": "posterior_underflows", "cell": "probability",
     "source": _POISSON + "\n\n" + _MEAN_VAR + '''

def coin_posterior(biases, prior, flips):
    likelihood = torch.ones_like(biases)
    for f in flips:
        likelihood = likelihood * torch.where(f == 1, biases, 1 - biases)
    joint = prior * likelihood
    return joint / joint.sum()
'''},
]
