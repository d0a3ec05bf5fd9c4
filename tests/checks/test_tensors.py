import numpy as np
import pytest
import torch

from autograders import check_close, check_tensor


def test_check_tensor_passes_for_equal_values_and_matching_metadata():
    x = torch.arange(6.0).reshape(2, 3)
    check_tensor(x, x.clone(), shape=(2, 3), dtype=torch.float32, device="cpu")


@pytest.mark.parametrize(
    "expected", [[[0.0, 1.0], [2.0, 3.0]], np.arange(4.0).reshape(2, 2), torch.arange(4.0)]
)
def test_check_tensor_accepts_list_numpy_and_tensor_expected(expected):
    actual = torch.arange(4.0).reshape(np.shape(expected))
    check_tensor(actual, expected)


@pytest.mark.parametrize(
    ("actual", "hint"),
    [
        (None, "return"),
        (np.ones(3), "torch.from_numpy"),
        (1.5, ".item()"),
        ([1.0, 2.0], "torch.stack"),
    ],
)
def test_check_tensor_rejects_non_tensor_with_hint(failure, actual, hint):
    msg = failure(check_tensor, actual, [1.0, 2.0])
    assert "expected a torch.Tensor" in msg
    assert hint in msg


def test_check_tensor_reports_swapped_dimensions(failure):
    x = torch.zeros(3, 4)
    msg = failure(check_tensor, x.T, x)
    assert "expected (3, 4), got (4, 3)" in msg
    assert "swapped" in msg


def test_check_tensor_reports_unintended_broadcasting(failure):
    msg = failure(check_tensor, torch.zeros(5, 5), torch.zeros(5))
    assert "expected (5,), got (5, 5)" in msg
    assert "broadcasting" in msg


def test_check_tensor_shape_argument_accepts_wildcards(failure):
    check_tensor(torch.zeros(7, 4), shape=(None, 4))
    msg = failure(check_tensor, torch.zeros(7, 3), shape=(None, 4))
    assert "expected (*, 4), got (7, 3)" in msg


def test_check_tensor_reports_wrong_dtype_with_numpy_hint(failure):
    msg = failure(check_tensor, torch.zeros(2, dtype=torch.float64), dtype=torch.float32)
    assert "expected torch.float32, got torch.float64" in msg
    assert ".to(torch.float32)" in msg
    assert "NumPy" in msg


def test_check_tensor_reports_float_labels_where_integers_expected(failure):
    msg = failure(check_tensor, torch.zeros(2), dtype="int64")
    assert "expected torch.int64, got torch.float32" in msg
    assert ".long()" in msg


def test_check_tensor_ignores_dtype_unless_asked():
    check_tensor(torch.tensor([1.0, 2.0], dtype=torch.float64), torch.tensor([1.0, 2.0]))


def test_check_tensor_reports_wrong_device(failure):
    msg = failure(check_tensor, torch.zeros(2), device="cuda")
    assert "expected a tensor on cuda, got one on cpu" in msg
    assert ".to(device)" in msg


def test_check_tensor_compares_device_by_type_only():
    check_tensor(torch.zeros(2), device=torch.device("cpu", 0))


def test_check_tensor_reports_worst_element_index(failure):
    expected = torch.full((3, 4), 0.5)
    actual = expected.clone()
    actual[0, 0] = 0.49
    actual[1, 3] = 0.45
    actual[2, 1] = 0.4
    msg = failure(check_tensor, actual, expected)
    assert "index (2, 1): expected 0.5, got 0.4" in msg
    assert "3 of 12 elements wrong" in msg
    assert "abs err 0.1 >" in msg


def test_check_tensor_reports_1d_and_scalar_positions(failure):
    assert "index 2: expected 4, got 3" in failure(check_tensor, torch.tensor([1, 2, 3]), [1, 2, 4])
    assert "result: expected 2, got 1" in failure(check_tensor, torch.tensor(1.0), 2.0)


def test_check_tensor_shows_enough_digits_to_see_the_difference(failure):
    msg = failure(check_tensor, torch.tensor([1.000001], dtype=torch.float64), [1.0], rtol=0)
    assert "expected 1, got 1.000001" in msg


def test_check_tensor_default_tolerance_depends_on_dtype(failure):
    expected = torch.tensor([1.0], dtype=torch.float64)
    close_for_float32 = torch.tensor([1.000001], dtype=torch.float64)
    check_tensor(close_for_float32.float(), expected)
    msg = failure(check_tensor, close_for_float32, expected)
    assert "rtol 1e-07" in msg


def test_check_tensor_uses_given_tolerances(failure):
    check_tensor(torch.tensor([1.05]), [1.0], atol=0.1)
    msg = failure(check_tensor, torch.tensor([1.05]), [1.0], atol=0.01, rtol=0.0)
    assert "atol 0.01 + rtol 0" in msg


def test_check_tensor_integers_must_match_exactly(failure):
    msg = failure(check_tensor, torch.tensor([True, False]), [True, True])
    assert "expected True, got False" in msg
    assert "exactly equal" in msg


def test_check_tensor_nan_matches_nan_but_not_a_number(failure):
    nan = float("nan")
    check_tensor(torch.tensor([nan, 1.0]), [nan, 1.0])
    msg = failure(check_tensor, torch.tensor([nan, 1.0]), [0.0, 1.0])
    assert "index 0: expected 0, got nan" in msg
    assert "log of 0" in msg


def test_check_tensor_equal_nan_false_rejects_nan(failure):
    nan = float("nan")
    msg = failure(check_tensor, torch.tensor([nan]), [nan], equal_nan=False)
    assert "got nan" in msg


def test_check_tensor_infinities_must_have_the_same_sign(failure):
    inf = float("inf")
    check_tensor(torch.tensor([inf, -inf]), [inf, -inf])
    msg = failure(check_tensor, torch.tensor([inf, 1.0]), [-inf, 1.0])
    assert "expected -inf, got inf" in msg


def test_check_tensor_hints_unexpected_inf(failure):
    msg = failure(check_tensor, torch.tensor([1.0]) / torch.tensor([0.0]), [1.0])
    assert "division by zero" in msg


def test_check_tensor_float64_computes_error_in_double_precision(failure):
    # In bfloat16, 256 - 0.5 rounds to 256 (> atol); in float64 it is 255.5 (< atol).
    actual = torch.tensor([256.0], dtype=torch.bfloat16)
    expected = torch.tensor([0.5], dtype=torch.bfloat16)
    failure(check_tensor, actual, expected, atol=255.7, rtol=0.0)
    check_tensor(actual, expected, atol=255.7, rtol=0.0, float64=True)


@pytest.mark.parametrize(
    ("transform", "hint"),
    [
        (lambda e: -e, "opposite sign"),
        (lambda e: e.T, "transpose"),
        (lambda e: 2 * e, "same factor (2)"),
        (lambda e: torch.zeros_like(e), "all zeros"),
    ],
)
def test_check_tensor_hints_common_value_mistakes(failure, transform, hint):
    expected = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    msg = failure(check_tensor, transform(expected), expected)
    assert hint in msg


def test_check_tensor_uses_the_given_name(failure):
    assert failure(check_tensor, torch.zeros(2), [1.0, 1.0], name="logits").startswith("logits:")


def test_check_close_accepts_python_numpy_and_tensor_numbers():
    check_close(0.5 + 1e-9, 0.5)
    check_close(np.float64(0.5), 0.5)
    check_close(torch.tensor(0.5), 0.5)
    check_close(torch.tensor([0.5]), 0.5)


def test_check_close_reports_expected_got_and_tolerance(failure):
    msg = failure(check_close, 0.4, 0.5, name="loss")
    assert "loss: expected 0.5, got 0.4" in msg
    assert "abs err 0.1 > tolerance 5.01e-06" in msg


def test_check_close_rejects_none_and_non_numbers(failure):
    assert "forget a `return`" in failure(check_close, None, 1.0)
    assert "got a str: 'x'" in failure(check_close, "x", 1.0)


def test_check_close_reports_shape_mismatch(failure):
    msg = failure(check_close, torch.ones(2), torch.ones(3))
    assert "expected shape (3,), got shape (2,)" in msg


class _AlwaysEqual(torch.Tensor):
    """A submission's tensor that answers every comparison with "equal"."""

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        out = super().__torch_function__(func, types, args, kwargs or {})
        if getattr(func, "__name__", "") in ("allclose", "equal", "isclose", "eq", "__eq__"):
            return torch.ones_like(out, dtype=torch.bool) if isinstance(out, torch.Tensor) else True
        return out


def test_check_tensor_rejects_a_tensor_subclass_that_lies_about_equality():
    liar = torch.zeros(2, 3).as_subclass(_AlwaysEqual)
    with pytest.raises(AssertionError, match="plain torch.Tensor, got the subclass _AlwaysEqual"):
        check_tensor(liar, torch.ones(2, 3))
    with pytest.raises(AssertionError, match="subclass _AlwaysEqual"):
        check_close(liar.sum(), 6.0)


def test_check_tensor_accepts_a_parameter():
    check_tensor(torch.nn.Parameter(torch.ones(2)), [1.0, 1.0])
