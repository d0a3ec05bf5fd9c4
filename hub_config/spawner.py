"""How student servers start: local processes now, docker containers in docker mode."""

import sys
from pathlib import Path

from coursehub.settings import Settings

SINGLEUSER_CONFIG = Path(__file__).parent / "singleuser"
# Inside the student image: the same folder, copied there by docker/student/Dockerfile.
IMAGE_SINGLEUSER_CONFIG = "/opt/coursehub/jupyter-config"
IMAGE_EXCHANGE = "/srv/nbgrader/exchange"


def configure(c, s: Settings) -> None:
    c.Spawner.default_url = "/lab"
    c.Spawner.http_timeout = 120
    # A multi-GB image can take minutes to start the first time on a cold disk.
    c.Spawner.start_timeout = s.start_timeout
    c.CourseSpawnerMixin.uid_base = s.uid_base
    if s.mode == "local":
        c.JupyterHub.spawner_class = "coursehub.hub.spawners.LocalCourseSpawner"
        c.LocalCourseSpawner.user_prefix = s.user_prefix
        c.LocalCourseSpawner.home_root = str(s.home_root)
        c.Spawner.cmd = [str(Path(sys.executable).with_name("jupyterhub-singleuser"))]
        c.LocalCourseSpawner.course_env = {
            "JUPYTER_CONFIG_PATH": str(SINGLEUSER_CONFIG),
            "COURSEHUB_EXCHANGE_ROOT": str(s.exchange_root),
        }
    else:
        name = s.name
        c.JupyterHub.spawner_class = "coursehub.hub.spawners.DockerCourseSpawner"
        c.DockerSpawner.image = s.student_image
        c.DockerSpawner.network_name = name
        c.DockerSpawner.name_template = name + "-{username}"
        # The hub reaches student containers over the private network, not host ports.
        c.DockerSpawner.use_internal_ip = True
        # Containers are disposable; everything a student keeps is in their volume.
        c.DockerSpawner.remove = True
        c.DockerSpawner.pull_policy = "never"
        c.DockerSpawner.volumes = {
            name + "-home-{username}": "/home/jovyan",
            name + "-exchange": IMAGE_EXCHANGE,
        }
        c.DockerSpawner.read_only_volumes = {name + "-datasets": "/srv/datasets"}
        c.DockerSpawner.mem_limit = s.mem_limit
        c.DockerSpawner.cpu_limit = s.cpu_limit
        # DataLoader workers share tensors through /dev/shm; Docker's 64 MB default breaks them.
        c.DockerSpawner.extra_host_config = {"shm_size": s.shm_size}
        # The entrypoint starts as root only to take on the student's uid, then drops it.
        c.DockerSpawner.extra_create_kwargs = {"user": "0"}
        c.DockerCourseSpawner.gpu_policy = s.gpus
        c.DockerCourseSpawner.gpu_ids = ",".join(s.gpu_ids)
        c.DockerCourseSpawner.gpu_state_file = str(s.hub_dir / "gpu-assignments.json")
        c.DockerCourseSpawner.cuda_memory_fraction = s.cuda_memory_fraction
        c.DockerCourseSpawner.course_env = {
            "JUPYTER_CONFIG_PATH": IMAGE_SINGLEUSER_CONFIG,
            "COURSEHUB_EXCHANGE_ROOT": IMAGE_EXCHANGE,
            "COURSEHUB_DATASETS": "/srv/datasets",
        }
