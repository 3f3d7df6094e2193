"""The solution manifest (``solution.yaml``) and a loaded solution definition."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import Field, field_validator

from xrm.metadata._base import LogicalName, MetadataModel
from xrm.metadata.calendar import CalendarMetadata
from xrm.metadata.components import (
    ActionMetadata,
    FieldSecurityProfileMetadata,
    FormMetadata,
    OptionSetMetadata,
    PluginStepMetadata,
    RoleMetadata,
    ViewMetadata,
)
from xrm.metadata.entity import EntityMetadata
from xrm.metadata.process import BusinessProcessFlowMetadata
from xrm.metadata.sla import SlaMetadata
from xrm.metadata.source import Locator
from xrm.metadata.workflow import WorkflowMetadata

__all__ = [
    "PublisherMetadata",
    "DependencyMetadata",
    "SolutionManifest",
    "SolutionDefinition",
    "Version",
    "parse_version",
    "version_satisfies",
]

_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
_CONSTRAINT = re.compile(r"^\s*(>=|<=|==|>|<|\^|~)?\s*(\d+(?:\.\d+){0,2})\s*$")

Version = tuple[int, int, int]


def parse_version(text: str) -> Version:
    match = _VERSION.match(text)
    if not match:
        raise ValueError(f"'{text}' is not a semantic version (MAJOR.MINOR.PATCH)")
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def _padded(text: str) -> Version:
    parts = [int(part) for part in text.split(".")] + [0, 0]
    return parts[0], parts[1], parts[2]


def version_satisfies(version: str, constraint: str) -> bool:
    """True when ``version`` meets every comma-separated clause (``>=1.0,<2``, ``^1.2``, ``~1.2``)."""
    actual = parse_version(version)
    for clause in filter(None, (part.strip() for part in constraint.split(","))):
        match = _CONSTRAINT.match(clause)
        if not match:
            raise ValueError(f"'{clause}' is not a version constraint")
        op, wanted = match.group(1) or "==", _padded(match.group(2))
        if op == "^":
            upper = (wanted[0] + 1, 0, 0) if wanted[0] else (0, wanted[1] + 1, 0)
            ok = wanted <= actual < upper
        elif op == "~":
            ok = wanted <= actual < (wanted[0], wanted[1] + 1, 0)
        else:
            ok = {
                ">=": actual >= wanted,
                "<=": actual <= wanted,
                ">": actual > wanted,
                "<": actual < wanted,
                "==": actual == wanted,
            }[op]
        if not ok:
            return False
    return True


class PublisherMetadata(MetadataModel):
    """Who publishes the solution; custom names carry ``prefix_``."""

    name: str = Field(min_length=1)
    prefix: str = Field(pattern=r"^[a-z][a-z0-9]{1,7}$")
    native: bool = Field(
        default=False,
        description="first-party publisher whose components are platform-native and unprefixed",
    )


class DependencyMetadata(MetadataModel):
    name: LogicalName
    version: str = Field(default=">=0.0.0")

    @field_validator("version")
    @classmethod
    def _valid_constraint(cls, value: str) -> str:
        version_satisfies("0.0.0", value)  # raises on a malformed constraint
        return value


class SolutionManifest(MetadataModel):
    name: LogicalName
    display_name: str = Field(min_length=1)
    version: str
    publisher: PublisherMetadata
    description: str | None = None
    dependencies: tuple[DependencyMetadata, ...] = ()

    @field_validator("version")
    @classmethod
    def _semver(cls, value: str) -> str:
        parse_version(value)
        return value


@dataclass(frozen=True)
class SolutionDefinition:
    """A solution as loaded from a folder (or from the database): manifest plus components."""

    manifest: SolutionManifest
    entities: tuple[EntityMetadata, ...] = ()
    optionsets: tuple[OptionSetMetadata, ...] = ()
    forms: tuple[FormMetadata, ...] = ()
    views: tuple[ViewMetadata, ...] = ()
    roles: tuple[RoleMetadata, ...] = ()
    steps: tuple[PluginStepMetadata, ...] = ()
    actions: tuple[ActionMetadata, ...] = ()
    field_security_profiles: tuple[FieldSecurityProfileMetadata, ...] = ()
    calendars: tuple[CalendarMetadata, ...] = ()
    slas: tuple[SlaMetadata, ...] = ()
    processes: tuple[BusinessProcessFlowMetadata, ...] = ()
    workflows: tuple[WorkflowMetadata, ...] = ()
    path: Path | None = field(default=None, compare=False)
    # Where each component came from, for error messages: (kind, name) -> locator.
    origins: dict[tuple[str, str], Locator] = field(default_factory=dict, compare=False)

    def locate(self, kind: str, name: str) -> Locator:
        """The locator of a component; components read from the database have no file."""
        return self.origins.get((kind, name)) or Locator(None, fallback=f"<solution {self.name}: {kind} {name}>")

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def version(self) -> str:
        return self.manifest.version
