"""Imports run one way between the trust zones the tree shows (ARCHITECTURE.md)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CORE = REPO / "scripts" / "coursehub"
GRADING = CORE / "grading"
PAYLOAD = GRADING / "payload"
# What the student image and the sandbox have besides the standard library.
SANDBOX_LIBRARIES = {"nbformat", "nbclient", "jupyter_client"}
# Modules above the engine: the CLI and the processes that serve it.
ABOVE_GRADING = {"cli", "hub", "supervise", "doctor", "health", "backup", "restore", "status"}


def imports(path: Path) -> list[tuple[str, int]]:
    """(absolute module name, line) of every import in one file."""
    root = REPO / "scripts" if REPO / "scripts" in path.parents else REPO
    package = ".".join(path.relative_to(root).with_suffix("").parts[:-1])
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module
            found.append((module, node.lineno))
            found += [(f"{module}.{alias.name}", node.lineno) for alias in node.names]
    return found


def imports_coursehub(node: ast.AST) -> bool:
    if isinstance(node, ast.ImportFrom):
        return bool(node.level) or (node.module or "").startswith("coursehub")
    return isinstance(node, ast.Import) and any(a.name.startswith("coursehub") for a in node.names)


def py_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


@pytest.mark.parametrize("path", py_files(GRADING), ids=lambda p: str(p.relative_to(REPO)))
def test_the_grading_engine_never_imports_the_cli_or_the_hub(path):
    bad = [
        (name, line)
        for name, line in imports(path)
        if name.split(".")[:2] in (["coursehub", top] for top in ABOVE_GRADING)
    ]
    assert not bad, f"{path.name} imports from above the engine: {bad}"


@pytest.mark.parametrize("path", py_files(PAYLOAD), ids=lambda p: p.name)
def test_the_sandbox_payload_needs_only_the_stdlib_and_the_notebook_libraries(path):
    allowed = set(sys.stdlib_module_names) | SANDBOX_LIBRARIES | {"coursehub_payload"}
    bad = []
    for name, line in imports(path):
        top = name.split(".")[0]
        inside_payload = name.startswith("coursehub.grading.payload")
        if top not in allowed and not inside_payload:
            bad.append((name, line))
    assert not bad, f"{path.name} imports what a sandbox does not have: {bad}"


@pytest.mark.parametrize(
    "folder", [REPO / "autograders", REPO / "scripts" / "coursehub_student"], ids=lambda p: p.name
)
def test_student_side_packages_import_nothing_trusted(folder):
    bad = [
        (path.name, name, line)
        for path in py_files(folder)
        for name, line in imports(path)
        if name.split(".")[0] == "coursehub"
    ]
    assert not bad, f"student-side code imports the trusted package: {bad}"


def test_trusted_code_never_imports_the_checks():
    # The checks import torch; the hub image and the grading engine must not need it.
    bad = [
        (str(path.relative_to(REPO)), line)
        for path in py_files(CORE)
        for name, line in imports(path)
        if name.split(".")[0] == "autograders"
    ]
    assert not bad, f"trusted code imports autograders: {bad}"


@pytest.mark.parametrize("path", py_files(CORE), ids=lambda p: str(p.relative_to(REPO)))
def test_no_import_is_hidden_behind_a_broad_except(path):
    # coursehub's own modules imported inside `try/except Exception` hide a broken setting
    # (COURSEHUB_GPUS=bogus) behind a silent fallback.
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Try):
            continue
        broad = any(
            h.type is None or (isinstance(h.type, ast.Name) and h.type.id == "Exception")
            for h in node.handlers
        )
        guarded = [n for stmt in node.body for n in ast.walk(stmt)]
        own = [
            n
            for n in guarded
            if isinstance(n, ast.ImportFrom)
            and (n.level or (n.module or "").startswith("coursehub"))
            or isinstance(n, ast.Import)
            and any(a.name.startswith("coursehub") for a in n.names)
        ]
        if broad and own:
            pytest.fail(
                f"{path.name}:{node.lineno}: a coursehub import inside try/except Exception"
            )
