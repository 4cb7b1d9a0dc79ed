"""Exploration and learning-rate schedules, as plain functions of the step."""

from __future__ import annotations


def linear(start: float, end: float, step: int, duration: int) -> float:
    """``start`` -> ``end`` linearly over ``duration`` steps, then ``end``."""
    if duration <= 0:
        return end
    return start + (end - start) * min(1.0, step / duration)


def exponential(start: float, end: float, events: int, decay: float) -> float:
    """``start * decay ** events``, floored at ``end`` (the book's epsilon *= 0.995 per replay)."""
    return max(end, start * decay**events)
