"""Where the hub listens, its state, its proxy and its log level."""

from hub_config import hub


def test_local_hub_listens_on_loopback_and_keeps_state_in_the_data_dir(config, settings):
    s = settings(COURSEHUB_PORT="9100", COURSEHUB_PROXY_CMD="/bin/true")
    hub.configure(config, s)
    assert config.JupyterHub.bind_url == "http://127.0.0.1:9100"
    assert config.JupyterHub.hub_bind_url == "http://127.0.0.1:9101"
    assert config.ConfigurableHTTPProxy.api_url == "http://127.0.0.1:9102"
    assert config.ConfigurableHTTPProxy.command == ["/bin/true"]
    assert config.JupyterHub.db_url == f"sqlite:///{s.hub_dir / 'jupyterhub.sqlite'}"
    assert config.JupyterHub.cookie_secret_file == str(s.hub_dir / "jupyterhub_cookie_secret")
    assert "hub_connect_url" not in config.JupyterHub
    assert config.JupyterHub.log_level == "INFO"


def test_docker_hub_is_reached_by_name_and_logs_at_the_set_level(config, settings):
    s = settings(
        COURSEHUB_MODE="docker",
        COURSEHUB_PROXY_CMD="/bin/true",
        COURSEHUB_HUB_BIND_URL="http://0.0.0.0:8081",
        COURSEHUB_HUB_CONNECT_URL="http://x-hub:8081",
        COURSEHUB_LOG_LEVEL="debug",
    )
    hub.configure(config, s)
    assert config.JupyterHub.bind_url == "http://0.0.0.0:8000"
    assert config.JupyterHub.hub_connect_url == "http://x-hub:8081"
    assert config.JupyterHub.log_level == "DEBUG"
