"""Typed mutations of declared custom actions (tests/fixtures/solutions/actions), end to end."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from xrm.data import Entity, EntityReference, Environment, ExecutionContext
from xrm.graphql import XrmSchema, build_schema, context_for
from xrm.testing import plugin_test_environment

ACTIONS = Path(__file__).resolve().parents[1] / "fixtures" / "solutions" / "actions"
STEPS = [
    {"name": "echo", "plugin": "t_echo", "message": "tac_echo", "stage": 40},
    {"name": "escalate", "plugin": "t_escalate", "message": "tac_escalate", "entity": "incident", "stage": 40},
    {"name": "noop", "plugin": "t_noop", "message": "tac_noop", "stage": 40},
]


def echo(context: ExecutionContext) -> None:
    context.output_parameters.update(context.input_parameters)
    context.output_parameters["extra"] = "dropped"


def escalate(context: ExecutionContext) -> None:
    case = context.service.retrieve("incident", context.target.id, ["title"])  # type: ignore[union-attr]
    context.service.update(Entity("incident", {"title": f"{case['title']} ({context.input_parameters['reason']})"},
                                  id=case.id))  # fmt: skip
    context.output_parameters.update(escalated=True, title=case["title"])


@pytest.fixture(scope="module")
def world() -> tuple[Environment, XrmSchema]:
    plugins = {"t_echo": echo, "t_escalate": escalate, "t_noop": lambda context: None}
    environment = plugin_test_environment("case", ACTIONS, plugins=plugins, steps=STEPS)
    return environment, build_schema(environment)


def run(world: tuple[Environment, XrmSchema], document: str, variables: dict[str, Any] | None = None) -> Any:
    environment, schema = world
    return schema.execute_sync(document, variable_values=variables, context_value=context_for(environment))


def test_the_schema_types_each_declared_action(world) -> None:  # type: ignore[no-untyped-def]
    sdl = world[1].as_str()

    assert 'tacEscalate(\n    """The id of the incident to run on."""\n    target: UUID!\n' in sdl
    assert "input: TacEscalateInput!\n  ): TacEscalateResult" in sdl
    assert "tacEcho(input: TacEchoInput!): TacEchoResult" in sdl
    assert "tacNoop: Boolean!" in sdl
    assert "executeAction(" in sdl  # the generic door stays
    for line in ("text: String!", "count: Int", "amount: Decimal", "ratio: Float", "flag: Boolean",
                 "when: DateTime", "key: UUID", "account: UUID", "payload: JSON"):  # fmt: skip
        assert f"  {line}\n" in sdl.split("input TacEchoInput {", 1)[1].split("}", 1)[0]


def test_a_bound_action_runs_on_its_record(world) -> None:  # type: ignore[no-untyped-def]
    service = world[0].service()
    account = service.create(Entity("account", {"name": "Acme"}))
    case = service.create(Entity("incident", {"title": "broken", "customerid": EntityReference("account", account)}))
    result = run(
        world,
        'mutation($t: UUID!) { tacEscalate(target: $t, input: {reason: "late", level: 2}) { escalated title } }',
        {"t": str(case)},
    )

    assert not result.errors, result.errors
    assert result.data == {"tacEscalate": {"escalated": True, "title": "broken"}}
    assert service.retrieve("incident", case, ["title"])["title"] == "broken (late)"


def test_inputs_and_outputs_are_typed(world) -> None:  # type: ignore[no-untyped-def]
    account, key = uuid.uuid4(), uuid.uuid4()
    document = """
        mutation($input: TacEchoInput!) {
          tacEcho(input: $input) { text count amount ratio flag when key account payload }
        }
    """
    given = {
        "text": "hi", "count": 3, "amount": "12.50", "ratio": 0.5, "flag": True, "when": "2024-05-01T10:00:00Z",
        "key": str(key), "account": str(account), "payload": {"a": [1, "b"]},
    }  # fmt: skip
    result = run(world, document, {"input": given})

    assert not result.errors, result.errors
    assert result.data["tacEcho"] == {**given, "when": "2024-05-01T10:00:00+00:00"}
    assert run(world, "mutation { tacNoop }").data == {"tacNoop": True}


def test_bad_input_is_refused(world) -> None:  # type: ignore[no-untyped-def]
    missing = run(world, "mutation { tacEcho(input: {count: 1}) { text } }")
    assert missing.errors and "text" in missing.errors[0].message

    unbound = run(world, 'mutation { tacEscalate(input: {reason: "x"}) { title } }')
    assert unbound.errors and "target" in unbound.errors[0].message

    wrong = run(world, 'mutation($t: UUID!) { tacEscalate(target: $t, input: {reason: "x"}) { title } }',
                {"t": str(uuid.uuid4())})  # fmt: skip
    assert wrong.errors and wrong.errors[0].extensions["code"] == "NOT_FOUND"
