"""The admin CLI's service account, and what a single-user server's own token may do."""

from coursehub.settings import Settings
from coursehub.setup import cli_token_path, read_or_create_token


def configure(c, s: Settings) -> None:
    c.JupyterHub.services = [
        *c.JupyterHub.services,
        {"name": "coursehub-cli", "api_token": read_or_create_token(cli_token_path(s))},
    ]
    c.JupyterHub.load_roles = [
        *c.JupyterHub.load_roles,
        {
            "name": "coursehub-cli",
            "services": ["coursehub-cli"],
            # read:metrics: `coursehub doctor` reads the hub's Prometheus metrics.
            "scopes": [
                "admin:users",
                "admin:groups",
                "admin:servers",
                "tokens",
                "list:users",
                "read:metrics",
            ],
        },
        # nbgrader's JupyterHubAuthPlugin asks the hub which course groups the user is in.
        {
            "name": "server",
            "scopes": [
                "users:activity!user",
                "access:servers!server",
                "read:users:name!user",
                "read:users:groups!user",
            ],
        },
    ]
