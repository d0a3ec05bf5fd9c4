"""Secure cookies when the compose file's proxy serves HTTPS (COURSEHUB_TLS=acme or own)."""

from coursehub.settings import Settings


def configure(c, s: Settings) -> None:
    # The proxy service exists in docker mode only; a local hub is plain HTTP on loopback.
    if s.mode != "docker" or s.tls not in ("acme", "own"):
        return
    # The hub marks its cookies Secure when tornado's request.protocol is https, which tornado
    # takes from the *last* X-Forwarded-Proto entry; configurable-http-proxy appends its own
    # "http" after Caddy's "https", so the hub never sees https (student servers read the
    # first entry and get it right). In these modes every browser request arrives over HTTPS
    # (plain HTTP only redirects), so Secure is always right; _xsrf follows cookie_options.
    c.JupyterHub.tornado_settings.update({"cookie_options": {"secure": True}})
