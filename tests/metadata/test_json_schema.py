"""The JSON Schemas for editors: committed copies are current, and the shipped YAML satisfies them."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from xrm.metadata import export_schemas
from xrm.metadata.jsonschema import SCHEMA_MODELS, kind_of, schema_file, schema_for

REPO = Path(__file__).resolve().parents[2]
COMMITTED = REPO / "schemas"
SHIPPED = [REPO / "metadata", REPO / "solutions" / "case", REPO / "solutions" / "ticket"] + sorted(
    (REPO / "tests" / "fixtures" / "solutions").glob("alltypes*")
)
REGENERATE = "regenerate with: python -c \"from pathlib import Path; from xrm.metadata import export_schemas; export_schemas(Path('schemas'))\""  # noqa: E501


def test_committed_schemas_are_up_to_date(tmp_path):
    written = export_schemas(tmp_path)

    committed = sorted(path.name for path in COMMITTED.glob("*.json"))
    assert sorted(path.name for path in written) == committed, REGENERATE
    for path in written:
        stale = f"{path.name} is stale; {REGENERATE}"
        assert (COMMITTED / path.name).read_bytes() == path.read_bytes(), stale


def test_export_writes_one_sorted_file_per_kind(tmp_path):
    written = export_schemas(tmp_path / "out")

    assert [path.name for path in written] == [schema_file(kind) for kind in SCHEMA_MODELS]
    assert [path.name for path in written] == [
        "solution.schema.json", "entity.schema.json", "optionset.schema.json", "form.schema.json",
        "view.schema.json", "role.schema.json", "action.schema.json", "field_security_profile.schema.json",
        "calendar.schema.json", "sla.schema.json", "process.schema.json", "workflow.schema.json",
        "plugins.schema.json",
    ]  # fmt: skip
    for path in written:
        text = path.read_text(encoding="utf-8")
        assert text.endswith("}\n")
        assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    again = export_schemas(tmp_path / "again")
    assert [path.read_bytes() for path in again] == [path.read_bytes() for path in written]


def test_keyed_entity_items_take_their_name_from_the_key():
    definitions = schema_for("entity")["$defs"]

    keyed = ("StringAttribute", "RollupAttribute", "AlternateKeyMetadata", "OneToManyRelationshipMetadata")
    for name in keyed:
        assert "name" not in definitions[name]["properties"], name
        assert "name" not in definitions[name].get("required", []), name
    assert definitions["AlternateKeyMetadata"]["required"] == ["attributes"]
    assert "name" in definitions["StateMetadata"]["required"]  # a list item, not a mapping value


def test_form_cells_and_view_columns_may_be_bare_names():
    cell = schema_for("form")["$defs"]["FormCell"]
    column = schema_for("view")["$defs"]["ViewColumnMetadata"]

    assert cell["anyOf"][0]["type"] == column["anyOf"][0]["type"] == "string"
    assert cell["anyOf"][1]["properties"]["field"]
    assert column["anyOf"][1]["required"] == ["name"]


@pytest.mark.parametrize(
    ("relative", "kind"),
    [
        ("solution.yaml", "solution"),
        ("plugins.yaml", "plugins"),
        ("entities/account.yaml", "entity"),
        ("optionsets/x.yaml", "optionset"),
        ("forms/x.yaml", "form"),
        ("views/x.yaml", "view"),
        ("roles/x.yaml", "role"),
        ("actions/x.yaml", "action"),
        ("field_security_profiles/x.yaml", "field_security_profile"),
        ("calendars/x.yaml", "calendar"),
        ("slas/x.yaml", "sla"),
        ("processes/x.yaml", "process"),
        ("workflows/x.yaml", "workflow"),
        ("data/accounts.yaml", None),
        ("README.md", None),
        ("entities/nested/x.yaml", None),
    ],
)
def test_kind_of(relative, kind):
    assert kind_of(relative) == kind


@pytest.mark.parametrize("folder", SHIPPED, ids=lambda folder: folder.name)
def test_shipped_yaml_satisfies_its_schema(folder):
    for file in sorted(folder.rglob("*.yaml")):
        kind = kind_of(file.relative_to(folder).as_posix())
        schema = schema_for(kind)
        assert _errors(schema, yaml.safe_load(file.read_text(encoding="utf-8")), schema) == [], file


def test_schema_catches_planted_file_mistakes():
    planted = REPO / "tests" / "fixtures" / "solutions" / "planted_mistakes"
    form, entity = schema_for("form"), schema_for("entity")

    form_errors = _errors(form, yaml.safe_load((planted / "forms/pm_part_main.yaml").read_text()), form)
    entity_errors = _errors(entity, yaml.safe_load((planted / "entities/pm_widget.yaml").read_text()), entity)
    assert form_errors == [".tabs[0].sections[0]: unknown key 'lable'"]
    assert ".attributes.pm_notes: matches no option" in entity_errors


# A small JSON Schema checker: just the keywords pydantic emits for these models.

Schema = dict[str, Any]
_TYPES: dict[str, Any] = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "null": type(None),
    "integer": int,
    "number": (int, float),
}


def _is(kind: str, value: Any) -> bool:
    if kind in ("integer", "number") and isinstance(value, bool):
        return False
    return isinstance(value, _TYPES[kind])


def _errors(schema: Schema, value: Any, root: Schema, path: str = "") -> list[str]:
    if "$ref" in schema:
        target = root["$defs"][schema["$ref"].rsplit("/", 1)[-1]]
        rest = {key: item for key, item in schema.items() if key != "$ref"}
        return _errors(target, value, root, path) + _errors(rest, value, root, path)
    for union in ("anyOf", "oneOf"):
        if union in schema and all(_errors(option, value, root, path) for option in schema[union]):
            return [f"{path}: matches no option"]
    if "const" in schema and value != schema["const"]:
        return [f"{path}: is not {schema['const']!r}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{path}: {value!r} is not one of {schema['enum']}"]
    if "type" in schema and not _is(schema["type"], value):
        return [f"{path}: is not of type {schema['type']}"]
    if isinstance(value, dict):
        return _object_errors(schema, value, root, path)
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            return [f"{path}: too few items"]
        items = schema.get("items", {})
        return [error for i, item in enumerate(value) for error in _errors(items, item, root, f"{path}[{i}]")]
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            return [f"{path}: {value!r} does not match {schema['pattern']}"]
        if len(value) < schema.get("minLength", 0) or len(value) > schema.get("maxLength", len(value)):
            return [f"{path}: bad length"]
    if _is("number", value) and not schema.get("minimum", value) <= value <= schema.get("maximum", value):
        return [f"{path}: {value} is out of range"]
    return []


def _object_errors(schema: Schema, value: dict[str, Any], root: Schema, path: str) -> list[str]:
    properties = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    errors = [f"{path}: '{name}' is required" for name in schema.get("required", []) if name not in value]
    for key, item in value.items():
        if key in properties:
            errors += _errors(properties[key], item, root, f"{path}.{key}")
        elif extra is False:
            errors.append(f"{path}: unknown key '{key}'")
        elif isinstance(extra, dict):
            errors += _errors(extra, item, root, f"{path}.{key}")
    return errors
