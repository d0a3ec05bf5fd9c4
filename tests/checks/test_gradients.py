import pytest
import torch

from autograders import check_grad, check_gradcheck, numerical_grad

X = torch.tensor([0.5, -1.0, 2.0])


def cube_sum(x):
    return (x**3).sum()


class GoodRelu(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * (x > 0).to(grad_output.dtype)


class ForgetsGradOutput(GoodRelu):
    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return (x > 0).to(grad_output.dtype)


class TooManyGradients(GoodRelu):
    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, grad_output


def test_numerical_grad_matches_known_derivative():
    grad = numerical_grad(cube_sum, X)
    assert grad.dtype == torch.float64
    assert torch.allclose(grad, 3 * X.double() ** 2, rtol=1e-6, atol=1e-6)


def test_numerical_grad_does_not_modify_its_input():
    x = X.clone()
    numerical_grad(cube_sum, x)
    assert torch.equal(x, X)


def test_numerical_grad_rejects_non_scalar_function(failure):
    msg = failure(numerical_grad, lambda x: x**2, X)
    assert "single number" in msg
    assert "got shape (3,)" in msg
    assert ".sum()" in msg


def test_check_grad_passes_for_autograd_and_correct_analytic_gradient():
    grad = check_grad(cube_sum, X)
    assert torch.allclose(grad, 3 * X.double() ** 2)
    check_grad(cube_sum, X, analytic=lambda x: 3 * x**2)


def test_check_grad_reports_worst_element_of_wrong_analytic_gradient(failure):
    msg = failure(check_grad, cube_sum, X, analytic=lambda x: 2 * x**2, name="d/dx")
    assert msg.startswith("d/dx:")
    assert "index 2: numerical 12, your gradient 8" in msg
    assert "3 of 3 elements wrong" in msg
    assert "same factor" in msg


def test_check_grad_catches_wrong_custom_backward_via_autograd(failure):
    x = torch.tensor([1.0, -2.0, 3.0])
    msg = failure(check_grad, lambda x: (ForgetsGradOutput.apply(x) * 5).sum(), x)
    assert "numerical 5, autograd 1" in msg


def test_check_grad_reports_detached_output(failure):
    msg = failure(check_grad, lambda x: torch.tensor(cube_sum(x).item()), X)
    assert "not connected" in msg
    assert ".detach()" in msg


def test_check_grad_reports_non_scalar_output(failure):
    assert ".mean()" in failure(check_grad, lambda x: x**2, X)


def test_check_grad_reports_analytic_gradient_of_wrong_shape(failure):
    msg = failure(check_grad, cube_sum, X, analytic=lambda x: (3 * x**2)[:2])
    assert "same shape as the input (3,), got (2,)" in msg


def test_check_grad_explains_float64_requirement_when_f_fails_on_doubles():
    layer = torch.nn.Linear(3, 1)  # float32 weights
    with pytest.raises(RuntimeError) as info:
        check_grad(lambda x: layer(x).sum(), X)
    assert any(".double()" in note for note in info.value.__notes__)


def test_check_gradcheck_passes_and_converts_inputs_to_float64():
    seen = []

    def fn(x):
        seen.append((x.dtype, x.requires_grad))
        return GoodRelu.apply(x)

    assert check_gradcheck(fn, torch.tensor([[1.0, -2.0], [0.5, 3.0]]))
    assert seen[0] == (torch.float64, True)


def test_check_gradcheck_locates_wrong_jacobian_entry(failure):
    msg = failure(check_gradcheck, ForgetsGradOutput.apply, (torch.tensor([1.0, -2.0, 3.0]),))
    assert msg.startswith("ForgetsGradOutput: gradcheck failed")
    assert "d output[0] / d input[2] is 0 numerically, but your backward gives 1" in msg
    assert "Jacobian entries wrong" in msg
    assert "grad_output" in msg


class ForgetsScale(torch.autograd.Function):
    @staticmethod
    def forward(ctx, k, x):
        ctx.k = k
        return x * k

    @staticmethod
    def backward(ctx, grad_output):
        return None, grad_output  # should be grad_output * ctx.k


def test_check_gradcheck_names_the_input_position_among_non_tensor_args(failure):
    msg = failure(check_gradcheck, ForgetsScale.apply, (3, torch.tensor([2.0])))
    assert "d output[0] / d inputs[1][0] is 3 numerically, but your backward gives 1" in msg


def test_check_gradcheck_reports_wrong_number_of_gradients(failure):
    msg = failure(check_gradcheck, TooManyGradients.apply, (torch.tensor([1.0, 2.0]),))
    assert "incorrect number of gradients" in msg
    assert "one gradient per input" in msg


def test_check_gradcheck_reports_disconnected_output(failure):
    def fn(x):
        return torch.tensor(x.detach().numpy() * 2)

    assert ".detach()" in failure(check_gradcheck, fn, (torch.tensor([1.0, 2.0]),))
