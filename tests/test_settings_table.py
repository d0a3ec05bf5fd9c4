"""The settings table is the one source: .env.example, README and the compose file follow it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from coursehub import settings_table as table
from coursehub.errors import CoursehubError
from coursehub.settings import PARSERS, load_settings

ROOT = Path(__file__).resolve().parents[1]
NAME = re.compile(r"COURSEHUB_[A-Z_]+")
SCANNED = ("scripts", "hub_config", "docker", "docker-compose.yml")
# Compose mounts /dev/null where no certificate is given: a placeholder, not the setting's default.
MOUNT_PLACEHOLDERS = {("COURSEHUB_TLS_CERT", "/dev/null"), ("COURSEHUB_TLS_KEY", "/dev/null")}


def test_env_example_is_the_generated_text():
    assert (ROOT / ".env.example").read_text() == table.env_example(), (
        "regenerate: python -m coursehub.settings env-example > .env.example"
    )


def test_readme_table_is_the_generated_table():
    readme = (ROOT / "README.md").read_text()
    block = re.search(
        r"<!-- settings-table:start -->\n(.*?)<!-- settings-table:end -->", readme, re.S
    )
    assert block, "README.md lost its settings-table markers"
    assert block.group(1) == table.markdown(), (
        "regenerate the block: python -m coursehub.settings markdown"
    )


def declared(name: str) -> bool:
    if name in table.BY_KEY or name in table.INTERNAL:
        return True
    # COURSEHUB_LATE_POLICY_ (an f-string's prefix) is the COURSEHUB_LATE_POLICY_<COURSE> row.
    return name.endswith("_") and any(s.pattern and s.key.startswith(name) for s in table.SETTINGS)


def test_every_coursehub_name_in_the_code_is_in_the_table_or_internal():
    paths = [ROOT / p for p in SCANNED]
    files = [f for p in paths for f in ([p] if p.is_file() else p.rglob("*"))]
    undeclared = set()
    for f in files:
        if not f.is_file() or "__pycache__" in f.parts:
            continue
        try:
            text = f.read_text()
        except UnicodeDecodeError:
            continue
        undeclared |= {(n, str(f.relative_to(ROOT))) for n in NAME.findall(text) if not declared(n)}
    assert not undeclared, "add to settings_table.SETTINGS (or INTERNAL): " + str(
        sorted(undeclared)
    )


def test_compose_defaults_are_the_table_defaults():
    compose = (ROOT / "docker-compose.yml").read_text()
    found = re.findall(r"\$\{([A-Z_]+):-([^}]*)\}", compose)
    assert found
    wrong = [
        (key, default, table.BY_KEY[key].default)
        for key, default in found
        if key in table.BY_KEY
        and (key, default) not in MOUNT_PLACEHOLDERS
        and default != table.BY_KEY[key].default
    ]
    assert not wrong, wrong


def test_compose_passes_the_hub_every_setting_it_reads_from_env_example():
    hub_env = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["hub"][
        "environment"
    ]
    needed = {
        s.key for s in table.SETTINGS if s.example == "line" and s.attr and s.section != table.LOCAL
    }
    assert needed - set(hub_env) == set()


# One bad value of each kind, and how its one-line error starts.
BAD = {
    "int": ("COURSEHUB_CULL_TIMEOUT", "soon", "COURSEHUB_CULL_TIMEOUT='soon': expected a whole"),
    "port": ("COURSEHUB_PORT", "99999", "COURSEHUB_PORT='99999': expected a port"),
    "seconds": ("COURSEHUB_DB_WAIT", "x", "COURSEHUB_DB_WAIT='x': expected a number of seconds"),
    "number": ("COURSEHUB_CPU_LIMIT", "two", "COURSEHUB_CPU_LIMIT='two': expected a number"),
    "fraction": ("COURSEHUB_CUDA_MEMORY_FRACTION", "1.5", "COURSEHUB_CUDA_MEMORY_FRACTION='1.5'"),
    "size": ("COURSEHUB_MEM_LIMIT", "lots", "COURSEHUB_MEM_LIMIT='lots': expected a size"),
    "gpu_ids": ("COURSEHUB_GPU_IDS", "0,1,0", "COURSEHUB_GPU_IDS='0,1,0': an id appears twice"),
    "courses": ("COURSEHUB_COURSES", "Py Torch", "course id 'Py Torch': use lower-case"),
    "choice": ("COURSEHUB_TLS", "maybe", "COURSEHUB_TLS='maybe': expected one of off, acme, own"),
}


def test_every_kind_that_can_be_wrong_has_a_bad_value_here():
    kinds = {s.kind for s in table.SETTINGS} - {"str", "csv"}
    assert kinds <= set(BAD) and kinds | {"str", "csv"} <= {*PARSERS, "choice"}


@pytest.mark.parametrize("kind", sorted(BAD))
def test_a_bad_value_of_each_kind_is_one_line_naming_it(kind, tmp_path):
    key, value, message = BAD[kind]
    with pytest.raises(CoursehubError) as raised:
        load_settings({key: value}, dotenv=tmp_path / "none")
    assert str(raised.value).startswith(message) and "\n" not in str(raised.value)


def test_empty_means_the_default_but_an_empty_list_stays_empty(tmp_path):
    s = load_settings(
        {"COURSEHUB_CULL_TIMEOUT": "", "COURSEHUB_GPUS": "", "COURSEHUB_COURSES": ""},
        dotenv=tmp_path / "none",
    )
    assert (s.cull_timeout, s.gpus, s.courses) == (3600, "auto", ())
    s = load_settings(
        {"COURSEHUB_GPUS": "One-Each", "COURSEHUB_GPU_IDS": " 0, 2"}, dotenv=tmp_path / "none"
    )
    assert (s.gpus, s.gpu_ids) == ("one-each", ("0", "2"))


def test_generators_print_the_texts(capsys):
    from coursehub.settings import main

    assert main(["env-example"]) == 0 and capsys.readouterr().out == table.env_example()
    assert main(["markdown"]) == 0 and capsys.readouterr().out == table.markdown()
    assert main(["html"]) == 2 and "usage:" in capsys.readouterr().err
