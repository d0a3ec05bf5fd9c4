"""Secure cookies exactly when the compose proxy serves HTTPS."""

import pytest

from hub_config import proxy_headers


@pytest.mark.parametrize(
    ("mode", "tls", "secure"),
    [("docker", "acme", True), ("docker", "own", True), ("docker", "off", False)]
    + [("local", "acme", False)],
)
def test_cookies_are_secure_only_behind_the_https_proxy(config, settings, mode, tls, secure):
    proxy_headers.configure(config, settings(COURSEHUB_MODE=mode, COURSEHUB_TLS=tls))
    # update() on a fresh Config is lazy: apply it to what JupyterHub would start from.
    tornado = config.JupyterHub.tornado_settings.get_value({})
    options = tornado.get("cookie_options", {})
    assert options.get("secure", False) is secure
