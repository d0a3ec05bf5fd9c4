"""Courses: nbgrader groups, RBAC roles, and one formgrader service per course."""

from pathlib import Path

from coursehub.settings import Settings
from coursehub.supervise import formgraders

# The hub's own page templates: the home page links instructors to their formgraders.
TEMPLATES = Path(__file__).parent / "templates"


def configure(c, s: Settings) -> None:
    groups, roles, services = {}, [], []
    supervised = formgraders(s)
    for index, course_id in enumerate(s.courses):
        graders, students = f"formgrade-{course_id}", f"nbgrader-{course_id}"
        groups[graders] = {"users": sorted({s.admin_user, *s.instructors})}
        groups[students] = {"users": []}
        # Instructors and TAs reach the course's formgrader; students get a 403 there.
        roles.append(
            {
                "name": graders,
                "groups": [graders],
                "scopes": [f"access:services!service={course_id}"],
            }
        )
        # The formgrader adds students to its course group and reads rosters.
        roles.append(
            {
                "name": f"service-{course_id}",
                "services": [course_id],
                "scopes": [
                    "list:users",
                    "read:users",
                    "list:groups",
                    "read:groups",
                    f"groups!group={students}",
                    f"admin:groups!group={students}",
                ],
            }
        )
        # coursehub.supervise runs the formgrader (local mode and the docker image alike): the
        # hub only routes to it and never exits because it is slow to answer (see that module).
        fg = supervised[index]
        services.append(
            {"name": course_id, "url": fg.url, "api_token": fg.token, "oauth_no_confirm": True}
        )
    # The formgrader opens in a tab of its own, never framed: see README, "For instructors".
    c.JupyterHub.template_paths = [str(TEMPLATES)]
    c.JupyterHub.template_vars = {"coursehub_courses": list(s.courses)}
    c.JupyterHub.load_groups = groups
    c.JupyterHub.load_roles = [*c.JupyterHub.load_roles, *roles]
    c.JupyterHub.services = [*c.JupyterHub.services, *services]
