"""Who can log in: coursehub's authenticator, the first admin, safe names, slow guessing."""

from hub_config import auth


def test_admin_and_password_come_from_settings(config, settings):
    auth.configure(config, settings(COURSEHUB_ADMIN_USER="boss", COURSEHUB_ADMIN_PASSWORD="pw-1"))
    assert config.JupyterHub.authenticator_class.endswith("CoursehubAuthenticator")
    assert config.Authenticator.admin_users == {"boss"}
    assert config.CoursehubAuthenticator.admin_password == "pw-1"


def test_signup_is_closed_and_names_are_a_safe_alphabet(config, settings):
    auth.configure(config, settings())
    assert config.NativeAuthenticator.open_signup is False
    assert config.NativeAuthenticator.minimum_password_length == 8
    assert config.NativeAuthenticator.check_common_password is True
    pattern = config.Authenticator.username_pattern
    assert pattern.startswith("^") and pattern.endswith("$") and "/" not in pattern
