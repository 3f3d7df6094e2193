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
from xrm.metadata import Model
from xrm.plugin import PluginRegistry, open_environment
from xrm.schema import open_engine
from xrm.solution import SolutionManager, load_definition, system_layer_path

__all__ = ["plugin_test_environment", "synthetic_model"]


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


def synthetic_model(entities: int = 500, attributes: int = 20) -> Model:
    """A generated model for scale tests: ``entities`` entities of ``attributes`` attributes each
    (every common type, two lookups, a customer, a calculated and a rollup attribute, N:N on every
    tenth), on top of the system layer."""
    from xrm.metadata import EntityMetadata, SolutionDefinition, SolutionManifest, compile_model

    options = [{"value": value, "label": f"Option {value}"} for value in range(1, 6)]
    fixed: dict[str, Any] = {
        "syn_name": {"type": "string", "required": "required"},
        "syn_code": {"type": "string", "max_length": 20},
        "syn_email": {"type": "string", "format": "email"},
        "syn_notes": {"type": "memo"},
        "syn_count": {"type": "integer"},
        "syn_big": {"type": "bigint"},
        "syn_amount": {"type": "money"},
        "syn_ratio": {"type": "decimal", "precision": 4},
        "syn_score": {"type": "float"},
        "syn_flag": {"type": "boolean"},
        "syn_day": {"type": "datetime", "behavior": "date_only"},
        "syn_when": {"type": "datetime"},
        "syn_kind": {"type": "choice", "options": options},
        "syn_tags": {"type": "multichoice", "options": options},
        "syn_external": {"type": "uniqueidentifier"},
        "syn_label": {"type": "calculated", "result_type": "string", "expression": "concat(syn_name, '-', syn_code)"},
    }

    def entity(index: int) -> EntityMetadata:
        name = f"syn_e{index:03d}"
        values: dict[str, Any] = dict(list(fixed.items())[: max(1, attributes - 4)])
        values["syn_previousid"] = {"type": "lookup", "target": f"syn_e{(index - 1) % entities:03d}"}
        values["syn_otherid"] = {"type": "lookup", "target": f"syn_e{(index * 7 + 3) % entities:03d}"}
        values["syn_customerid"] = {"type": "customer"}
        values["syn_children"] = {
            "type": "rollup", "related_entity": f"syn_e{(index + 1) % entities:03d}", "lookup": "syn_previousid", "aggregate": "count",
        }  # fmt: skip
        definition: dict[str, Any] = {
            "logical_name": name,
            "primary_name": "syn_name",
            "attributes": values,
            "relationships": {
                f"{name}_previous": {"lookup": "syn_previousid"},
                f"{name}_other": {"lookup": "syn_otherid"},
                f"{name}_customer_accounts": {"lookup": "syn_customerid", "target": "account"},
            },
        }
        if index % 10 == 0:
            definition["many_to_many"] = {f"{name}_peers": {"entity": f"syn_e{(index + 5) % entities:03d}"}}
        return EntityMetadata.model_validate(definition)

    manifest = SolutionManifest.model_validate(
        {
            "name": "synthetic",
            "display_name": "Synthetic",
            "version": "1.0.0",
            "publisher": {"name": "Synthetic", "prefix": "syn"},
        }
    )
    solution = SolutionDefinition(manifest, entities=tuple(entity(index) for index in range(entities)))
    return compile_model([load_definition(system_layer_path()), solution])
