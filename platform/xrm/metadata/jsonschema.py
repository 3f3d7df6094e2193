"""JSON Schemas of the metadata files, for editors (``# yaml-language-server: $schema=...``).

Each schema is pydantic's ``model_json_schema()`` of the file's model, adjusted where the YAML is
shorter than the model: the items of an entity's keyed sections take their ``name`` from the key,
and form cells and view columns may be written as a bare name.
"""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import BaseModel

from xrm.metadata._base import NAME_PATTERN
from xrm.metadata.calendar import CalendarMetadata
from xrm.metadata.components import (
    ActionMetadata,
    FieldSecurityProfileMetadata,
    FormMetadata,
    OptionSetMetadata,
    PluginStepsMetadata,
    RoleMetadata,
    ViewMetadata,
)
from xrm.metadata.entity import EntityMetadata
from xrm.metadata.process import BusinessProcessFlowMetadata
from xrm.metadata.sla import SlaMetadata
from xrm.metadata.solution import SolutionManifest
from xrm.metadata.workflow import WorkflowMetadata

__all__ = ["SCHEMA_MODELS", "SCHEMA_DIALECT", "schema_file", "schema_for", "export_schemas", "kind_of"]

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

SCHEMA_MODELS: dict[str, type[BaseModel]] = {
    "solution": SolutionManifest,
    "entity": EntityMetadata,
    "optionset": OptionSetMetadata,
    "form": FormMetadata,
    "view": ViewMetadata,
    "role": RoleMetadata,
    "action": ActionMetadata,
    "field_security_profile": FieldSecurityProfileMetadata,
    "calendar": CalendarMetadata,
    "sla": SlaMetadata,
    "process": BusinessProcessFlowMetadata,
    "workflow": WorkflowMetadata,
    "plugins": PluginStepsMetadata,
}

# Folder of a solution -> kind of the files in it; the two top-level files have their own kinds.
_FOLDER_KINDS = {
    "entities": "entity",
    "optionsets": "optionset",
    "forms": "form",
    "views": "view",
    "roles": "role",
    "actions": "action",
    "field_security_profiles": "field_security_profile",
    "calendars": "calendar",
    "slas": "sla",
    "processes": "process",
    "workflows": "workflow",
}
_FILE_KINDS = {"solution.yaml": "solution", "plugins.yaml": "plugins"}

# Mappings keyed by name: the item's ``name`` comes from its key, so the file never spells it.
_KEYED_SECTIONS = ("attributes", "keys", "relationships", "many_to_many")
# Models that also accept a bare string, standing for the named field.
_SHORTHANDS = {"FormCell": "field", "ViewColumnMetadata": "name"}


def schema_file(kind: str) -> str:
    """The file name of a kind's schema: ``entity.schema.json``."""
    return f"{kind}.schema.json"


def kind_of(relative: str | PurePosixPath) -> str | None:
    """The kind of a file given its path inside a solution folder, or None if it is no metadata file."""
    parts = PurePosixPath(relative).parts
    if len(parts) == 1:
        return _FILE_KINDS.get(parts[0])
    if len(parts) == 2 and parts[1].endswith((".yaml", ".yml")):
        return _FOLDER_KINDS.get(parts[0])
    return None


def schema_for(kind: str) -> dict[str, Any]:
    """The JSON Schema of one kind of metadata file."""
    model = SCHEMA_MODELS[kind]
    schema = model.model_json_schema(mode="validation")
    definitions: dict[str, Any] = schema.get("$defs", {})
    if model is EntityMetadata:
        for section in _KEYED_SECTIONS:
            item = schema["properties"][section].get("additionalProperties", {})
            for name in _referenced(item):
                _drop_name(definitions[name])
    for name, field in _SHORTHANDS.items():
        if name in definitions:
            definitions[name] = _with_shorthand(definitions[name], field)
    return {"$schema": SCHEMA_DIALECT, **schema}


def export_schemas(directory: Path) -> list[Path]:
    """Write one ``<kind>.schema.json`` per kind into ``directory``; returns the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in SCHEMA_MODELS:
        path = directory / schema_file(kind)
        text = json.dumps(schema_for(kind), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def _referenced(schema: dict[str, Any]) -> list[str]:
    """Names of the definitions a schema refers to directly or through a union."""
    refs = [schema] + list(schema.get("oneOf", [])) + list(schema.get("anyOf", []))
    return [ref["$ref"].rsplit("/", 1)[-1] for ref in refs if "$ref" in ref]


def _drop_name(definition: dict[str, Any]) -> None:
    definition.get("properties", {}).pop("name", None)
    required = [field for field in definition.get("required", []) if field != "name"]
    if required:
        definition["required"] = required
    else:
        definition.pop("required", None)


def _with_shorthand(definition: dict[str, Any], field: str) -> dict[str, Any]:
    shorthand = {
        "type": "string",
        "pattern": NAME_PATTERN.pattern,
        "description": f"shorthand for {{{field}: <this value>}}",
    }
    title = definition.get("title")
    wrapped: dict[str, Any] = {"anyOf": [shorthand, definition]}
    if title:
        wrapped["title"] = title
    return wrapped
