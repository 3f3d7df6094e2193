"""YAML documents that remember the line of every value, so errors can point at it."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from xrm.errors import MetadataIssue

__all__ = ["Locator", "YamlDocument", "load_yaml", "display_path", "issues_from_validation"]

Path_ = tuple[str | int, ...]


def display_path(path: Path | str) -> str:
    """A path as shown in messages: relative to the working folder when it is below it."""
    text = os.fspath(path)
    try:
        relative = os.path.relpath(text)
    except ValueError:
        return text
    return text if relative.startswith("..") else relative


@dataclass
class YamlDocument:
    """Parsed YAML plus the 1-based line of every mapping key and list item."""

    file: str
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)

    def line_of(self, path: Path_) -> int:
        """The line of ``path``, or of its deepest ancestor that has one."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return 1

    def known(self, path: Path_) -> Path_:
        """Drop path elements that are not in the document (pydantic adds union tags)."""
        kept: list[str | int] = []
        for part in path:
            candidate = (*kept, part)
            if candidate in self.lines:
                kept.append(part)
        return tuple(kept)

    def readable(self, path: Path_) -> str:
        """Dotted path; list items that have a ``name`` are shown by their name."""
        shown: list[str] = []
        node: Any = self.data
        for part in path:
            if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
                item = node[part]
                name = item.get("name") if isinstance(item, dict) else None
                shown.append(str(name) if isinstance(name, str) else f"[{part}]")
                node = item
            elif isinstance(node, dict):
                shown.append(str(part))
                node = node.get(part)
            else:
                shown.append(str(part))
                node = None
        return ".".join(shown).replace(".[", "[")

    def issue(self, path: Path_, message: str) -> MetadataIssue:
        known = self.known(path)
        return MetadataIssue(self.file, self.line_of(known), self.readable(known), message)


class _DuplicateKey(Exception):
    def __init__(self, key: str, line: int, first: int) -> None:
        self.key, self.line, self.first = key, line, first


def _construct(node: yaml.Node, path: Path_, lines: dict[Path_, int], constructor: yaml.SafeLoader) -> Any:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = constructor.construct_object(key_node, deep=True)
            if key in result:
                raise _DuplicateKey(str(key), key_node.start_mark.line + 1, lines[(*path, key)])
            lines[(*path, key)] = key_node.start_mark.line + 1
            result[key] = _construct(value_node, (*path, key), lines, constructor)
        return result
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item_node in enumerate(node.value):
            lines[(*path, index)] = item_node.start_mark.line + 1
            items.append(_construct(item_node, (*path, index), lines, constructor))
        return items
    return constructor.construct_object(node, deep=True)


def load_yaml(path: Path) -> tuple[YamlDocument | None, list[MetadataIssue]]:
    """Parse one YAML file; syntax errors and duplicate keys come back as issues."""
    shown = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return None, [MetadataIssue(shown, 0, "", f"cannot read file: {error}")]
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, [MetadataIssue(shown, 1, "", "the file is empty")]
        lines: dict[Path_, int] = {}
        data = _construct(node, (), lines, loader)
    except _DuplicateKey as duplicate:
        message = f"duplicate key '{duplicate.key}' (first at line {duplicate.first})"
        return None, [MetadataIssue(shown, duplicate.line, "", message)]
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 0
        return None, [MetadataIssue(shown, line, "", f"invalid YAML: {error.problem or error}")]
    finally:
        loader.dispose()
    return YamlDocument(shown, data, lines), []


def issues_from_validation(document: YamlDocument, error: ValidationError, prefix: Path_ = ()) -> list[MetadataIssue]:
    """Turn pydantic's errors into issues that name file, line and path."""
    issues = []
    details = error.errors(include_url=False)
    for detail in details:
        if detail["type"] == "too_short" and _has_error_below(detail["loc"], details):
            continue  # pydantic also counts a tuple's failed items as missing; the item error says why
        location = (*prefix, *detail["loc"])
        message = detail["msg"]
        if detail["type"] == "extra_forbidden":
            message = f"unknown key '{location[-1]}'"
            location = location[:-1] + (location[-1],)
        elif detail["type"] == "missing":
            message = f"'{location[-1]}' is required"
            issues.append(document.issue(location[:-1], message))
            continue
        message = message.removeprefix("Value error, ")
        issues.append(document.issue(location, message))
    return issues


def _has_error_below(location: tuple[Any, ...], details: list[Any]) -> bool:
    size = len(location)
    return any(len(d["loc"]) > size and tuple(d["loc"][:size]) == tuple(location) for d in details)


@dataclass(frozen=True)
class Locator:
    """Where a component lives: a document and the path of the component inside it."""

    document: YamlDocument | None
    prefix: Path_ = ()
    fallback: str = "<installed metadata>"

    def issue(self, path: Path_, message: str) -> MetadataIssue:
        if self.document is None:
            return MetadataIssue(self.fallback, 0, ".".join(str(p) for p in path), message)
        return self.document.issue((*self.prefix, *path), message)
