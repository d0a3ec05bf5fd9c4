"""Idle servers are stopped so GPUs and memory go back to active students."""

import sys

from coursehub.settings import Settings


def configure(c, s: Settings) -> None:
    if s.cull_timeout <= 0:
        return
    c.JupyterHub.services = [
        *c.JupyterHub.services,
        {
            "name": "idle-culler",
            "command": [
                sys.executable,
                "-m",
                "jupyterhub_idle_culler",
                f"--timeout={s.cull_timeout}",
            ],
        },
    ]
    c.JupyterHub.load_roles = [
        *c.JupyterHub.load_roles,
        {
            "name": "idle-culler",
            "services": ["idle-culler"],
            "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
        },
    ]
