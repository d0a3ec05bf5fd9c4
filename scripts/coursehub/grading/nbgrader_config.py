# nbgrader configuration fragment: autograde through the sandbox, never in-process.
#
# Every course's nbgrader_config.py loads this file (load_subconfig, see
# scripts/coursehub/course.py), so `nbgrader autograde`, `coursehub autograde` and the
# formgrader's autograde button all run student code through SandboxExecute instead of
# nbgrader's Execute. Settings: c.SandboxExecute.* (see sandbox_execute.py); the sandbox
# kind can be forced with $COURSEHUB_SANDBOX=docker|bwrap.
from nbgrader.converters.autograde import Autograde

from coursehub.grading.sandbox_execute import sandboxed_preprocessors

c = get_config()  # noqa: F821
c.Autograde.autograde_preprocessors = sandboxed_preprocessors(
    Autograde.autograde_preprocessors.default()
)
# A deleted test cell is put back (and run) instead of silently missing from the grade.
c.OverwriteCells.add_missing_cells = True
