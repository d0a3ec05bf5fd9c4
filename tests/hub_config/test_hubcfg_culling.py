"""Idle culling: a service with its role when a timeout is set, nothing when it is 0."""

from hub_config import culling


def test_no_culler_when_the_timeout_is_zero(config, settings):
    culling.configure(config, settings(COURSEHUB_CULL_TIMEOUT="0"))
    assert config.JupyterHub.services == [] and config.JupyterHub.load_roles == []


def test_culler_service_gets_the_timeout_and_only_the_scopes_it_needs(config, settings):
    culling.configure(config, settings(COURSEHUB_CULL_TIMEOUT="900"))
    (service,) = config.JupyterHub.services
    assert service["name"] == "idle-culler"
    assert service["command"][1:] == ["-m", "jupyterhub_idle_culler", "--timeout=900"]
    (role,) = config.JupyterHub.load_roles
    assert role["services"] == ["idle-culler"]
    assert set(role["scopes"]) == {
        "list:users",
        "read:users:activity",
        "read:servers",
        "delete:servers",
    }
