"""Per course: a graders group and role, a students group, and a formgrader service."""

from hub_config import courses


def test_each_course_gets_groups_roles_and_its_formgrader(config, settings):
    s = settings(
        COURSEHUB_COURSES="ml_a,ml_b",
        COURSEHUB_PORT="9200",
        COURSEHUB_ADMIN_USER="boss",
        COURSEHUB_INSTRUCTORS="tina, tom",
    )
    courses.configure(config, s)
    groups = config.JupyterHub.load_groups
    assert groups["formgrade-ml_a"] == {"users": ["boss", "tina", "tom"]}
    assert groups["nbgrader-ml_b"] == {"users": []}
    roles = {r["name"]: r for r in config.JupyterHub.load_roles}
    assert roles["formgrade-ml_b"]["scopes"] == ["access:services!service=ml_b"]
    assert "admin:groups!group=nbgrader-ml_a" in roles["service-ml_a"]["scopes"]
    services = {sv["name"]: sv for sv in config.JupyterHub.services}
    assert [services[c]["url"] for c in ("ml_a", "ml_b")] == [
        "http://127.0.0.1:9210",
        "http://127.0.0.1:9211",
    ]
    token = (s.hub_dir / "service-ml_a-token").read_text()
    assert services["ml_a"]["api_token"] == token
    assert config.JupyterHub.template_vars == {"coursehub_courses": ["ml_a", "ml_b"]}


def test_no_courses_no_services(config, settings):
    courses.configure(config, settings())
    assert config.JupyterHub.services == [] and config.JupyterHub.load_groups == {}
