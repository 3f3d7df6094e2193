"""Plugins: the registry that finds plugin code and binds a model's steps to it."""

from xrm.plugin.loader import AUTONUMBER_PLUGIN, build_pipeline, default_registry, open_environment
from xrm.plugin.registry import ENTRY_POINT_GROUP, PluginNotFoundError, PluginRegistry
from xrm.plugin.timers import TIMER_GROUP, load_timers, run_plugin_timers

__all__ = [
    "AUTONUMBER_PLUGIN",
    "ENTRY_POINT_GROUP",
    "PluginNotFoundError",
    "PluginRegistry",
    "TIMER_GROUP",
    "build_pipeline",
    "default_registry",
    "open_environment",
    "load_timers",
    "run_plugin_timers",
]
