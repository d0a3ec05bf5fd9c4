"""Spawners: everything a course server needs is shared; only how the process starts differs."""

from __future__ import annotations

import asyncio
from pathlib import Path

from jupyterhub.spawner import LocalProcessSpawner, set_user_setuid
from traitlets import Dict, Float, Integer, Unicode
from traitlets.config import Configurable

from .. import gpus
from ..accounts import ensure_system_user, student_uid
from ..paths import account_path


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


try:
    from dockerspawner import DockerSpawner
except ImportError:  # local-mode installs need not have dockerspawner
    DockerSpawner = None

if DockerSpawner is not None:

    class DockerCourseSpawner(CourseSpawnerMixin, DockerSpawner):
        """A container per student from the student image, running as the student's own uid."""

        gpu_policy = Unicode("auto", config=True, help="auto | none | shared | one-each")
        gpu_ids = Unicode("", config=True, help="GPU ids handed out by one-each, e.g. 0,1")
        gpu_state_file = Unicode("", config=True, help="JSON file of one-each assignments.")
        cuda_memory_fraction = Float(
            0.0, config=True, help="Per-student CUDA memory cap (0 = none)."
        )

        _resolved_policy = None

        def resolved_gpu_policy(self) -> str:
            cls = type(self)
            if cls._resolved_policy is None:
                policy = gpus.parse_policy(self.gpu_policy)
                info = self.client.info() if policy == "auto" else {}
                cls._resolved_policy = gpus.effective_policy(policy, info, self.log)
            return cls._resolved_policy

        def gpu_requests(self) -> list[dict]:
            policy = self.resolved_gpu_policy()
            gpu_id = None
            if policy == "one-each":
                assignments = gpus.GpuAssignments(
                    Path(self.gpu_state_file), gpus.parse_gpu_ids(self.gpu_ids)
                )
                gpu_id = assignments.gpu_for(self.user.name)
            return gpus.device_requests(policy, gpu_id)

        def get_env(self):
            env = super().get_env()
            uid = str(self.student_uid)
            env.update(NB_UID=uid, NB_GID=uid, NB_USER="jovyan")
            if self.cuda_memory_fraction:
                env["COURSEHUB_CUDA_MEMORY_FRACTION"] = str(self.cuda_memory_fraction)
            return env

        async def create_object(self):
            # Requests are computed per start: one-each may assign a GPU to a new student.
            requests = await asyncio.to_thread(self.gpu_requests)
            self.extra_host_config = {**self.extra_host_config, "device_requests": requests}
            return await super().create_object()
