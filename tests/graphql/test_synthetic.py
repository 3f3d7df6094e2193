"""A generated model of 500 entities x 20 attributes with relationships: the schema builds and introspects."""

from __future__ import annotations

import time

from xrm.graphql import build_schema_for
from xrm.testing import synthetic_model

ENTITIES = 500
# The full introspection query of this schema takes seconds (it lists ~100k fields); this one
# reads every type and one type in full.
INTROSPECTION = """{ __schema { queryType { name } mutationType { name } types { name kind } }
  __type(name: "SynE042") { name fields { name args { name } type { name kind ofType { name kind } } } } }"""


def test_a_large_generated_model_builds_and_introspects() -> None:
    started = time.perf_counter()
    model = synthetic_model(ENTITIES, 20)
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
