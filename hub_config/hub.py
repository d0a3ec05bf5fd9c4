"""Where the hub listens, keeps its state, and which proxy fronts it."""

from coursehub.database import hub_db_url
from coursehub.paths import proxy_command
from coursehub.settings import Settings


def configure(c, s: Settings) -> None:
    c.JupyterHub.bind_url = f"http://{s.ip}:{s.port}"
    c.JupyterHub.hub_bind_url = s.hub_bind_url
    if s.hub_connect_url:
        c.JupyterHub.hub_connect_url = s.hub_connect_url
    c.JupyterHub.db_url = hub_db_url(s)
    c.JupyterHub.cookie_secret_file = str(s.hub_dir / "jupyterhub_cookie_secret")
    # An older schema (a 5.x deployment's) is upgraded at start; JupyterHub copies a SQLite
    # database to jupyterhub.sqlite.<date-time> first (Postgres: back it up yourself, README).
    c.JupyterHub.upgrade_db = True
    c.ConfigurableHTTPProxy.command = proxy_command(s.proxy_cmd)
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{s.port + 2}"
    c.ConfigurableHTTPProxy.pid_file = str(s.hub_dir / "proxy.pid")
    # Stop the proxy with the hub: a stale proxy would keep serving dead routes.
    c.JupyterHub.cleanup_proxy = True
    c.JupyterHub.cleanup_servers = True
    c.JupyterHub.default_url = "/hub/home"
    c.JupyterHub.log_level = s.log_level
