"""Typed custom actions: parameters checked and converted, bound targets, declared outputs only."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from xrm.data import Entity, EntityReference, ExecutionContext
from xrm.errors import NotFoundError, PluginExecutionError, ValidationError
from xrm.plugin import PluginRegistry

ACTIONS = Path(__file__).resolve().parents[1] / "fixtures" / "solutions" / "actions"
STEPS = [
    {"name": "echo", "plugin": "t_echo", "message": "tac_echo", "stage": 40},
    {"name": "escalate", "plugin": "t_escalate", "message": "tac_escalate", "entity": "incident", "stage": 40},
    {"name": "untyped", "plugin": "t_echo", "message": "tac_untyped", "stage": 40},
]


def echo(context: ExecutionContext) -> None:
    context.output_parameters.update(context.input_parameters)
    context.output_parameters["extra"] = "not declared"


def escalate(context: ExecutionContext) -> None:
    reason = context.input_parameters["reason"]
    if reason == "say nothing":
        return
    case = context.service.retrieve("incident", context.target.id, ["title"])  # type: ignore[union-attr]
    context.output_parameters["escalated"] = "yes" if reason == "wrong output" else True
    context.output_parameters["title"] = case["title"]


@pytest.fixture
def service(environment, write_solution):  # type: ignore[no-untyped-def]
    manifest = {"name": "tacsteps", "display_name": "Steps", "version": "1.0.0",
                "publisher": {"name": "T", "prefix": "tac"}, "dependencies": [{"name": "actions"}]}  # fmt: skip
    registry = PluginRegistry()
    registry.register("t_echo", echo)
    registry.register("t_escalate", escalate)
    steps = write_solution(manifest, {"plugins.yaml": {"steps": STEPS}})
    return environment("case", ACTIONS, steps, registry=registry).service()


def _case(service: Any) -> EntityReference:
    account = service.create(Entity("account", {"name": "Acme"}))
    case = service.create(Entity("incident", {"title": "broken", "customerid": EntityReference("account", account)}))
    return EntityReference("incident", case)


def test_parameters_are_converted_and_only_declared_outputs_return(service) -> None:  # type: ignore[no-untyped-def]
    account, key = uuid.uuid4(), uuid.uuid4()
    outputs = service.execute_action(
        "tac_echo",
        {
            "text": "hi", "count": 3, "amount": "12.50", "ratio": 1, "flag": False, "when": "2024-05-01T10:00:00",
            "key": str(key), "account": {"logicalName": "account", "id": str(account)}, "payload": {"a": [1]},
        },
    )  # fmt: skip
    assert outputs == {
        "text": "hi", "count": 3, "amount": Decimal("12.50"), "ratio": 1.0, "flag": False,
        "when": dt.datetime(2024, 5, 1, 10, tzinfo=dt.UTC), "key": key,
        "account": EntityReference("account", account), "payload": {"a": [1]},
    }  # fmt: skip
    assert isinstance(outputs["ratio"], float)
    assert service.execute_action("tac_echo", {"text": "x", "account": str(account)})["account"] == EntityReference(
        "account", account
    )


def test_every_bad_parameter_is_listed_in_one_error(service) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as caught:
        service.execute_action(
            "tac_echo",
            {"colour": "red", "count": "3", "flag": 1, "when": "soon", "key": "nope",
             "account": EntityReference("contact", uuid.uuid4())},
        )  # fmt: skip
    error = caught.value
    assert error.code == "BAD_USER_INPUT" and error.entity == "tac_echo"
    problems = {problem.attribute: problem.reason for problem in error.problems}
    assert problems == {
        "colour": "is not a parameter of this action",
        "count": "expected a whole number, got str",
        "flag": "expected true or false, got int",
        "when": "'soon' is not an ISO date-time",
        "key": "'nope' is not a UUID",
        "account": "expected a reference to account, got one to contact",
        "text": "is required",
    }


def test_a_bound_action_needs_a_record_of_its_entity(service) -> None:  # type: ignore[no-untyped-def]
    case = _case(service)
    assert service.execute_action("tac_escalate", {"reason": "late", "level": 2}, case) == {
        "escalated": True,
        "title": "broken",
    }
    with pytest.raises(ValidationError, match="bound to 'incident'"):
        service.execute_action("tac_escalate", {"reason": "late"})
    with pytest.raises(ValidationError, match="expected a 'incident', got a 'account'"):
        service.execute_action("tac_escalate", {"reason": "late"}, EntityReference("account", uuid.uuid4()))
    with pytest.raises(ValidationError, match="not bound to an entity"):
        service.execute_action("tac_echo", {"text": "x"}, case)


def test_outputs_the_plugins_do_not_set_are_left_out(service) -> None:  # type: ignore[no-untyped-def]
    assert service.execute_action("tac_escalate", {"reason": "say nothing"}, _case(service)) == {}


def test_an_output_of_the_wrong_type_is_a_plugin_error(service) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PluginExecutionError, match="escalated: expected true or false, got str"):
        service.execute_action("tac_escalate", {"reason": "wrong output"}, _case(service))


def test_a_declared_action_without_a_step_is_not_found(service) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotFoundError, match="no action 'tac_noop'"):
        service.execute_action("tac_noop")


def test_undeclared_actions_stay_untyped(service) -> None:  # type: ignore[no-untyped-def]
    outputs = service.execute_action("tac_untyped", {"anything": "1", "at": "all"})
    assert outputs == {"anything": "1", "at": "all", "extra": "not declared"}
