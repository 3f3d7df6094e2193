"""Finding plugin code: explicit registration, then the ``xrm.plugins`` entry points, then
``module:attribute`` paths; anything else is a named error."""

from __future__ import annotations

import importlib
import inspect
from importlib.metadata import entry_points
from typing import Any

from xrm.data.context import ExecutionContext
from xrm.data.pipeline import PluginHandler
from xrm.errors import XrmError

__all__ = ["ENTRY_POINT_GROUP", "PluginNotFoundError", "PluginRegistry"]

ENTRY_POINT_GROUP = "xrm.plugins"


class PluginNotFoundError(XrmError):
    code = "PLUGIN_NOT_FOUND"


class PluginRegistry:
    """Implements :class:`xrm.data.PluginResolver`."""

    def __init__(self) -> None:
        self._registered: dict[str, Any] = {}

    def register(self, name: str, plugin: Any) -> None:
        """Make ``plugin`` (a class with ``execute(context)``, or a function) available as ``name``."""
        self._registered[name] = plugin

    def find(self, name: str) -> Any:
        if name in self._registered:
            return self._registered[name]
        for point in entry_points(group=ENTRY_POINT_GROUP, name=name):
            return point.load()
        if ":" in name:
            module_name, _, attribute = name.partition(":")
            try:
                return getattr(importlib.import_module(module_name), attribute)
            except (ImportError, AttributeError) as error:
                raise PluginNotFoundError(f"plugin '{name}': {error}") from error
        raise PluginNotFoundError(
            f"no plugin '{name}': not registered, no entry point of that name in group '{ENTRY_POINT_GROUP}', "
            "and not a 'module:attribute' path"
        )

    def resolve(self, name: str, configuration: dict[str, Any]) -> PluginHandler:
        """A callable taking the execution context; classes are built with the step configuration."""
        found = self.find(name)
        if inspect.isclass(found):
            parameters = inspect.signature(found).parameters
            factory: Any = found
            instance = factory(configuration) if parameters else factory()
            return _bound(instance, name)
        if hasattr(found, "execute"):
            return _bound(found, name)
        if callable(found):
            return found
        raise PluginNotFoundError(f"plugin '{name}' is neither a class with execute(context) nor a function")


def _bound(instance: Any, name: str) -> PluginHandler:
    execute = getattr(instance, "execute", None)
    if execute is None:
        raise PluginNotFoundError(f"plugin '{name}' has no execute(context) method")

    def handler(context: ExecutionContext) -> None:
        execute(context)

    return handler
