"""Student-facing checks for nbgrader test cells in the PyTorch course.

Every check raises AssertionError with a short message saying what was expected, what was
got and, where possible, a hint. The checks depend only on torch and numpy. They are
imported on first use, so the grading engine (``autograders.engine``) also imports in the
hub image, which has no torch.
"""

from importlib import import_module

_HOME = {
    "device": "determinism",
    "in_grader": "determinism",
    "make_generator": "determinism",
    "seed_everything": "determinism",
    "set_threads": "determinism",
    "Forbid": "forbidding",
    "check_source_forbids": "forbidding",
    "forbid": "forbidding",
    "run_forbidding": "forbidding",
    "check_grad": "gradients",
    "check_gradcheck": "gradients",
    "numerical_grad": "gradients",
    "check_parameter_count": "modules",
    "check_registered": "modules",
    "check_state_dict_keys": "modules",
    "check_train_eval": "modules",
    "count_parameters": "modules",
    "check_close": "tensors",
    "check_tensor": "tensors",
    "check_overfits_batch": "training",
    "check_trains": "training",
}

__all__ = sorted(_HOME)


def __getattr__(name: str):
    if name not in _HOME:
        raise AttributeError(f"module 'autograders' has no attribute {name!r}")
    value = getattr(import_module(f".{_HOME[name]}", __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__():
    return __all__
