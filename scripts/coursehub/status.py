"""What the hub is doing (`coursehub status`) and who is enrolled (`students list/remove`)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

from .database import hub_rows
from .errors import CoursehubError
from .hubapi import Hub
from .settings import Settings


def connect(settings: Settings) -> Hub:
    """The hub's API, or one line saying there is no hub at its address."""
    url = f"http://127.0.0.1:{settings.port}"
    try:
        hub = Hub(settings, url)
        info = hub.request("GET", "/")
    except CoursehubError as exc:
        raise CoursehubError(f"no hub at {url}: {exc}") from None
    hub.version = (info or {}).get("version", "?")
    return hub


def approvals(settings: Settings) -> dict[str, bool] | None:
    """Sign-up name -> approved by an admin, from NativeAuthenticator's table; None if unreadable.

    The hub's REST API does not expose approval, so it is read from the hub database
    (read-only; the CLI runs beside the hub as root in both modes).
    """
    rows = hub_rows(settings, "SELECT username, is_authorized FROM users_info")
    return None if rows is None else {name: bool(ok) for name, ok in rows}


def approval_state(name: str, signups: dict[str, bool] | None, on_roster: bool) -> str:
    if signups is None:
        return "unknown"
    if name not in signups:
        return "not signed up"
    if on_roster:
        return "approved (roster)"
    return "approved" if signups[name] else "waiting for approval"


def folder_size(path: Path) -> int:
    """Bytes on disk under ``path`` (links not followed)."""
    total = 0
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            try:
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
            except OSError:
                continue
    return total


def human(size: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"


def home_usage(settings: Settings, name: str) -> str:
    """Disk used by a student's home: their folder (local), their volume if readable (docker)."""
    if settings.mode == "local":
        home = settings.home_root / name
    else:
        volume = f"{settings.name}-home-{name}"
        home = Path("/var/lib/docker/volumes") / volume / "_data"
    try:
        return human(folder_size(home)) if home.is_dir() else "n/a"
    except OSError:
        return "n/a"


def gpu_of(settings: Settings, name: str) -> str:
    """The GPU a student's server gets, where the deployment decides it per student."""
    if settings.mode == "local":
        return "-"  # local processes see the host's devices; nothing is assigned
    policy = settings.gpus
    if policy != "one-each":
        return policy
    try:
        state = json.loads((settings.hub_dir / "gpu-assignments.json").read_text())
    except (OSError, ValueError):
        return "not yet"
    return f"GPU {state['users'][name]}" if name in state.get("users", {}) else "not yet"


def activity(user: dict) -> str:
    stamp = user.get("last_activity")
    if not stamp:
        return "never"
    when = datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(UTC)
    return when.strftime("%Y-%m-%d %H:%M UTC")


def status_lines(settings: Settings) -> list[str]:
    hub = connect(settings)
    staff = {settings.admin_user, *settings.instructors}
    users = [u for u in hub.users() if not u.get("admin") and u["name"] not in staff]
    running = [u for u in users if u.get("servers", {}).get("", {}).get("ready")]
    lines = [
        f"hub at http://127.0.0.1:{settings.port}: up (JupyterHub {hub.version}), "
        f"{len(users)} student account(s), {len(running)} server(s) running"
    ]
    rows = [("STUDENT", "SERVER", "LAST ACTIVITY", "GPU", "HOME DISK")]
    for user in sorted(users, key=lambda u: u["name"]):
        server = user.get("servers", {}).get("", {})
        state = "running" if server.get("ready") else ("starting" if server else "stopped")
        name = user["name"]
        rows.append(
            (name, state, activity(user), gpu_of(settings, name), home_usage(settings, name))
        )
    return lines + table(rows)


def table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]


def gradebook_students(course) -> list[str]:
    if not course.has_gradebook():
        return []
    with course.open_gradebook() as gb:
        return sorted(s.id for s in gb.students)


def student_rows(settings: Settings, course) -> list[str]:
    hub = connect(settings)
    group = f"nbgrader-{course.course_id}"
    members = set(hub.group_members(group))
    graded = set(gradebook_students(course))
    accounts = {u["name"] for u in hub.users()}
    signups = approvals(settings)
    rows = [("STUDENT", "HUB ACCOUNT", "LOGIN", "COURSE GROUP", "GRADEBOOK")]
    for name in sorted(members | graded):
        rows.append(
            (
                name,
                "yes" if name in accounts else "no",
                approval_state(name, signups, name in members),
                "yes" if name in members else "no",
                "yes" if name in graded else "no",
            )
        )
    return table(rows)


def remove_student(settings: Settings, course, name: str) -> list[str]:
    """Take ``name`` out of the course group, the gradebook and the hub; what was done."""
    hub = connect(settings)
    group = f"nbgrader-{course.course_id}"
    in_group = name in hub.group_members(group)
    in_gradebook = name in gradebook_students(course)
    if not (in_group or in_gradebook):
        raise CoursehubError(f"unknown student {name!r}: not enrolled in {course.course_id}")
    done = []
    if in_group:
        hub.remove_from_group(group, [name])
        done.append(f"removed from the hub group {group}")
    if in_gradebook:
        with course.open_gradebook() as gb:
            gb.remove_student(name)  # their submissions' grades go with them
        done.append("removed from the gradebook (with their grades)")
    user = hub.user(name)
    other_courses = [g for g in (user or {}).get("groups", []) if g.startswith("nbgrader-")]
    if user and not user.get("admin") and not other_courses:
        hub.delete_user(name)  # the hub stops their server first
        done.append("hub account deleted")
    elif user:
        done.append(f"hub account kept (admin or in {', '.join(other_courses)})")
    return done
