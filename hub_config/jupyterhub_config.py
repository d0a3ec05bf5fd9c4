"""coursehub's JupyterHub configuration: read the settings, then let each concern set values.

Last, every ``*.py`` in jupyterhub_config.d/ (an admin's own additions, never committed) runs in
sorted order with ``c`` and ``settings`` in scope, as in z2jh and TLJH.
"""

import sys
from pathlib import Path

# The concern modules and the coursehub package are importable from the repository root.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from coursehub.errors import CoursehubError  # noqa: E402
from coursehub.settings import load_settings  # noqa: E402
from coursehub.setup import prepare  # noqa: E402

from hub_config import auth, courses, culling, hub, proxy_headers, services, spawner  # noqa: E402

try:
    settings = load_settings()
    prepare(settings)
except CoursehubError as exc:
    # One line in the log (a bad setting, no database), not a traceback from the config loader.
    sys.exit(f"coursehub: {exc}")

c = get_config()  # noqa: F821
# Several concerns add services and roles; they extend these lists.
c.JupyterHub.services = []
c.JupyterHub.load_roles = []
for concern in (hub, auth, spawner, courses, services, culling, proxy_headers):
    concern.configure(c, settings)

for path in sorted((Path(__file__).resolve().parent / "jupyterhub_config.d").glob("*.py")):
    try:
        code = compile(path.read_text(), str(path), "exec")
        exec(code, {"__file__": str(path), "__name__": path.stem, "c": c, "settings": settings})
    except Exception as exc:  # noqa: BLE001 - any mistake in an admin's file: one line, no traceback
        sys.exit(f"coursehub: {path}: {type(exc).__name__}: {exc}")
