import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from autograders import check_source_forbids, forbid, run_forbidding

X = torch.randn(1, 1, 5, 5)
W = torch.randn(1, 1, 3, 3)
A = torch.randn(3, 3)


def my_conv2d(x, w):
    patches = x.unfold(2, 3, 1).unfold(3, 3, 1)
    return (patches * w[0, 0]).sum((-1, -2))


def conv_via_layer(x, w):
    layer = nn.Conv2d(1, 1, 3, bias=False)
    with torch.no_grad():
        layer.weight.copy_(w)
    return layer(x)


def conv_via_alias(x, w):
    return torch.convolution(x, w, None, [1, 1], [0, 0], [1, 1], False, [0, 0], 1)


# --- forbid / run_forbidding ----------------------------------------------------------------


def test_forbid_allows_an_own_implementation():
    with forbid(F.conv2d, "aten.convolution"):
        out = my_conv2d(X, W)
    assert torch.allclose(out, F.conv2d(X, W), atol=1e-5)


def test_forbid_catches_direct_conv2d_call(failure):
    msg = failure(run_forbidding, F.conv2d, X, W, forbidden=[F.conv2d])
    assert "You used torch.nn.functional.conv2d" in msg
    assert "implement yourself" in msg


def test_forbid_catches_conv2d_through_nn_module(failure):
    assert "conv2d" in failure(run_forbidding, conv_via_layer, X, W, forbidden=[F.conv2d])
    msg = failure(run_forbidding, conv_via_layer, X, W, forbidden=[torch.ops.aten.convolution])
    assert "Your code ran aten.convolution" in msg


def test_forbid_aten_op_catches_aliases_the_function_layer_misses(failure):
    assert run_forbidding(conv_via_alias, X, W, forbidden=[F.conv2d]).shape == (1, 1, 3, 3)
    assert "aten.convolution" in failure(
        run_forbidding, conv_via_alias, X, W, forbidden=["aten.convolution"]
    )


@pytest.mark.parametrize(
    "op",
    [
        "conv2d",
        "F.conv2d",
        "torch.nn.functional.conv2d",
        "aten.convolution",
        "aten::convolution",
        "torch.ops.aten.convolution.default",
        torch.ops.aten.convolution.default,
    ],
)
def test_forbid_accepts_names_and_aten_spellings(failure, op):
    failure(run_forbidding, F.conv2d, X, W, forbidden=[op])


def test_forbid_matmul_also_catches_the_at_operator(failure):
    msg = failure(run_forbidding, lambda: A @ A, forbidden=[torch.matmul])
    assert "torch.Tensor.matmul (the @ operator)" in msg
    assert "(forbidden: torch.matmul)" in msg


def test_forbid_dunder_matmul_catches_the_operator(failure):
    failure(run_forbidding, lambda: A @ A, forbidden=[torch.Tensor.__matmul__])


def test_forbid_matmul_allows_broadcast_multiply_and_sum():
    out = run_forbidding(
        lambda: (A[:, :, None] * A[None]).sum(1), forbidden=[torch.matmul, "aten.mm"]
    )
    assert torch.allclose(out, A @ A, atol=1e-5)


def test_forbid_callable_covers_its_family(failure):
    assert "torch.nn.functional.relu" in failure(run_forbidding, F.relu, A, forbidden=[torch.relu])
    assert "torch.Tensor.relu_" in failure(
        run_forbidding, lambda: A.clone().relu_(), forbidden=[torch.relu]
    )
    assert "torch.svd" in failure(run_forbidding, torch.svd, A, forbidden=["torch.linalg.svd"])


def test_forbid_catches_ops_in_backward(failure):
    def backward():
        x = X.clone().requires_grad_(True)
        F.conv2d(x, W).sum().backward()

    assert "aten.convolution_backward" in failure(
        run_forbidding, backward, forbidden=["aten.convolution_backward"]
    )


def test_forbid_custom_message_replaces_hint(failure):
    msg = failure(run_forbidding, F.conv2d, X, W, forbidden=[F.conv2d], message="Use unfold.")
    assert msg.endswith("Use unfold.")


def test_forbid_still_fails_when_student_swallows_the_error(failure):
    def sneaky(x, w):
        try:
            return F.conv2d(x, w)
        except Exception:
            return my_conv2d(x, w)

    assert "torch.nn.functional.conv2d" in failure(
        run_forbidding, sneaky, X, W, forbidden=[F.conv2d]
    )


def test_forbid_works_as_reusable_decorator(failure):
    @forbid("sum")
    def total(x):
        return x.sum()

    assert "torch.Tensor.sum" in failure(total, A)
    assert "torch.Tensor.sum" in failure(total, A)
    A.sum()  # raises if the guard leaked outside the decorated call


def test_forbid_is_inactive_after_the_block():
    with forbid(F.conv2d, "aten.convolution"):
        pass
    assert F.conv2d(X, W).shape == (1, 1, 3, 3)


def test_run_forbidding_returns_result_and_passes_kwargs():
    assert run_forbidding(torch.sum, A, dim=0, forbidden=["conv2d"]).shape == (3,)


@pytest.mark.parametrize(
    ("op", "error"),
    [
        ("no_such_function", ValueError),
        ("aten.no_such_op", ValueError),
        (nn.Conv2d, TypeError),
        (np.linalg.svd, ValueError),
    ],
)
def test_forbid_rejects_unknown_ops_early(op, error):
    with pytest.raises(error):
        forbid(op)


# --- check_source_forbids -------------------------------------------------------------------

STUDENT_CELL = """
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.functional import conv2d as c2d

def conv2d(x, w):
    return (x.unfold(2, 3, 1).unfold(3, 3, 1) * w[0, 0]).sum((-1, -2))

def own(x, w):
    y = conv2d(x, w)
    return y

def direct(x, w):
    return F.conv2d(x, w)

def aliased(x, w):
    return c2d(x, w)

def helper(x, w):
    return torch.conv2d(x, w)

def through_helper(x, w):
    return helper(x, w) * 1

def local_import(x):
    from torch.linalg import svd
    return svd(x)

def by_getattr(x, w):
    return getattr(F, "conv2d")(x, w)

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 3)

    def forward(self, x):
        return self.conv(x)

class Wrapper(nn.Module):
    def __init__(self):
        super().__init__()
        self.inner = Net()

class OwnNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv2d = nn.Parameter(torch.ones(3, 3))

    def forward(self, x):
        return conv2d(x, self.conv2d[None, None])
"""


@pytest.fixture
def cell(notebook_cell):
    return notebook_cell(STUDENT_CELL)


def test_check_source_forbids_passes_for_own_code_with_the_same_name(cell):
    assert check_source_forbids(cell["own"], ["conv2d", "torch.nn.functional.conv2d"]) is True
    assert check_source_forbids(cell["OwnNet"](), ["conv2d", "nn.Conv2d"]) is True


@pytest.mark.parametrize(
    ("fn", "spelled", "line"),
    [
        ("direct", "F.conv2d", 2),
        ("aliased", "c2d", 2),
        ("by_getattr", 'getattr(..., "conv2d")', 2),
    ],
)
def test_check_source_forbids_names_the_line(failure, cell, fn, spelled, line):
    for name in ("conv2d", "torch.nn.functional.conv2d", "F.conv2d"):
        msg = failure(check_source_forbids, cell[fn], [name])
        assert f"line {line} of {fn} uses {name}" in msg
        assert spelled in msg
        assert "(x, w)" in msg  # the offending source line is quoted


def test_check_source_forbids_follows_helpers_in_the_same_notebook(failure, cell):
    msg = failure(check_source_forbids, cell["through_helper"], "conv2d")
    assert "line 2 of helper (called from through_helper) uses conv2d" in msg
    assert check_source_forbids(cell["through_helper"], "conv2d", follow=False) is True


def test_check_source_forbids_catches_imports_inside_the_function(failure, cell):
    msg = failure(check_source_forbids, cell["local_import"], ["torch.linalg.svd"])
    assert "line 2 of local_import uses torch.linalg.svd: from torch.linalg import svd" in msg
    assert "line 3 of local_import uses torch.linalg.svd (as svd)" in msg


def test_check_source_forbids_checks_notebook_classes_through_their_methods(failure, cell):
    msg = failure(check_source_forbids, cell["Net"](), ["nn.Conv2d"])
    assert "Net.__init__ uses nn.Conv2d: self.conv = nn.Conv2d(1, 1, 3)" in msg


def test_check_source_forbids_follows_helper_classes_in_the_same_notebook(failure, cell):
    msg = failure(check_source_forbids, cell["Wrapper"], ["nn.Conv2d"])
    assert "Net.__init__ (called from Wrapper.__init__) uses nn.Conv2d" in msg


def test_check_source_forbids_checks_classes_defined_in_files(failure):
    class FileNet(nn.Module):
        def forward(self, x):
            return F.conv2d(x, W)

    assert "uses F.conv2d" in failure(check_source_forbids, FileNet, ["F.conv2d"])


def test_check_source_forbids_skips_with_warning_when_source_is_unavailable():
    namespace = {}
    exec("import torch\ndef f(x):\n    return torch.conv2d(x, x)\n", namespace)
    with pytest.warns(UserWarning, match="static check skipped"):
        assert check_source_forbids(namespace["f"], ["conv2d"]) is False
