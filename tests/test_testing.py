"""The plugin developer's test helper works in a few lines, in memory."""

from __future__ import annotations

import pytest

from xrm.data import Entity, EntityReference, ExecutionContext
from xrm.errors import PluginExecutionError
from xrm.testing import plugin_test_environment


def test_a_plugin_runs_against_an_in_memory_environment() -> None:
    def stamp(context: ExecutionContext) -> None:
        if context.target.get("prioritycode") == 1:  # type: ignore[union-attr]
            context.target["description"] = "escalate"  # type: ignore[index]

    class Refuse:
        def __init__(self, configuration: dict) -> None:  # type: ignore[type-arg]
            self.word = configuration["word"]

        def execute(self, context: ExecutionContext) -> None:
            if self.word in (context.target.get("title") or ""):  # type: ignore[union-attr]
                raise ValueError(f"titles may not contain '{self.word}'")

    env = plugin_test_environment(
        "case",
        plugins={"stamp": stamp, "refuse": Refuse},
        steps=[
            {"name": "stamp", "plugin": "stamp", "message": "create", "entity": "incident", "stage": 20},
            {
                "name": "refuse",
                "plugin": "refuse",
                "message": "create",
                "entity": "incident",
                "stage": 10,
                "configuration": {"word": "spam"},
            },
        ],
    )
    assert env.engine.url.database in (None, "", ":memory:")
    service = env.service()
    customer = EntityReference("account", service.create(Entity("account", name="A")))
    case = service.create(Entity("incident", title="Down", prioritycode=1, customerid=customer))
    assert service.retrieve("incident", case)["description"] == "escalate"
    with pytest.raises(PluginExecutionError, match="may not contain 'spam'"):
        service.create(Entity("incident", title="spam offer", customerid=customer))
