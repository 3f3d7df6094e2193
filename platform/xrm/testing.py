"""A few lines to run a plugin against a real, throw-away environment (for plugin developers).

    from xrm.testing import plugin_test_environment

    def stamp(context):
        context.target["description"] = "checked"

    env = plugin_test_environment(
        "case",
        plugins={"my_stamp": stamp},
        steps=[{"name": "stamp", "plugin": "my_stamp", "message": "create", "entity": "incident", "stage": 20}],
    )
    service = env.service()
    ...

The database is SQLite in memory (one connection shared by every call, so use it from one thread);
the system layer and the named solutions are installed, your plugins registered, and your steps
bound exactly as a solution's ``plugins.yaml`` would bind them.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.pool import StaticPool

from xrm.data import Environment
from xrm.plugin import PluginRegistry, open_environment
from xrm.schema import open_engine
from xrm.solution import SolutionManager, load_definition

__all__ = ["plugin_test_environment"]


def _steps_solution(steps: Iterable[Mapping[str, Any]], depends_on: list[str]) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="xrm-test-steps-"))
    manifest = {
        "name": "test_steps", "display_name": "Test steps", "version": "1.0.0",
        "publisher": {"name": "Tests", "prefix": "test"}, "dependencies": [{"name": name} for name in depends_on],
    }  # fmt: skip
    (folder / "solution.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    (folder / "plugins.yaml").write_text(yaml.safe_dump({"steps": [dict(step) for step in steps]}, sort_keys=False))
    return folder


def plugin_test_environment(
    *solutions: str | Path,
    plugins: Mapping[str, Any] | None = None,
    steps: Iterable[Mapping[str, Any]] = (),
    database_url: str = "sqlite://",
) -> Environment:
    """Install ``solutions`` into a fresh database, register ``plugins`` by name, bind ``steps``."""
    kwargs: dict[str, Any] = {"poolclass": StaticPool} if database_url == "sqlite://" else {}
    engine = open_engine(database_url, **kwargs)
    manager = SolutionManager(engine)
    manager.initialize()
    names = []
    for source in solutions:
        manager.install(source)
        names.append(load_definition(source).name)
    steps = list(steps)
    if steps:
        manager.install(_steps_solution(steps, names))
    registry = PluginRegistry()
    for name, plugin in (plugins or {}).items():
        registry.register(name, plugin)
    return open_environment(engine, registry)
