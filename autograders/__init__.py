"""Student-facing checks for nbgrader test cells in the PyTorch course.

Every check raises AssertionError with a short message saying what was expected, what was
got and, where possible, a hint. The checks depend only on torch and numpy. This package
is what test cells import, in the student image and in every grading sandbox; the trusted
grading engine is ``coursehub.grading``, which never imports it.
"""

from .determinism import (
    device,
    in_grader,
    make_generator,
    seed_everything,
    set_threads,
)
from .forbidding import (
    Forbid,
    check_source_forbids,
    forbid,
    run_forbidding,
)
from .gradients import (
    check_grad,
    check_gradcheck,
    numerical_grad,
)
from .modules import (
    check_parameter_count,
    check_registered,
    check_state_dict_keys,
    check_train_eval,
    count_parameters,
)
from .tensors import check_close, check_tensor
from .training import check_overfits_batch, check_trains

__all__ = [
    "Forbid",
    "check_close",
    "check_grad",
    "check_gradcheck",
    "check_overfits_batch",
    "check_parameter_count",
    "check_registered",
    "check_source_forbids",
    "check_state_dict_keys",
    "check_tensor",
    "check_train_eval",
    "check_trains",
    "count_parameters",
    "device",
    "forbid",
    "in_grader",
    "make_generator",
    "numerical_grad",
    "run_forbidding",
    "seed_everything",
    "set_threads",
]
