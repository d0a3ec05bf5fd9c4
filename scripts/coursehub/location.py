"""Refuse at once when other accounts cannot reach the checkout or its venv."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

from .errors import CoursehubError
from .paths import REPO_ROOT


def blocking_folder(path: Path) -> Path | None:
    """The first folder from / down to ``path`` that other accounts cannot traverse."""
    for folder in reversed([path, *path.parents]):
        try:
            mode = folder.stat().st_mode
        except OSError:
            return folder
        if not mode & stat.S_IXOTH:
            return folder
    return None


def refuse_untraversable() -> None:
    """Students' servers and the bwrap sandbox run as other accounts and need both folders.

    Checked by ``scripts/bootstrap`` too; here for a checkout whose modes changed since.
    """
    for path in (REPO_ROOT.resolve(), Path(sys.prefix).resolve()):
        blocked = blocking_folder(path)
        if blocked is not None:
            raise CoursehubError(
                f"{blocked} is not traversable by other accounts, so students' servers and the "
                f"grading sandbox cannot reach {path}: run `chmod o+x {blocked}` "
                "or clone under /srv or /opt"
            )
