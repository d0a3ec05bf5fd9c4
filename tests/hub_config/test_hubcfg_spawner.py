"""How student servers start: local processes, or docker containers with the set limits."""

from hub_config import spawner


def test_local_mode_spawns_processes_under_prefixed_accounts(config, settings):
    s = settings(COURSEHUB_USER_PREFIX="st-", COURSEHUB_START_TIMEOUT="42")
    spawner.configure(config, s)
    assert config.JupyterHub.spawner_class.endswith("LocalCourseSpawner")
    assert config.LocalCourseSpawner.user_prefix == "st-"
    assert config.LocalCourseSpawner.home_root == str(s.home_root)
    assert config.LocalCourseSpawner.course_env["COURSEHUB_EXCHANGE_ROOT"] == str(s.exchange_root)
    assert config.Spawner.start_timeout == 42
    assert "DockerSpawner" not in config


def test_docker_mode_spawns_containers_with_the_set_image_limits_and_gpus(config, settings):
    s = settings(
        COURSEHUB_MODE="docker",
        COURSEHUB_NAME="chx",
        COURSEHUB_STUDENT_IMAGE="me/student:1",
        COURSEHUB_MEM_LIMIT="4G",
        COURSEHUB_CPU_LIMIT="1.5",
        COURSEHUB_SHM_SIZE="1g",
        COURSEHUB_GPUS="one-each",
        COURSEHUB_GPU_IDS="2,3",
        COURSEHUB_CUDA_MEMORY_FRACTION="0.25",
    )
    spawner.configure(config, s)
    d, dc = config.DockerSpawner, config.DockerCourseSpawner
    assert config.JupyterHub.spawner_class.endswith("DockerCourseSpawner")
    assert (d.image, d.network_name, d.name_template) == ("me/student:1", "chx", "chx-{username}")
    assert d.volumes == {
        "chx-home-{username}": "/home/jovyan",
        "chx-exchange": "/srv/nbgrader/exchange",
    }
    assert d.read_only_volumes == {"chx-datasets": "/srv/datasets"}
    assert (d.mem_limit, d.cpu_limit, d.extra_host_config) == ("4G", 1.5, {"shm_size": "1g"})
    assert (dc.gpu_policy, dc.gpu_ids, dc.cuda_memory_fraction) == ("one-each", "2,3", 0.25)
    assert dc.gpu_state_file == str(s.hub_dir / "gpu-assignments.json")
    assert config.Spawner.start_timeout == 600


def test_docker_defaults_are_the_tables(config, settings):
    spawner.configure(config, settings(COURSEHUB_MODE="docker"))
    d = config.DockerSpawner
    assert (d.image, d.mem_limit, d.cpu_limit) == ("coursehub/student:latest", "8G", 2.0)
    assert config.DockerCourseSpawner.gpu_policy == "auto"
