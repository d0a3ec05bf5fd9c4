"""Where coursehub's own tools live (the repo's npm proxy, the venv's binaries)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from .errors import CoursehubError

# The checkout (course sources, hub_config, npm proxy); images that install the package
# into site-packages say where their copy of the repository is.
REPO_ROOT = Path(os.environ.get("COURSEHUB_REPO") or Path(__file__).resolve().parents[2])
NPM_PROXY = REPO_ROOT / "node_modules" / ".bin" / "configurable-http-proxy"


def venv_bin(name: str) -> str:
    """A console script installed beside the running interpreter."""
    return str(Path(sys.executable).with_name(name))


def account_path() -> str:
    """PATH for processes run as other accounts: this venv first, then system folders only.

    The admin's own PATH may hold folders other accounts cannot search (e.g. under /root),
    and nbgrader runs ``alembic`` by name.
    """
    return f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin"


def proxy_command(configured: str = "") -> list[str]:
    """configurable-http-proxy: the configured path, the repo's npm install, or PATH."""
    for candidate in (configured, str(NPM_PROXY), shutil.which("configurable-http-proxy")):
        if candidate and Path(candidate).exists():
            return [candidate]
    raise CoursehubError(
        "configurable-http-proxy not found: run `npm ci` in the repository (scripts/bootstrap does)"
    )
