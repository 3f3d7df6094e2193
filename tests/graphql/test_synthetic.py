"""A generated model of 500 entities x 20 attributes with relationships: the schema builds and introspects."""

from __future__ import annotations

import time
from typing import Any

from xrm.graphql import build_schema_for
from xrm.metadata import EntityMetadata, SolutionDefinition, SolutionManifest, compile_model
from xrm.solution import load_definition, system_layer_path

ENTITIES = 500
# The full introspection query of this schema takes seconds (it lists ~100k fields); this one
# reads every type and one type in full.
INTROSPECTION = """{ __schema { queryType { name } mutationType { name } types { name kind } }
  __type(name: "SynE042") { name fields { name args { name } type { name kind ofType { name kind } } } } }"""


def _entity(index: int) -> EntityMetadata:
    name = f"syn_e{index:03d}"
    previous = f"syn_e{(index - 1) % ENTITIES:03d}"
    following = f"syn_e{(index + 1) % ENTITIES:03d}"
    other = f"syn_e{(index * 7 + 3) % ENTITIES:03d}"
    options = [{"value": value, "label": f"Option {value}"} for value in range(1, 6)]
    attributes: dict[str, Any] = {
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
        "syn_previousid": {"type": "lookup", "target": previous},
        "syn_otherid": {"type": "lookup", "target": other},
        "syn_customerid": {"type": "customer"},
        "syn_external": {"type": "uniqueidentifier"},
        "syn_label": {"type": "calculated", "result_type": "string", "expression": "concat(syn_name, '-', syn_code)"},
        "syn_children": {
            "type": "rollup",
            "related_entity": following,
            "lookup": "syn_previousid",
            "aggregate": "count",
        },
    }
    definition: dict[str, Any] = {
        "logical_name": name,
        "primary_name": "syn_name",
        "attributes": attributes,
        "relationships": {
            f"{name}_previous": {"lookup": "syn_previousid"},
            f"{name}_other": {"lookup": "syn_otherid"},
            f"{name}_customer_accounts": {"lookup": "syn_customerid", "target": "account"},
        },
    }
    if index % 10 == 0:
        definition["many_to_many"] = {f"{name}_peers": {"entity": f"syn_e{(index + 5) % ENTITIES:03d}"}}
    return EntityMetadata.model_validate(definition)


def test_a_large_generated_model_builds_and_introspects() -> None:
    manifest = SolutionManifest(
        name="synthetic", display_name="Synthetic", version="1.0.0", publisher={"name": "Synthetic", "prefix": "syn"}
    )
    solution = SolutionDefinition(manifest, entities=tuple(_entity(index) for index in range(ENTITIES)))
    started = time.perf_counter()
    model = compile_model([load_definition(system_layer_path()), solution])
    compiled = time.perf_counter()
    schema = build_schema_for(model)
    built = time.perf_counter()
    result = schema.execute_sync(INTROSPECTION)
    introspected = time.perf_counter()
    assert not result.errors
    types = {t["name"]: t for t in result.data["__schema"]["types"]}
    fields = {field["name"] for field in result.data["__type"]["fields"]}
    assert {
        "synName",
        "synPrevious",
        "synPreviousid",
        "synCustomer",
        "synLabel",
        "synChildren",
        "synE043Previous",
    } <= fields
    assert len([name for name in types if name.startswith("SynE")]) >= ENTITIES * 10
    sdl = schema.as_str()
    print(
        f"\nsynthetic model: {len(model.entities)} entities, {len(types)} GraphQL types, {len(sdl) // 1024} KiB SDL; "
        f"compile_model {compiled - started:.2f}s, build_schema {built - compiled:.2f}s, introspection {introspected - built:.2f}s"
    )
