"""Who can log in: NativeAuthenticator sign-up, approved by an admin or by the course roster."""

from coursehub.settings import Settings


def configure(c, s: Settings) -> None:
    c.JupyterHub.authenticator_class = "coursehub.hub.authenticator.CoursehubAuthenticator"
    c.Authenticator.admin_users = {s.admin_user}
    c.CoursehubAuthenticator.admin_password = s.admin_password
    # Approval (by an admin or the roster) is the gate; every approved user may log in.
    c.Authenticator.allow_all = True
    # Names map to system accounts and container names: keep them to a safe alphabet.
    c.Authenticator.username_pattern = r"^[a-z][a-z0-9_-]{1,28}$"
    c.NativeAuthenticator.open_signup = False
    c.NativeAuthenticator.minimum_password_length = 8
    c.NativeAuthenticator.check_common_password = True
    c.NativeAuthenticator.allowed_failed_logins = 10
    c.NativeAuthenticator.seconds_before_next_try = 60
