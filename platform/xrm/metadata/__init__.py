"""Metadata: pydantic models of every component, the YAML loader and the compiled model."""

from xrm.metadata.attributes import (
    AttributeMetadata,
    OptionMetadata,
    RequiredLevel,
)
from xrm.metadata.compiler import SYSTEM_SOLUTION, compile_model, order_solutions
from xrm.metadata.components import (
    ActionMetadata,
    ActionParameterMetadata,
    FieldSecurityProfileMetadata,
    FormMetadata,
    OptionSetMetadata,
    PluginStepMetadata,
    RoleMetadata,
    Stage,
    ViewMetadata,
)
from xrm.metadata.entity import (
    CascadeConfiguration,
    EntityMetadata,
    ManyToManyRelationshipMetadata,
    OneToManyRelationshipMetadata,
    Ownership,
)
from xrm.metadata.jsonschema import export_schemas
from xrm.metadata.loader import load_solution, read_solution
from xrm.metadata.model import (
    CompiledAttribute,
    CompiledComponent,
    CompiledEntity,
    CompiledOptionSet,
    CompiledRelationship,
    Model,
    UnknownComponentError,
)
from xrm.metadata.solution import SolutionDefinition, SolutionManifest, parse_version, version_satisfies

__all__ = [
    "ActionMetadata",
    "ActionParameterMetadata",
    "AttributeMetadata",
    "CascadeConfiguration",
    "CompiledAttribute",
    "CompiledComponent",
    "CompiledEntity",
    "CompiledOptionSet",
    "CompiledRelationship",
    "EntityMetadata",
    "FieldSecurityProfileMetadata",
    "FormMetadata",
    "ManyToManyRelationshipMetadata",
    "Model",
    "OneToManyRelationshipMetadata",
    "OptionMetadata",
    "OptionSetMetadata",
    "Ownership",
    "PluginStepMetadata",
    "RequiredLevel",
    "RoleMetadata",
    "SYSTEM_SOLUTION",
    "SolutionDefinition",
    "SolutionManifest",
    "Stage",
    "UnknownComponentError",
    "ViewMetadata",
    "compile_model",
    "export_schemas",
    "load_solution",
    "read_solution",
    "order_solutions",
    "parse_version",
    "version_satisfies",
]
