"""Property checks on training: reaches a metric within a time budget, overfits one batch."""

from __future__ import annotations

import math
import time

import torch

from ._format import fmt_value, type_name
from .determinism import seed_everything

__all__ = ["check_overfits_batch", "check_trains"]


def check_trains(
    train_fn,
    metric_fn,
    *,
    threshold: float,
    higher_is_better: bool = True,
    budget_s: float = 30.0,
    seed: int = 0,
    name: str = "model",
) -> float:
    """Seed, run `train_fn()`, and check `metric_fn(result)` against `threshold` within `budget_s`.

    Only `train_fn` is timed. Returns the metric as a float: assign it in a test cell, as
    nbgrader reads a number left as a cell's last expression as partial credit.
    """
    seed_everything(seed)
    start = time.perf_counter()
    trained = train_fn()
    elapsed = time.perf_counter() - start
    metric = _as_float(metric_fn(trained), "metric_fn")

    problems = []
    if math.isnan(metric):
        problems.append(
            f"{name}: the metric is nan.\n"
            "Hint: training probably diverged; try a smaller learning rate, and check the loss."
        )
    elif (metric < threshold) if higher_is_better else (metric > threshold):
        need = ">=" if higher_is_better else "<="
        problems.append(
            f"{name}: metric {fmt_value(metric)} does not reach the threshold "
            f"(needs {need} {fmt_value(threshold)}).\n"
            "Hint: check the loss goes down; tune the learning rate, epochs or model size."
        )
    if elapsed > budget_s:
        problems.append(
            f"{name}: training took {elapsed:.3g} s, more than the {budget_s:g} s budget.\n"
            "Hint: train for fewer epochs or use a smaller model; use in_grader() to shrink "
            "training when the grader runs."
        )
    if problems:
        raise AssertionError("\n".join(problems))
    return metric


def check_overfits_batch(
    model_fn,
    x,
    y,
    loss_fn,
    *,
    steps: int = 200,
    lr: float = 1e-2,
    target: float = 1e-2,
    seed: int = 0,
) -> float:
    """Check that a fresh `model_fn()` can drive `loss_fn(model(x), y)` to `target` with Adam.

    A correct model memorises one small batch; failing to is a strong sign of a bug.
    Stops early once the target is reached; returns the lowest loss seen.
    """
    seed_everything(seed)
    model = model_fn()
    if not isinstance(model, torch.nn.Module):
        raise AssertionError(
            f"model_fn should return an nn.Module, got {type_name(model)}.\n"
            "Hint: did you forget to return the model?"
        )
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    if not named:
        raise AssertionError(
            "model has no trainable parameters, so it cannot learn anything.\n"
            "Hint: layers must be attributes of self (or in nn.ModuleList), weights nn.Parameter."
        )
    model.train()
    optimizer = _Adam([p for _, p in named], lr=lr)
    first = best = last = None
    for step in range(steps):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        last = _as_float(loss, "loss_fn")
        if first is None:
            first = last
        if math.isnan(last):
            raise AssertionError(
                f"the loss became nan at step {step} (it started at {fmt_value(first)}).\n"
                "Hint: look for log(0), division by zero or exploding values in forward."
            )
        best = last if best is None else min(best, last)
        if last <= target:
            return best
        if not loss.requires_grad:
            raise AssertionError(
                "the loss is not connected to the model's parameters (no gradient).\n"
                "Hint: avoid .detach(), .item(), .numpy() or torch.tensor(...) in forward."
            )
        loss.backward()
        if step == 0:
            _check_grads_flow(named)
        optimizer.step()
    raise AssertionError(
        f"the model could not overfit a single batch of {len(x)} examples: the loss went from "
        f"{fmt_value(first)} to {fmt_value(last)} in {steps} steps (target <= "
        f"{fmt_value(target)}).\n"
        "Hint: a correct model memorises one batch easily; check that forward uses every layer, "
        "nothing is detached, and the loss gets raw logits (CrossEntropyLoss applies softmax)."
    )


class _Adam:
    """Plain Adam (as torch.optim.Adam with defaults).

    torch.optim's first optimizer imports torch._dynamo, which takes seconds; this check may
    be the first thing in a grading kernel to train.
    """

    def __init__(self, params, lr: float, betas=(0.9, 0.999), eps: float = 1e-8):
        self.params, self.lr, self.betas, self.eps = list(params), lr, betas, eps
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]
        self.t = 0

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        self.t += 1
        b1, b2 = self.betas
        for p, m, v in zip(self.params, self.m, self.v, strict=True):
            if p.grad is None:
                continue
            m.mul_(b1).add_(p.grad, alpha=1 - b1)
            v.mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
            m_hat = m / (1 - b1**self.t)
            v_hat = v / (1 - b2**self.t)
            p.sub_(self.lr * m_hat / (v_hat.sqrt() + self.eps))


def _check_grads_flow(named) -> None:
    dead = [n for n, p in named if p.grad is None]
    if dead:
        shown = ", ".join(dead[:5]) + (", ..." if len(dead) > 5 else "")
        raise AssertionError(
            f"these parameters got no gradient: {shown}.\n"
            "Hint: they are not used in forward, or their result is detached."
        )


def _as_float(value, what: str) -> float:
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise AssertionError(
                f"{what} should return a single number, got a tensor of shape "
                f"{tuple(value.shape)}.\nHint: reduce it with .mean()."
            )
        return float(value.detach().reshape(()))
    try:
        return float(value)
    except (TypeError, ValueError):
        raise AssertionError(
            f"{what} should return a single number, got {type_name(value)}."
        ) from None
