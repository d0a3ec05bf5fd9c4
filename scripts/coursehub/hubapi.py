"""A small client for the hub's REST API, authenticated as the coursehub-cli service."""

from __future__ import annotations

import requests

from .errors import CoursehubError
from .settings import Settings
from .setup import cli_token_path


class Hub:
    def __init__(self, settings: Settings, url: str | None = None):
        self.url = (url or f"http://127.0.0.1:{settings.port}").rstrip("/") + "/hub/api"
        path = cli_token_path(settings)
        if not path.is_file():
            raise CoursehubError(f"hub not running or not set up here: no {path} (start it first)")
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"token {path.read_text().strip()}"

    def request(self, method: str, path: str, **kwargs):
        try:
            response = self.session.request(method, self.url + path, timeout=30, **kwargs)
        except requests.ConnectionError:
            raise CoursehubError(f"hub not running: cannot connect to {self.url}") from None
        if response.status_code >= 400:
            try:
                message = response.json().get("message", "")
            except ValueError:  # an HTML page from the proxy: the hub is not (yet) routed
                message = "no hub API answered there (is the hub still starting?)"
            raise CoursehubError(f"hub said {response.status_code} to {method} {path}: {message}")
        return response.json() if response.content else None

    def user(self, name: str) -> dict | None:
        try:
            return self.request("GET", f"/users/{name}")
        except CoursehubError as exc:
            if " 404 " in str(exc):
                return None
            raise

    def ensure_users(self, names: list[str]) -> None:
        missing = [n for n in names if self.user(n) is None]
        if missing:
            self.request("POST", "/users", json={"usernames": missing})

    def ensure_group(self, group: str) -> None:
        try:
            self.request("GET", f"/groups/{group}")
        except CoursehubError:
            self.request("POST", f"/groups/{group}")

    def add_to_group(self, group: str, names: list[str]) -> None:
        self.ensure_group(group)
        self.request("POST", f"/groups/{group}/users", json={"users": names})

    def users(self) -> list[dict]:
        """Every hub user with their servers (a plain list: no pagination header is sent)."""
        return self.request("GET", "/users", params={"include_stopped_servers": "0"}) or []

    def group_members(self, group: str) -> list[str]:
        try:
            return sorted(self.request("GET", f"/groups/{group}")["users"])
        except CoursehubError as exc:
            if " 404 " in str(exc):
                return []
            raise

    def remove_from_group(self, group: str, names: list[str]) -> None:
        if names and set(names) & set(self.group_members(group)):
            self.request("DELETE", f"/groups/{group}/users", json={"users": names})

    def delete_user(self, name: str) -> None:
        """Delete the hub account (the hub stops its server first); files are not touched."""
        if self.user(name) is not None:
            self.request("DELETE", f"/users/{name}")
