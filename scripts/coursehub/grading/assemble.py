"""The executed notebook, built on the trusted side from the input and the sandbox's events.

Only outputs are taken from the sandbox; sources and metadata stay the instructor's.
"""

from __future__ import annotations

import copy

from .payload.messages import STOP_MESSAGES, error_output, is_test_cell


def assemble(nb: dict, events: list[dict], context: dict | None = None) -> tuple[dict, dict]:
    """The executed notebook built from the trusted input and the executor's events.

    Returns (notebook dict, summary). Only outputs of cells reported ``done`` are taken
    from the sandbox; sources and metadata stay the trusted ones. When execution stopped
    (timeout, OOM, death) the running cell gets an error output saying why, and every
    graded test cell that did not run gets one too, so nbgrader scores it 0.
    """
    context = context or {}
    out = copy.deepcopy(nb)
    cells = out.get("cells", [])
    done: dict[int, dict] = {}
    running = None
    tamper = None
    stop = None
    ended = False
    exec_seconds = 0.0
    for ev in events:
        kind = ev.get("ev")
        if kind == "start":
            running = ev.get("cell")
        elif kind == "done" and isinstance(ev.get("cell"), int):
            done[ev["cell"]] = ev
            running = None
        elif kind == "tamper" and tamper is None:
            tamper = ev
        elif kind == "stop":
            stop = ev
        elif kind == "end":
            ended = True
            exec_seconds = float(ev.get("exec_seconds") or 0)
    failure = context.get("failure")  # set by the trusted side: timeout, oom, sandbox...
    if stop:
        running = stop.get("cell", running)
    if stop and not failure:
        failure = {"reason": stop.get("reason", "died"), "detail": stop.get("detail", "")}
    if not ended and not failure:
        failure = {"reason": "sandbox", "detail": "the grading sandbox ended unexpectedly"}
    message = None
    if failure:
        ename, template = STOP_MESSAGES.get(failure["reason"], STOP_MESSAGES["sandbox"])
        message = (
            ename,
            template.format(
                limit=context.get("limit", "the sandbox"),
                memory=context.get("memory", "the sandbox"),
                detail=failure.get("detail") or "the grading sandbox ended unexpectedly",
            ),
        )
    first_test = next((i for i, c in enumerate(cells) if is_test_cell(c)), None)
    placed = False
    for index, cell in enumerate(cells):
        if cell.get("cell_type") != "code":
            continue
        rec = done.get(index)
        cell["outputs"] = []
        cell["execution_count"] = None
        if rec is not None:
            cell["outputs"] = [o for o in rec.get("outputs", []) if _valid_output(o)]
            count = rec.get("execution_count")
            cell["execution_count"] = count if isinstance(count, int) else None
        if message and rec is None:
            if index == running:
                cell["outputs"].append(
                    error_output(message[0], message[1], "This cell did not finish.")
                )
                placed = True
            elif is_test_cell(cell):
                where = f"in cell {running + 1}" if running is not None else "before this cell"
                cell["outputs"].append(
                    error_output(
                        "NotRun",
                        f"this test did not run: {message[1]} ({where})",
                    )
                )
                placed = placed or index == first_test
        if tamper is not None and is_test_cell(cell) and index >= tamper.get("cell", 0):
            what = "; ".join(tamper.get("what") or ["the grading environment was modified"])
            cell["outputs"].append(
                error_output(
                    "GraderTampering",
                    f"before this test ran, the grader found that the notebook's code had "
                    f"changed the grading environment: {what}",
                    "Tests from here on score 0. If you did not mean to do this, tell your "
                    "instructor.",
                )
            )
    if message and not placed and first_test is not None and running is None:
        cells[first_test]["outputs"].append(error_output(message[0], message[1]))
    summary = {
        "status": (failure or {}).get("reason", "ok"),
        "detail": message[1] if message else "",
        "tampering": (tamper or {}).get("what") or [],
        "exec_seconds": exec_seconds,
        "cells_done": len(done),
    }
    return out, summary


_OUTPUT_TYPES = {"stream", "display_data", "execute_result", "error"}


def _valid_output(o) -> bool:
    return isinstance(o, dict) and o.get("output_type") in _OUTPUT_TYPES


# ---------------------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------------------
