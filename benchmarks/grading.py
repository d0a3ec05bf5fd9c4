"""Benchmark: plain serial nbgrader vs the sandboxed parallel engine, same submissions.

Builds two throwaway copies of one course with the same 24 submissions of 01_tensors
(references, planted mistakes and untouched releases, each made unique), then grades:

* plain: ``nbgrader autograde`` with nbgrader's own in-process Execute (no sandbox),
  one notebook after the other;
* sandboxed: ``coursehub autograde``'s engine (dry pass, N sandboxes at once, replay pass).

and prints the total time of each, the throughput ratio and the per-submission overhead
(total minus notebook execution time). Checks that both give the same scores.

    .venv/bin/python benchmarks/grading.py [--sandbox bwrap|docker] [--jobs N] [-n 24]

Not a test: the figures depend on the machine and on whatever else runs on it.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")

from coursehub import content  # noqa: E402
from coursehub.course import Course  # noqa: E402
from coursehub.grading import sandbox_execute as sx  # noqa: E402
from coursehub.grading.backends import RunResult  # noqa: E402
from coursehub.grading.parallel import GradingRun, default_jobs  # noqa: E402

ASSIGNMENT = "01_tensors"
SANDBOX_MARK = "# Autograding (CLI and formgrader) runs student code only"


def load_mutants() -> list[dict]:
    path = REPO / "tests" / "course" / "mutants" / f"{ASSIGNMENT}.py"
    spec = importlib.util.spec_from_file_location("mutants", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.MUTANTS


def set_cell(nb, grade_id: str, source: str):
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            cell.source = source
            return
    raise KeyError(grade_id)


def submissions(solution, released, n: int) -> dict[str, nbformat.NotebookNode]:
    """n distinct notebooks: references, planted mistakes, untouched releases."""
    mutants = load_mutants()
    out = {}
    for i in range(n):
        kind = i % 8
        if kind == 7:
            nb = nbformat.from_dict(json.loads(json.dumps(released)))
        else:
            nb = nbformat.from_dict(json.loads(json.dumps(solution)))
            if kind >= 4:
                m = mutants[i % len(mutants)]
                set_cell(nb, m["cell"], m["source"])
        # every submission unique (no two identical inputs)
        for cell in nb.cells:
            if cell.metadata.get("nbgrader", {}).get("solution"):
                cell.source += f"\n# submission {i}\n"
                break
        out[f"student{i:02d}"] = nb
    return out


def make_course(root: Path, sandboxed: bool, cell_timeout: int) -> Course:
    course = Course("bench", root / "course", root / "exchange", cell_timeout=cell_timeout)
    course.root.mkdir(parents=True)
    text = course.config_text()
    if not sandboxed:
        text = text[: text.index(SANDBOX_MARK)]  # nbgrader's own Execute, in-process
    (course.root / "nbgrader_config.py").write_text(text)
    return course


def release(course: Course) -> nbformat.NotebookNode:
    """Build and generate the assignment; return the released (student) notebook."""
    content.build(ASSIGNMENT, course.root)
    course.run_nbgrader("db", "assignment", "add", ASSIGNMENT)
    course.run_nbgrader("generate_assignment", ASSIGNMENT, "--force")
    return nbformat.read(course.root / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)


def place(course: Course, notebooks: dict) -> None:
    """Put every submission where nbgrader collect would, with the release's other files."""
    release_dir = course.root / "release" / ASSIGNMENT
    for student, nb in notebooks.items():
        folder = course.root / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        for item in release_dir.iterdir():
            if item.suffix != ".ipynb":
                (shutil.copytree if item.is_dir() else shutil.copy2)(item, folder / item.name)
        nbformat.write(nb, folder / f"{ASSIGNMENT}.ipynb")
        (folder / "timestamp.txt").write_text("2026-11-22 09:00:00.000000 UTC")
        course.run_nbgrader("db", "student", "add", student)


def parse_time(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def plain_exec_seconds(course: Course) -> tuple[float, int]:
    """Cell execution time nbclient recorded (busy -> idle per cell), summed over notebooks."""
    total, n = 0.0, 0
    for path in sorted(course.root.glob(f"autograded/*/{ASSIGNMENT}/{ASSIGNMENT}.ipynb")):
        nb = nbformat.read(path, as_version=4)
        n += 1
        for cell in nb.cells:
            t = cell.metadata.get("execution", {})
            if "iopub.status.busy" in t and "iopub.status.idle" in t:
                total += parse_time(t["iopub.status.idle"]) - parse_time(t["iopub.status.busy"])
    return total, n


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sandbox", choices=("bwrap", "docker"), default="bwrap")
    parser.add_argument(
        "--image", default=os.environ.get("COURSEHUB_STUDENT_IMAGE", "coursehub/student:test")
    )
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("-n", "--submissions", type=int, default=24)
    parser.add_argument("--cell-timeout", type=int, default=300)
    parser.add_argument("--keep", action="store_true", help="keep the throwaway courses")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="coursehub-bench-"))
    try:
        plain = make_course(work / "plain", sandboxed=False, cell_timeout=args.cell_timeout)
        boxed = make_course(work / "sandboxed", sandboxed=True, cell_timeout=args.cell_timeout)
        solution_path = content.build(ASSIGNMENT, work / "scratch")
        solution = nbformat.read(solution_path, as_version=4)
        print(f"building two courses with {args.submissions} submissions of {ASSIGNMENT}...")
        released = release(plain)
        release(boxed)
        notebooks = submissions(solution, released, args.submissions)
        for course in (plain, boxed):
            place(course, notebooks)

        print(f"plain nbgrader, serial, unsandboxed: grading {len(notebooks)}...", flush=True)
        load_plain = os.getloadavg()[0]
        t0 = time.monotonic()
        proc = plain.run_nbgrader("autograde", ASSIGNMENT, "--force", check=False)
        plain_total = time.monotonic() - t0
        load_plain = (load_plain, os.getloadavg()[0])
        if proc.returncode != 0:
            print(proc.stderr[-3000:])
            return 1
        plain_exec, graded = plain_exec_seconds(plain)

        jobs = args.jobs or default_jobs()
        print(
            f"sandboxed ({args.sandbox}), {jobs} at once: grading {len(notebooks)}...", flush=True
        )
        load_boxed = os.getloadavg()[0]
        t0 = time.monotonic()
        run = GradingRun(
            boxed, ASSIGNMENT, jobs=jobs, sandbox=args.sandbox, image=args.image, force=True
        )
        results = []
        original = sx.execute

        def spy(*a, **k):
            record = original(*a, **k)
            results.append(RunResult.from_json(record["result"]))
            return record

        sx.execute = spy
        try:
            summary = run.grade()
        finally:
            sx.execute = original
        boxed_total = time.monotonic() - t0
        load_boxed = (load_boxed, os.getloadavg()[0])
        if summary.nbgrader_failed or summary.infra_failures:
            print("sandboxed run failed:", summary.nbgrader_failed, summary.infra_failures)
            return 1

        n = len(notebooks)
        cells = sum(r.exec_seconds for r in results)
        prelude = sum(r.prelude_seconds for r in results)
        walls = sum(r.wall_seconds for r in results)
        startup = sum(r.timings.get("hello", 0) for r in results)
        kernel = sum(float((r.event("ready") or {}).get("kernel_seconds") or 0) for r in results)
        teardown = sum(r.wall_seconds - r.timings.get("end", r.wall_seconds) for r in results)
        between = walls - startup - kernel - prelude - cells - teardown
        a, b = plain.scores(ASSIGNMENT), boxed.scores(ASSIGNMENT)
        same = a == b
        print()
        print(
            f"machine: {os.cpu_count()} CPUs; load average (1 min) at start/end of each run: "
            f"plain {load_plain[0]:.1f}/{load_plain[1]:.1f}, "
            f"sandboxed {load_boxed[0]:.1f}/{load_boxed[1]:.1f}"
        )
        print("  (other engineers share this machine: figures are noisy, compare with care)")
        print(f"submissions: {n} ({graded} graded by plain nbgrader), scores identical: {same}")
        print(
            f"plain nbgrader (serial, unsandboxed):  total {plain_total:7.1f} s  "
            f"= {plain_total / n:5.2f} s per submission"
        )
        print(
            f"sandboxed engine ({args.sandbox}, {jobs} jobs):     total {boxed_total:7.1f} s  "
            f"= {boxed_total / n:5.2f} s per submission"
        )
        print(f"throughput ratio (plain total / sandboxed total): {plain_total / boxed_total:.2f}x")
        print("notebook execution time (cells, summed over the submissions):")
        print(
            f"  plain:     {plain_exec:7.1f} s ({plain_exec / n:.2f} s each; the first cell "
            "imports torch)"
        )
        print(
            f"  sandboxed: {cells + prelude:7.1f} s ({(cells + prelude) / n:.2f} s each) = "
            f"{cells:.1f} s of cells + {prelude:.1f} s importing torch/numpy/autograders "
            "before the first cell (the integrity baseline; the first cell then finds "
            "torch imported)"
        )
        print("per-submission overhead = total minus notebook execution time:")
        print(
            f"  plain nbgrader:                {(plain_total - plain_exec) / n:5.2f} s "
            "(kernel start, nbgrader bookkeeping)"
        )
        per_sandbox = (walls - cells - prelude) / n
        print(
            f"  sandboxed, per sandbox:        {per_sandbox:5.2f} s = "
            f"start {startup / n:.2f} + kernel start {kernel / n:.2f} + probes/events "
            f"{between / n:.2f} + teardown {teardown / n:.2f}"
        )
        print(
            f"    of which the sandbox itself (all but the kernel start, which plain nbgrader "
            f"pays too): {per_sandbox - kernel / n:.2f} s"
        )
        slot = (boxed_total * jobs - cells - prelude) / n
        print(
            f"  sandboxed, whole pipeline:     {slot:5.2f} s "
            f"((total x {jobs} jobs - execution) / {n}; adds both nbgrader passes)"
        )
        return 0 if same else 1
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
