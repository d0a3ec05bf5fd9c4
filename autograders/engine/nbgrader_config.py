# nbgrader configuration fragment: autograde through the sandbox, never in-process.
#
# Every course's nbgrader_config.py loads this file (load_subconfig, see
# scripts/coursehub/course.py), so `nbgrader autograde`, `coursehub autograde` and the
# formgrader's autograde button all run student code through SandboxExecute instead of
# nbgrader's Execute. Settings: c.SandboxExecute.* (see sandbox_execute.py); the sandbox
# kind can be forced with $COURSEHUB_SANDBOX=docker|bwrap.
#
# The engine is loaded from this folder under its own package name so that nbgrader does
# not import the `autograders` package (and with it torch) just to grade.
import importlib.util as _util
import os as _os
import sys as _sys

_NAME = "coursehub_grading_engine"


def _load_engine():
    if "autograders.engine.sandbox_execute" in _sys.modules:
        return _sys.modules["autograders.engine.sandbox_execute"]
    if _NAME + ".sandbox_execute" not in _sys.modules:
        here = _os.path.dirname(_os.path.abspath(__file__))  # noqa: F821 (set by traitlets)
        spec = _util.spec_from_file_location(
            _NAME, _os.path.join(here, "__init__.py"), submodule_search_locations=[here]
        )
        package = _util.module_from_spec(spec)
        _sys.modules[_NAME] = package
        spec.loader.exec_module(package)
        __import__(_NAME + ".sandbox_execute")
    return _sys.modules[_NAME + ".sandbox_execute"]


def _autograde_preprocessors():
    from nbgrader.converters.autograde import Autograde

    return _load_engine().sandboxed_preprocessors(Autograde.autograde_preprocessors.default())


c = get_config()  # noqa: F821
c.Autograde.autograde_preprocessors = _autograde_preprocessors()
# A deleted test cell is put back (and run) instead of silently missing from the grade.
c.OverwriteCells.add_missing_cells = True
