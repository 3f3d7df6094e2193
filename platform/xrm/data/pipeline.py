"""The plugin pipeline: registered steps run at stages 10, 20 and 40 around the main operation.

Plugin code is found by the plugin layer, above this one: it implements :class:`PluginResolver`
and is wired in when the environment is created, as SQLAlchemy's ``Dialect`` protocol is
implemented by its dialects.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from xrm.data.context import ExecutionContext
from xrm.metadata.components import PluginStepMetadata, Stage, StepMode

__all__ = ["Plugin", "PluginResolver", "RegisteredStep", "Pipeline", "PluginHandler"]

log = logging.getLogger(__name__)

PluginHandler = Callable[[ExecutionContext], None]


@runtime_checkable
class Plugin(Protocol):
    """A plugin is a class with ``execute(context)`` (or a plain function taking the context)."""

    def execute(self, context: ExecutionContext) -> None: ...


class PluginResolver(Protocol):
    """Turns a step's ``plugin`` name into a callable; implemented by :mod:`xrm.plugin`."""

    def resolve(self, name: str, configuration: dict[str, Any]) -> PluginHandler: ...


@dataclass(frozen=True)
class RegisteredStep:
    name: str
    message: str
    entity: str | None
    stage: Stage
    mode: StepMode
    order: int
    handler: PluginHandler
    filtering_attributes: frozenset[str] = frozenset()
    configuration: dict[str, Any] = field(default_factory=dict)
    images: tuple[Any, ...] = ()
    run_as_system: bool = False
    solution: str | None = None

    @classmethod
    def from_metadata(
        cls, step: PluginStepMetadata, handler: PluginHandler, solution: str | None = None
    ) -> RegisteredStep:
        return cls(
            step.name, step.message, step.entity, step.stage, step.mode, step.order, handler,
            frozenset(step.filtering_attributes), dict(step.configuration), step.images, step.run_as_system, solution,
        )  # fmt: skip


class Pipeline:
    """The steps of an environment, indexed by (message, entity, stage)."""

    def __init__(self, steps: Iterable[RegisteredStep] = ()) -> None:
        self._steps: list[RegisteredStep] = []
        for step in steps:
            self.register(step)

    def register(self, step: RegisteredStep) -> None:
        self._steps.append(step)
        self._steps.sort(key=lambda s: (s.stage.value, s.order, s.name))

    def steps_for(
        self,
        message: str,
        entity: str | None,
        stage: Stage,
        mode: StepMode = StepMode.SYNC,
        changed: Iterable[str] | None = None,
    ) -> list[RegisteredStep]:
        """Steps to run, in execution order; ``changed`` applies update filtering attributes."""
        changed_set = set(changed) if changed is not None else None
        selected = []
        for step in self._steps:
            if step.message != message or step.stage is not stage or step.mode is not mode:
                continue
            if step.entity is not None and step.entity != entity:
                continue
            if message == "update" and step.filtering_attributes and changed_set is not None:
                if not step.filtering_attributes & changed_set:
                    continue
            selected.append(step)
        return selected

    def has_steps(self, message: str, entity: str | None) -> bool:
        return any(s.message == message and s.entity in (None, entity) for s in self._steps)

    def images_needed(self, message: str, entity: str | None) -> dict[str, set[str] | None]:
        """Image name -> columns (None: all) that some step of this message wants."""
        wanted: dict[str, set[str] | None] = {}
        for step in self._steps:
            if step.message == message and step.entity in (None, entity):
                for image in step.images:
                    columns = set(image.attributes) if image.attributes else None
                    key = f"{image.type}:{image.name}"
                    if key in wanted and (wanted[key] is None or columns is None):
                        wanted[key] = None
                    else:
                        wanted[key] = (wanted.get(key) or set()) | (columns or set()) if columns else None
        return wanted

    def __len__(self) -> int:
        return len(self._steps)
