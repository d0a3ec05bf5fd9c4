"""NativeAuthenticator on JupyterHub 6: a seeded first admin, roster students pre-approved.

Why NativeAuthenticator, fixed here, and not another authenticator: no maintained one does
what it does (sign-up that waits for an admin's approval at /hub/authorize, password rules,
lock-out after failed logins; JupyterHub's own Shared-password, PAM and Dummy
authenticators have no sign-up), and every account's bcrypt hash and approval is in its
``users_info`` table in the hub database, so another authenticator would mean every student
signing up again (hashes cannot be carried over). NativeAuthenticator 1.3 (the last release;
upstream has no fix) breaks on JupyterHub 6 in its login handler only:

- ``post`` times the login with ``self.statsd``, which JupyterHub 6 removed (jupyterhub#5407):
  every login, right or wrong, was a 500.
- ``_render`` takes no other keywords, but JupyterHub (5.3 and later) renders an error on a
  login form submission (an expired XSRF token, say) as ``_render(sync=True, **error)``, with
  a template environment NativeAuthenticator never told where its templates are: that error
  became a 500 as well.

``LoginHandler`` below replaces NativeAuthenticator's on /hub/login and keeps its behaviour
(the "not approved yet" message, its lock-out); sign-up, /hub/authorize and change-password
are NativeAuthenticator's own and work unchanged on 6.
"""

from __future__ import annotations

from jinja2 import ChoiceLoader, FileSystemLoader, TemplateNotFound
from jupyterhub import orm
from nativeauthenticator import NativeAuthenticator
from nativeauthenticator import handlers as native
from tornado.escape import url_escape
from tornado.httputil import url_concat
from traitlets import Unicode


class LoginHandler(native.LoginHandler):
    """NativeAuthenticator's login form and checks, as JupyterHub 6 calls a login handler."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # NativeAuthenticator adds its templates to the async environment only; JupyterHub
        # renders an error page (and so this form, for a login) with the sync one.
        env = self.settings["jinja2_env_sync"]
        try:
            env.get_template("native-login.html")
        except TemplateNotFound:
            env.loader = ChoiceLoader([env.loader, FileSystemLoader(native.TEMPLATE_DIR)])

    def _render(self, login_error=None, username=None, **kwargs):
        """The form; ``kwargs``: ``sync`` and the error's fields when JupyterHub renders one."""
        return self.render_template(
            "native-login.html",
            next=url_escape(self.get_argument("next", default="")),
            username=username,
            login_error=login_error,
            custom_html=self.authenticator.custom_html,
            login_url=self.settings["login_url"],
            enable_signup=self.authenticator.enable_signup,
            two_factor_auth=self.authenticator.allow_2fa,
            authenticator_login_url=url_concat(
                self.authenticator.login_url(self.hub.base_url),
                {"next": self.get_argument("next", "")},
            ),
            **kwargs,
        )

    async def post(self):
        """Log in and go on, or show the form again saying why not (403, as JupyterHub's does)."""
        data = {
            name: self.get_argument(name, strip=name == "username")
            for name in self.request.body_arguments
            if name != "_xsrf"
        }
        data.setdefault("username", "")
        data.setdefault("password", "")
        user = await self.login_user(data)
        if user:
            self._jupyterhub_user = user  # the request log names the user
            self.redirect(self.get_next_url(user))
            return
        self.set_status(403)
        why = self._refusal(data["username"], data["password"])
        self.finish(await self._render(login_error=why, username=data["username"]))

    def _refusal(self, username: str, password: str) -> str:
        auth = self.authenticator
        name = auth.normalize_username(username)
        if auth.allowed_failed_logins and auth.is_blocked(name):
            return (
                f"Too many failed logins for {name}: wait {auth.seconds_before_next_try} s "
                "and try again."
            )
        info = auth.get_user(name)
        if info is not None and not info.is_authorized and info.is_valid_password(password):
            return f"User {name} has not been approved by an administrator yet."
        return "Invalid username or password."


class CoursehubAuthenticator(NativeAuthenticator):
    """Sign-up needs an admin's approval, except for students an instructor put on a roster."""

    admin_password = Unicode(
        "", config=True, help="Password of the first admin, created at start-up if missing."
    ).tag(config=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._seed_admins()

    def _seed_admins(self) -> None:
        if not self.admin_password:
            return
        for name in self.admin_users:
            if not self.user_exists(name) and not self.create_user(name, self.admin_password):
                self.log.error("could not create admin %s: password too weak or name invalid", name)

    def roster_members(self) -> set[str]:
        """Everyone on a course roster: the members of an nbgrader-<course> group."""
        groups = self.db.query(orm.Group).filter(orm.Group.name.like("nbgrader-%"))
        return {user.name for group in groups for user in group.users}

    def get_authed_users(self):
        """Approved users, plus everyone on a course roster."""
        return set(super().get_authed_users()) | self.roster_members()

    async def authenticate(self, handler, data):
        """A student who signed up before an instructor enrolled them is approved by the roster.

        NativeAuthenticator approves roster students only at sign-up; without this, one who
        signed up first would wait for an admin although the roster lists them.
        """
        name = self.normalize_username(data.get("username", ""))
        info = self.get_user(name)
        if info is not None and not info.is_authorized and name in self.roster_members():
            info.is_authorized = True
            self.db.commit()
            self.log.info("%s is on a course roster: sign-up approved", name)
        return await super().authenticate(handler, data)

    def get_handlers(self, app):
        """NativeAuthenticator's pages, with the login page that works on JupyterHub 6."""
        return [
            (path, LoginHandler if handler is native.LoginHandler else handler)
            for path, handler in super().get_handlers(app)
        ]
