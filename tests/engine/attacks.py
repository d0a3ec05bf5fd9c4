"""Malicious and honest submissions of 01_tensors, built from the course's own notebooks.

Each attack is a small factory: it takes the reference solution, the released notebook and
what an attacker could know about the server (the course directory's path, a port on the
host), and returns the notebook (or the raw file text) a student would submit. Unless said
otherwise the attack code sits at the top of the first solution cell (``make_grid``) and
the rest of the notebook is correct: if the attack is contained it raises, ``make_grid``
stays undefined and the submission earns the other tasks' points (REST of FULL); an attack
that "worked" would leave FULL. Attacks that take the kernel down earn 0.

``expect`` says what the grader must do with each: the highest score it may get, and words
the student's feedback (the autograded notebook) must contain.
"""

from __future__ import annotations

import copy
import textwrap
from dataclasses import dataclass, field

from coursekit import corrupt, with_cell_source

ASSIGNMENT = "01_tensors"
FIRST_TASK = "make_grid"
TASKS = [
    "make_grid",
    "clip_negatives",
    "center_columns",
    "batch_images",
    "crop_pixels",
    "to_best_device",
    "pick_scores",
    "standardize_columns_",
    "predicted_dtypes",
]
TEST_CELLS = [f"test_{t}" for t in TASKS]
FULL = 17.0
REST = FULL - 2.0  # all but the first task (make_grid, 2 points)


@dataclass
class Context:
    course_root: str
    victim: str  # an honest student whose submission the attackers try to read
    host_port: int  # a TCP listener on the host
    host_ips: list[str] = field(default_factory=list)


@dataclass
class Case:
    name: str
    build: object  # (solution, released, ctx) -> notebook or str
    max_score: float  # the most the submission may earn
    feedback: tuple[str, ...] = ()  # each must appear in the autograded notebook (any case)
    exact: float | None = None  # honest submissions: exactly this score
    graded: bool = True  # False: refused before grading (corrupted file)
    backends: tuple[str, ...] = ("bwrap", "docker")
    feedback_by_backend: dict = field(default_factory=dict)


def cell_source(nb, grade_id: str) -> str:
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            return cell.source
    raise KeyError(grade_id)


def with_attack(solution, attack: str, cell: str = FIRST_TASK):
    """The reference solution with ``attack`` run first in solution cell ``cell``."""
    source = textwrap.dedent(attack).strip() + "\n\n" + cell_source(solution, cell)
    return with_cell_source(solution, cell, source)


def wrong_everywhere(solution):
    """Every task answered with a zero tensor (wrong, but runs)."""
    nb = solution
    stubs = {
        "make_grid": "def make_grid(rows, cols):\n    return torch.zeros(rows, cols)\n",
        "clip_negatives": "def clip_negatives(x):\n    return torch.zeros_like(x)\n",
        "center_columns": "def center_columns(x):\n    return torch.zeros_like(x)\n",
        "batch_images": "def batch_images(images):\n    return torch.zeros(len(images), 1, 1, 1)\n",
        "crop_pixels": "def crop_pixels(x, top, left, size):\n    return torch.zeros(1)\n",
        "to_best_device": "def to_best_device(x):\n    return torch.zeros(1)\n",
        "pick_scores": "def pick_scores(scores, labels):\n    return torch.zeros(1)\n",
        "standardize_columns_": "def standardize_columns_(x):\n    return torch.zeros(1)\n",
        "predicted_dtypes": "PREDICTED = {}\n",
    }
    for grade_id, source in stubs.items():
        nb = with_cell_source(nb, grade_id, source)
    return nb


# -- honest submissions -----------------------------------------------------------------


def honest_full(solution, released, ctx):
    return solution


def honest_partial(solution, released, ctx):
    # a classic mistake: int64 instead of float32 (loses task 1 only)
    return with_cell_source(
        solution,
        "make_grid",
        "def make_grid(rows, cols):\n    return torch.arange(rows * cols).reshape(rows, cols)\n",
    )


def honest_blank(solution, released, ctx):
    return released


# -- attacks on the grader's files ------------------------------------------------------


def gradebook_overwrite(solution, released, ctx):
    return with_attack(
        solution,
        f"""
        import glob, os, sqlite3
        candidates = [{ctx.course_root + "/gradebook.db"!r}, "../../../gradebook.db",
                      "../gradebook.db", "gradebook.db"]
        for top in ("/srv", "/work", "/home", "/tmp", "/root", "/var"):
            candidates += glob.glob(top + "/**/gradebook.db", recursive=True)
        hits = [p for p in candidates if os.path.exists(p)]
        if not hits:
            raise FileNotFoundError("ATTACK: no gradebook.db reachable from the notebook")
        for path in hits:
            con = sqlite3.connect(path)
            con.execute("UPDATE grade SET auto_score = 1000, manual_score = 1000")
            con.execute("DELETE FROM comment")
            con.commit()
            open(path, "ab").write(b"garbage")
        """,
    )


def read_other_submission(solution, released, ctx):
    path = f"{ctx.course_root}/submitted/{ctx.victim}/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
    return with_attack(
        solution,
        f"""
        import glob
        paths = [{path!r}, "../../{ctx.victim}/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"]
        for top in ("/srv", "/work", "/home", "/tmp", "/root", "/var"):
            paths += glob.glob(top + "/**/submitted/**/*.ipynb", recursive=True)
        stolen = None
        for p in paths:
            try:
                stolen = open(p).read()
                break
            except OSError:
                pass
        if stolen is None:
            raise FileNotFoundError("ATTACK: no other submission is readable")
        print(stolen[:2000])
        """,
    )


def read_solutions(solution, released, ctx):
    path = f"{ctx.course_root}/source/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
    return with_attack(
        solution,
        f"""
        import glob
        paths = [{path!r}, "../../../source/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"]
        for top in ("/srv", "/work", "/home", "/tmp", "/root", "/var"):
            paths += glob.glob(top + "/**/source/**/*.ipynb", recursive=True)
        found = [p for p in paths if __import__("os").path.exists(p)]
        if not found:
            raise FileNotFoundError("ATTACK: the instructor's source notebook is not readable")
        print(open(found[0]).read()[:2000])
        """,
    )


def read_hidden_tests(solution, released, ctx):
    return with_attack(
        solution,
        """
        import os
        # a line of this notebook's hidden tests (not spelled out: this cell's source is on disk)
        needle = "(1, 6), " + "(6, 1)"
        leaks = []
        skip = ("/proc", "/sys", "/usr", "/dev", "/opt/venv")
        for top, dirs, files in os.walk("/"):
            if top.startswith(skip) or "site-packages" in top or ".venv" in top:
                dirs[:] = []
                continue
            for name in files:
                path = os.path.join(top, name)
                try:
                    if needle in open(path, errors="ignore").read(5_000_000):
                        leaks.append(path)
                except OSError:
                    pass
        for pid in [p for p in os.listdir("/proc") if p.isdigit()]:
            for part in ("cmdline", "environ"):  # (fds are pipes: reading one would block)
                try:
                    data = open(f"/proc/{pid}/{part}", "rb").read(5_000_000)
                    if needle.encode() in data:
                        leaks.append(f"/proc/{pid}/{part}")
                except OSError:
                    pass
        if not leaks:
            raise FileNotFoundError("ATTACK: no hidden tests found anywhere")
        print("hidden tests in", leaks)
        """,
    )


# -- attacks on the machine -------------------------------------------------------------


def network(solution, released, ctx):
    targets = [("127.0.0.1", ctx.host_port)] + [(ip, ctx.host_port) for ip in ctx.host_ips]
    targets += [("1.1.1.1", 53), ("8.8.8.8", 53)]
    return with_attack(
        solution,
        f"""
        import socket
        reached = []
        for host, port in {targets!r}:
            try:
                socket.create_connection((host, port), timeout=2).close()
                reached.append((host, port))
            except OSError:
                pass
        try:
            socket.getaddrinfo("example.com", 80)
            reached.append("dns")
        except OSError:
            pass
        if not reached:
            raise ConnectionError("ATTACK: no network")
        print("reached", reached)
        """,
    )


def fork_bomb(solution, released, ctx):
    return with_attack(
        solution,
        """
        import os, time
        children = 0
        while True:
            pid = os.fork()
            if pid == 0:
                while True:  # every child forks on, forever
                    try:
                        os.fork()
                    except OSError:
                        time.sleep(1)  # (a kind bomb: the test machine is shared)
            children += 1
        """,
    )


def infinite_loop(solution, released, ctx):
    return with_attack(
        solution,
        """
        import signal
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # ignore the grader's interrupt
        while True:
            pass
        """,
    )


def memory_hog(solution, released, ctx):
    return with_attack(
        solution,
        """
        hog = []
        while True:
            hog.append(torch.ones(64 * 2**20 // 4))  # 64 MiB at a time, touched
        """,
    )


def output_flood(solution, released, ctx):
    return with_attack(
        solution,
        """
        import sys
        line = "x" * 1_000_000
        for _ in range(400):  # 400 MB of output, sent as it is printed
            print(line)
            sys.stdout.flush()
        """,
    )


def kill_kernel(solution, released, ctx):
    return with_attack(solution, "import os\nos._exit(0)")


def kill_grader(solution, released, ctx):
    # the kernel's parent is the sandbox's executor: kill it and everything it can see
    return with_attack(
        solution,
        """
        import os, signal
        for pid in [os.getppid()] + [int(p) for p in os.listdir("/proc") if p.isdigit()]:
            if pid != os.getpid():
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        """,
    )


# -- attacks on the tests ---------------------------------------------------------------


def edit_tests(solution, released, ctx):
    nb = wrong_everywhere(solution)
    for test in TEST_CELLS:
        nb = with_cell_source(nb, test, "pass  # tests? what tests?")
    return nb


def delete_tests(solution, released, ctx):
    nb = copy.deepcopy(wrong_everywhere(solution))
    nb.cells = [
        c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") not in TEST_CELLS
    ]
    return nb


def corrupted(solution, released, ctx):
    return corrupt(solution)


def patch_helper(solution, released, ctx):
    return with_attack(
        wrong_everywhere(solution),
        """
        import autograders, autograders.tensors
        autograders.check_tensor = autograders.tensors.check_tensor = lambda *a, **k: None
        """,
    )


def patch_helper_code(solution, released, ctx):
    return with_attack(
        wrong_everywhere(solution),
        """
        import autograders
        autograders.check_tensor.__code__ = (lambda *a, **k: None).__code__
        """,
    )


def rebind_helper(solution, released, ctx):
    # task 1 honest; after its test imported check_tensor, rebind the name to a no-op
    nb = wrong_everywhere(solution)
    nb = with_cell_source(nb, "make_grid", cell_source(solution, "make_grid"))
    return with_attack(nb, "check_tensor = lambda *a, **k: None", cell="clip_negatives")


def patch_torch(solution, released, ctx):
    return with_attack(
        wrong_everywhere(solution),
        """
        import torch
        torch.allclose = lambda *a, **k: True
        torch.equal = lambda *a, **k: True
        torch.Tensor.__eq__ = lambda self, other: torch.ones((), dtype=torch.bool)
        """,
    )


def swallow_errors(solution, released, ctx):
    return with_attack(
        wrong_everywhere(solution),
        "get_ipython().set_custom_exc((BaseException,), lambda *a, **k: None)",
    )


def blank_test_cells(solution, released, ctx):
    return with_attack(
        wrong_everywhere(solution),
        """
        def _drop_tests(lines):
            return [] if any("check_" in line for line in lines) else lines
        get_ipython().input_transformers_post.append(_drop_tests)
        """,
    )


def lying_tensor(solution, released, ctx):
    """Value-level: a Tensor subclass whose comparisons always say "equal"."""
    liar = textwrap.dedent(
        """
        class _Liar(torch.Tensor):
            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                out = super().__torch_function__(func, types, args, kwargs or {})
                name = getattr(func, "__name__", "")
                if name in ("allclose", "equal"):
                    return True
                if name in ("__eq__", "eq", "isclose", "all") and isinstance(out, torch.Tensor):
                    return torch.ones_like(out, dtype=torch.bool)
                return out


        def make_grid(rows, cols):
            return torch.zeros(rows, cols).as_subclass(_Liar)
        """
    )
    return with_cell_source(wrong_everywhere(solution), "make_grid", liar)


HONEST = [
    Case("honest-full", honest_full, FULL, exact=FULL),
    Case("honest-partial", honest_partial, FULL, exact=REST),
    Case("honest-blank", honest_blank, FULL, exact=0.0),
]

ATTACKS = [
    Case("gradebook-overwrite", gradebook_overwrite, REST, ("no gradebook.db reachable",)),
    Case("read-other-submission", read_other_submission, REST, ("no other submission",)),
    Case("read-solutions", read_solutions, REST, ("source notebook is not readable",)),
    Case("read-hidden-tests", read_hidden_tests, REST, ("no hidden tests found",)),
    Case("network", network, REST, ("ATTACK: no network",)),
    Case("fork-bomb", fork_bomb, REST, ("process limit of", "background processes")),
    Case("infinite-loop", infinite_loop, 0.0, ("time limit of", "did not stop")),
    Case(
        "memory-hog",
        memory_hog,
        REST,
        ("memory limit of",),
    ),
    # The flood is interrupted once past the hard limit, but on an idle host the kernel can
    # finish printing before the interrupt lands: then the (correct) cell stands. What must
    # hold is truncation and small feedback (test_autograded_notebooks_stay_small).
    Case("output-flood", output_flood, FULL, ("output limit of", "output truncated")),
    Case("kill-kernel", kill_kernel, 0.0, ("the kernel died",)),
    Case("kill-grader", kill_grader, 0.0, ("sandbox ended unexpectedly",)),
    Case("edit-tests", edit_tests, 0.0),
    Case("delete-tests", delete_tests, 0.0, ("was missing from the submission",)),
    Case("corrupted-notebook", corrupted, 0.0, graded=False),
    Case("patch-helper", patch_helper, 0.0, ("autograders.check_tensor",)),
    Case(
        "patch-helper-code",
        patch_helper_code,
        0.0,
        ("the code of autograders.check_tensor changed",),
    ),
    Case("rebind-helper", rebind_helper, 2.0, ("'check_tensor'", "was rebound")),
    Case("patch-torch", patch_torch, 0.0, ("torch.allclose",)),
    Case("swallow-errors", swallow_errors, 0.0, ("custom exception handler",)),
    Case("blank-test-cells", blank_test_cells, 0.0, ("changed the grading environment",)),
    Case("lying-tensor", lying_tensor, 0.0, ("expected a plain torch.Tensor",)),
]
