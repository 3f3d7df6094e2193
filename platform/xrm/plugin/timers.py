"""Timers: functions plugins publish (entry-point group ``xrm.timers``) for the job worker to call
periodically with the current environment, e.g. the SLA check that escalates overdue KPIs.

A timer manages its own transactions (the SLA check commits each instance on its own). Work that
fits one transaction binds a plugin step to the ``timer`` message instead (see
:func:`xrm.data.jobs.run_timers`), as scheduled workflows do; the worker runs both each round."""

from __future__ import annotations

import logging
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

from xrm.data.environment import Environment

__all__ = ["TIMER_GROUP", "Timer", "load_timers", "run_plugin_timers"]

log = logging.getLogger(__name__)

TIMER_GROUP = "xrm.timers"

Timer = Callable[[Environment], Any]


def load_timers() -> dict[str, Timer]:
    """The timers of the installed plugin packages, by entry-point name; one that fails to load is logged."""
    timers: dict[str, Timer] = {}
    for point in entry_points(group=TIMER_GROUP):
        try:
            timers[point.name] = point.load()
        except Exception:
            log.exception("timer '%s' (%s) could not be loaded", point.name, point.value)
    return timers


def run_plugin_timers(environment: Environment, timers: dict[str, Timer]) -> None:
    """Call every timer once; a failing timer is logged and does not stop the others."""
    for name, timer in timers.items():
        try:
            timer(environment)
        except Exception:
            log.exception("timer '%s' failed", name)
