"""Spawners: everything a course server needs is shared; only how the process starts differs."""

from __future__ import annotations

import asyncio
from pathlib import Path

from jupyterhub.spawner import LocalProcessSpawner, set_user_setuid
from traitlets import Dict, Integer, Unicode
from traitlets.config import Configurable

from .accounts import ensure_system_user, student_uid
from .paths import account_path


class CourseSpawnerMixin(Configurable):
    """Identity and course environment shared by the local and the docker spawner."""

    uid_base = Integer(20000, config=True, help="A student's uid is uid_base + hub user id.")
    course_env = Dict(
        {}, config=True, help="Environment every course server gets (exchange, config path)."
    )

    @property
    def student_uid(self) -> int:
        return student_uid(self.uid_base, self.user.id)

    def course_environment(self) -> dict[str, str]:
        return {**self.course_env, "COURSEHUB_USER": self.user.name}

    def get_env(self):
        env = super().get_env()
        env.update(self.course_environment())
        return env


class LocalCourseSpawner(CourseSpawnerMixin, LocalProcessSpawner):
    """A process per student, as a system account of their own (``<prefix><name>``)."""

    user_prefix = Unicode("ch-", config=True, help="System account = prefix + hub user name.")
    home_root = Unicode("", config=True, help="Folder holding the students' home folders.")

    @property
    def system_user(self) -> str:
        return f"{self.user_prefix}{self.user.name}"

    async def start(self):
        await asyncio.to_thread(
            ensure_system_user,
            self.system_user,
            Path(self.home_root) / self.user.name,
            self.student_uid,
        )
        return await super().start()

    def make_preexec_fn(self, name):
        return set_user_setuid(self.system_user)

    def user_env(self, env):
        import pwd

        entry = pwd.getpwnam(self.system_user)
        env.update(USER=self.system_user, HOME=entry.pw_dir, SHELL=entry.pw_shell)
        env["PATH"] = account_path()
        return env
