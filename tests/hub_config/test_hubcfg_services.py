"""The admin CLI's service account and a single-user server's own token scopes."""

from coursehub.setup import cli_token_path

from hub_config import services


def test_cli_service_uses_the_token_file_the_cli_reads(config, settings):
    s = settings()
    services.configure(config, s)
    (cli,) = config.JupyterHub.services
    assert cli["name"] == "coursehub-cli"
    assert cli["api_token"] == cli_token_path(s).read_text() and len(cli["api_token"]) == 64
    services.configure(config, s)  # a restart: the same token
    assert config.JupyterHub.services[1]["api_token"] == cli["api_token"]


def test_roles_give_the_cli_admin_scopes_and_servers_only_their_own(config, settings):
    services.configure(config, settings())
    roles = {r["name"]: r for r in config.JupyterHub.load_roles}
    assert {"admin:users", "admin:servers", "read:metrics"} <= set(roles["coursehub-cli"]["scopes"])
    assert all(
        scope.endswith("!user") or scope.endswith("!server") for scope in roles["server"]["scopes"]
    )
