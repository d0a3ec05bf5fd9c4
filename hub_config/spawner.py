"""How student servers start: local processes now, docker containers in docker mode."""

import sys
from pathlib import Path

from coursehub.settings import Settings

SINGLEUSER_CONFIG = Path(__file__).parent / "singleuser"


def configure(c, s: Settings) -> None:
    c.Spawner.default_url = "/lab"
    c.Spawner.http_timeout = 120
    c.Spawner.start_timeout = int(s.get("COURSEHUB_START_TIMEOUT", "300"))
    c.CourseSpawnerMixin.uid_base = s.uid_base
    if s.mode == "local":
        c.JupyterHub.spawner_class = "coursehub.spawners.LocalCourseSpawner"
        c.LocalCourseSpawner.user_prefix = s.user_prefix
        c.LocalCourseSpawner.home_root = str(s.home_root)
        c.Spawner.cmd = [str(Path(sys.executable).with_name("jupyterhub-singleuser"))]
        c.LocalCourseSpawner.course_env = {
            "JUPYTER_CONFIG_PATH": str(SINGLEUSER_CONFIG),
            "COURSEHUB_EXCHANGE_ROOT": str(s.exchange_root),
        }
