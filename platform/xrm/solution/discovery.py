"""Where solutions come from: a folder path, a name on ``XRM_SOLUTIONS_PATH``, or the shipped ones."""

from __future__ import annotations

import os
from pathlib import Path

from xrm.errors import SolutionError
from xrm.metadata.loader import MANIFEST_FILE

__all__ = [
    "data_root",
    "system_layer_path",
    "shipped_solutions_path",
    "search_paths",
    "resolve_source",
    "available_solutions",
]

_PACKAGE = Path(__file__).resolve().parents[1]


def data_root() -> Path:
    """The folder holding ``metadata/`` and ``solutions/``: the checkout, or the installed package data."""
    bundled = _PACKAGE / "_data"
    if (bundled / "metadata").is_dir():
        return bundled
    checkout = _PACKAGE.parents[1]
    if (checkout / "metadata" / MANIFEST_FILE).is_file():
        return checkout
    raise SolutionError(f"cannot find the system layer (looked in {bundled} and {checkout})")


def system_layer_path() -> Path:
    return data_root() / "metadata"


def shipped_solutions_path() -> Path:
    return data_root() / "solutions"


def search_paths() -> list[Path]:
    extra = [Path(p) for p in os.environ.get("XRM_SOLUTIONS_PATH", "").split(os.pathsep) if p]
    return [*extra, shipped_solutions_path()]


def available_solutions() -> dict[str, Path]:
    """Solutions found on the search paths, by folder name (earlier paths win)."""
    found: dict[str, Path] = {}
    for root in search_paths():
        if root.is_dir():
            for folder in sorted(root.iterdir()):
                if (folder / MANIFEST_FILE).is_file():
                    found.setdefault(folder.name, folder)
    return found


def resolve_source(source: str | Path) -> Path:
    """A solution folder from a path or a name."""
    path = Path(source)
    if (path / MANIFEST_FILE).is_file():
        return path
    if str(source) == "system":
        return system_layer_path()
    match = available_solutions().get(str(source))
    if match is not None:
        return match
    known = ", ".join(sorted(available_solutions())) or "none"
    raise SolutionError(f"no solution '{source}': not a folder with {MANIFEST_FILE}, nor a known solution ({known})")
