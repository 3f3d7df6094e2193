"""Package hygiene: exports import, nothing private leaks, layers only import downwards."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import xrm

PACKAGE = Path(xrm.__file__).parent
# Lowest first. A module may import its own layer and the layers before it, never a later one.
LAYERS = ["errors", "metadata", "schema", "query", "data", "security", "plugin", "solution", "graphql", "server", "cli"]


def _public_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages([str(PACKAGE)], prefix="xrm."):
        if not any(part.startswith("_") for part in info.name.split(".")[1:]):
            names.append(info.name)
    return ["xrm", *names]


@pytest.mark.parametrize("module_name", _public_modules())
def test_every_public_module_declares_importable_exports(module_name: str) -> None:
    module = importlib.import_module(module_name)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{module_name} has no __all__"
    for name in exported:
        assert hasattr(module, name), f"{module_name}.__all__ names missing {name!r}"
        assert not name.startswith("_") or name == "__version__", f"{module_name} exports private {name!r}"


def _layer_of(module: str) -> int | None:
    parts = module.split(".")
    if len(parts) < 2 or parts[0] != "xrm":
        return None
    top = parts[1]
    return LAYERS.index(top) if top in LAYERS else None


def test_layers_only_import_downwards() -> None:
    problems = []
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        module = ".".join(relative.parts)
        own = _layer_of(module)
        if own is None:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module]
            for target in targets:
                layer = _layer_of(target)
                if layer is not None and layer > own:
                    problems.append(f"{module} (layer {LAYERS[own]}) imports {target} (layer {LAYERS[layer]})")
    assert not problems, "\n".join(problems)


def test_platform_folder_never_shadows_the_standard_library() -> None:
    assert not (PACKAGE.parent / "__init__.py").exists()
