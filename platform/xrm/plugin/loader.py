"""Binding a model's plugin steps to code, and opening an environment with them."""

from __future__ import annotations

from sqlalchemy import Engine

from xrm.data.environment import Environment
from xrm.data.pipeline import Pipeline, RegisteredStep
from xrm.metadata import Model
from xrm.metadata.components import PluginStepMetadata, Stage
from xrm.plugin.registry import PluginRegistry

__all__ = ["AUTONUMBER_PLUGIN", "build_pipeline", "open_environment", "default_registry"]

AUTONUMBER_PLUGIN = "xrm_autonumber"


def default_registry() -> PluginRegistry:
    return PluginRegistry()


def _implicit_steps(model: Model) -> list[PluginStepMetadata]:
    """Every autonumber attribute is filled by the autonumber plugin unless a solution binds it itself."""
    bound = {
        (step.metadata.entity, step.metadata.configuration.get("attribute"))  # type: ignore[union-attr]
        for step in model.steps.values()
        if step.metadata.plugin == AUTONUMBER_PLUGIN  # type: ignore[union-attr]
    }
    steps = []
    for entity in model.entities.values():
        for attr in entity.attributes.values():
            if (
                attr.type == "autonumber"
                and (entity.logical_name, attr.name) not in bound
                and (entity.logical_name, None) not in bound
            ):
                steps.append(
                    PluginStepMetadata(
                        name=f"autonumber {entity.logical_name}.{attr.name}",
                        plugin=AUTONUMBER_PLUGIN,
                        message="create",
                        entity=entity.logical_name,
                        stage=Stage.PRE_OPERATION,
                        order=0,
                        configuration={"attribute": attr.name},
                    )  # fmt: skip
                )
    return steps


def build_pipeline(model: Model, registry: PluginRegistry) -> Pipeline:
    """Resolve every step of the model (and the implicit ones) to code."""
    pipeline = Pipeline()
    for component in model.steps.values():
        step = component.metadata
        assert isinstance(step, PluginStepMetadata)
        pipeline.register(
            RegisteredStep.from_metadata(
                step, registry.resolve(step.plugin, dict(step.configuration)), component.solution
            )
        )
    for step in _implicit_steps(model):
        pipeline.register(
            RegisteredStep.from_metadata(step, registry.resolve(step.plugin, dict(step.configuration)), "system")
        )
    return pipeline


def open_environment(engine: Engine, registry: PluginRegistry | None = None) -> Environment:
    """The installed model of ``engine`` with its plugin steps and record security bound."""
    from xrm.security import RoleBasedAccess

    chosen = registry or default_registry()
    return Environment.load(
        engine, pipeline_factory=lambda model: build_pipeline(model, chosen), access_factory=RoleBasedAccess
    )
