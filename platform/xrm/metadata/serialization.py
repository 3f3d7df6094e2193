"""Solution definitions to plain data (for the database) and to YAML folders (for export)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from xrm.metadata.components import (
    PluginStepMetadata,
)
from xrm.metadata.entity import EntityMetadata
from xrm.metadata.loader import COMPONENT_FOLDERS, MANIFEST_FILE, PLUGINS_FILE
from xrm.metadata.solution import SolutionDefinition, SolutionManifest

__all__ = ["definition_to_data", "definition_from_data", "write_solution_folder", "dump_component"]

_KINDS: dict[str, type[BaseModel]] = {**COMPONENT_FOLDERS, "steps": PluginStepMetadata}


def dump_component(component: BaseModel) -> dict[str, Any]:
    """Plain data without defaults; names that are mapping keys are not repeated inside."""
    data = component.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    if isinstance(component, EntityMetadata):
        for section in ("attributes", "keys", "relationships", "many_to_many"):
            for item in data.get(section, {}).values():
                item.pop("name", None)
    return data


def definition_to_data(definition: SolutionDefinition) -> dict[str, Any]:
    data: dict[str, Any] = {"manifest": dump_component(definition.manifest)}
    for kind in _KINDS:
        items = getattr(definition, kind)
        if items:
            data[kind] = [dump_component(item) for item in items]
    return data


def definition_from_data(data: dict[str, Any]) -> SolutionDefinition:
    components = {
        kind: tuple(model.model_validate(item) for item in data.get(kind, ())) for kind, model in _KINDS.items()
    }
    return SolutionDefinition(manifest=SolutionManifest.model_validate(data["manifest"]), **components)  # type: ignore[arg-type]


def _file_name(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name.lower()).strip("_") + ".yaml"


def _write(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110), encoding="utf-8")


def write_solution_folder(definition: SolutionDefinition, folder: Path) -> list[Path]:
    """Write a solution as a folder that :func:`load_solution` reads back to an equal definition."""
    written = [folder / MANIFEST_FILE]
    _write(written[0], dump_component(definition.manifest))
    for kind in COMPONENT_FOLDERS:
        for item in getattr(definition, kind):
            name = item.logical_name if kind == "entities" else item.name
            prefix = f"{item.entity}_" if kind in ("forms", "views") else ""
            path = folder / kind / _file_name(prefix + name)
            _write(path, dump_component(item))
            written.append(path)
    if definition.steps:
        path = folder / PLUGINS_FILE
        _write(path, {"steps": [dump_component(step) for step in definition.steps]})
        written.append(path)
    return written
