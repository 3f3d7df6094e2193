"""Load a solution folder into a :class:`SolutionDefinition`, reporting every problem at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from xrm.errors import MetadataError, MetadataIssue
from xrm.metadata.calendar import CalendarMetadata
from xrm.metadata.components import (
    ActionMetadata,
    FieldSecurityProfileMetadata,
    FormMetadata,
    OptionSetMetadata,
    PluginStepsMetadata,
    RoleMetadata,
    ViewMetadata,
)
from xrm.metadata.entity import EntityMetadata
from xrm.metadata.process import BusinessProcessFlowMetadata
from xrm.metadata.sla import SlaMetadata
from xrm.metadata.solution import SolutionDefinition, SolutionManifest
from xrm.metadata.source import Locator, YamlDocument, display_path, issues_from_validation, load_yaml
from xrm.metadata.workflow import WorkflowMetadata

__all__ = ["load_solution", "read_solution", "COMPONENT_FOLDERS", "MANIFEST_FILE", "PLUGINS_FILE"]

MANIFEST_FILE = "solution.yaml"
PLUGINS_FILE = "plugins.yaml"
COMPONENT_FOLDERS: dict[str, type[BaseModel]] = {
    "entities": EntityMetadata,
    "optionsets": OptionSetMetadata,
    "forms": FormMetadata,
    "views": ViewMetadata,
    "roles": RoleMetadata,
    "actions": ActionMetadata,
    "field_security_profiles": FieldSecurityProfileMetadata,
    "calendars": CalendarMetadata,
    "slas": SlaMetadata,
    "processes": BusinessProcessFlowMetadata,
    "workflows": WorkflowMetadata,
}
_IGNORED = {"data", "README.md", "tests", "__pycache__"}

M = TypeVar("M", bound=BaseModel)


def _parse(document: YamlDocument, model: type[M], issues: list[MetadataIssue]) -> M | None:
    if not isinstance(document.data, dict):
        issues.append(document.issue((), "expected a mapping at the top of the file"))
        return None
    try:
        return model.model_validate(document.data)
    except ValidationError as error:
        issues.extend(issues_from_validation(document, error))
        return _parse_without_broken_attributes(document.data, model, error)


def _parse_without_broken_attributes(data: dict[str, Any], model: type[M], error: ValidationError) -> M | None:
    """Parse an entity again without the attributes that failed, so the rest can still be checked."""
    broken = {
        detail["loc"][1] for detail in error.errors() if len(detail["loc"]) > 1 and detail["loc"][0] == "attributes"
    }
    if not broken or any(len(d["loc"]) < 2 or d["loc"][0] != "attributes" for d in error.errors()):
        return None
    attributes = {key: value for key, value in data.get("attributes", {}).items() if key not in broken}
    try:
        return model.model_validate({**data, "attributes": attributes})
    except ValidationError:
        return None


def _component_name(kind: str, component: Any) -> str:
    return component.logical_name if kind == "entities" else component.name


def load_solution(path: Path | str) -> SolutionDefinition:
    """Read ``solution.yaml`` and the component files below ``path``.

    Raises :class:`MetadataError` listing every file-level problem (syntax, unknown keys, types,
    ranges). Cross-references between components are checked when the model is compiled.
    """
    definition, issues = read_solution(path)
    if issues or definition is None:
        raise MetadataError(issues)
    return definition


def read_solution(path: Path | str) -> tuple[SolutionDefinition | None, list[MetadataIssue]]:
    """Like :func:`load_solution`, but returns what did parse together with the problems found.

    The definition holds every component that parsed, so cross-references can still be checked
    and a run reports all problems at once; it is None only when the manifest itself is unusable.
    """
    root = Path(path)
    issues: list[MetadataIssue] = []
    manifest_path = root / MANIFEST_FILE
    if not manifest_path.is_file():
        shown = display_path(manifest_path)
        return None, [MetadataIssue(shown, 0, "", "no solution.yaml: not a solution folder")]
    manifest_doc, problems = load_yaml(manifest_path)
    issues.extend(problems)
    manifest = _parse(manifest_doc, SolutionManifest, issues) if manifest_doc else None

    components: dict[str, list[Any]] = {kind: [] for kind in COMPONENT_FOLDERS}
    origins: dict[tuple[str, str], Locator] = {}
    for entry in sorted(root.iterdir()):
        if entry.name in _IGNORED or entry.name in (MANIFEST_FILE, PLUGINS_FILE) or entry.name.startswith("."):
            continue
        if entry.is_dir() and entry.name in COMPONENT_FOLDERS:
            continue
        if entry.is_file() and entry.suffix in (".md", ".txt", ".rst"):
            continue  # documentation
        issues.append(
            MetadataIssue(
                display_path(entry),
                0,
                "",
                f"unexpected '{entry.name}' in a solution folder "
                f"(expected {', '.join(sorted(COMPONENT_FOLDERS))}, {PLUGINS_FILE}, data/)",
            )
        )
    for kind, model in COMPONENT_FOLDERS.items():
        folder = root / kind
        if not folder.is_dir():
            continue
        for file in sorted(folder.iterdir()):
            if file.suffix not in (".yaml", ".yml"):
                issues.append(MetadataIssue(display_path(file), 0, "", "expected a .yaml file"))
                continue
            document, problems = load_yaml(file)
            issues.extend(problems)
            component = _parse(document, model, issues) if document else None
            if component is None or document is None:
                continue
            key = (kind, _component_name(kind, component))
            if key in origins:
                first = origins[key].document
                where = first.file if first else "another file"
                issues.append(document.issue((), f"{kind[:-1]} '{key[1]}' is also defined in {where}"))
                continue
            origins[key] = Locator(document)
            components[kind].append(component)

    steps: tuple[Any, ...] = ()
    plugins_path = root / PLUGINS_FILE
    if plugins_path.is_file():
        plugins_doc, problems = load_yaml(plugins_path)
        issues.extend(problems)
        parsed = _parse(plugins_doc, PluginStepsMetadata, issues) if plugins_doc else None
        if parsed is not None and plugins_doc is not None:
            steps = parsed.steps
            for index, step in enumerate(steps):
                key = ("steps", step.name)
                if key in origins:
                    issues.append(plugins_doc.issue(("steps", index), f"step '{step.name}' is declared twice"))
                origins[key] = Locator(plugins_doc, ("steps", index))

    if manifest is None or manifest_doc is None:
        return None, issues
    origins[("manifest", manifest.name)] = Locator(manifest_doc)
    return SolutionDefinition(
        manifest=manifest,
        **{kind: tuple(items) for kind, items in components.items()},
        steps=steps,
        path=root,
        origins=origins,
    ), issues
