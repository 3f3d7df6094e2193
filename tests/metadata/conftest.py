"""Helpers for the metadata tests: the shipped folders and small solutions written to tmp_path."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from xrm.errors import MetadataError, MetadataIssue
from xrm.metadata import SolutionDefinition, compile_model, load_solution

REPO = Path(__file__).resolve().parents[2]
SYSTEM_FOLDER = REPO / "metadata"
SOLUTIONS_FOLDER = REPO / "solutions"
FIXTURES_FOLDER = REPO / "tests" / "fixtures" / "solutions"

MakeSolution = Callable[..., Path]


@pytest.fixture(scope="session")
def system() -> SolutionDefinition:
    """The system layer, loaded once."""
    return load_solution(SYSTEM_FOLDER)


@pytest.fixture
def make_solution(tmp_path: Path) -> MakeSolution:
    """Write a solution folder: ``make_solution("ext", {"entities/x.yaml": "..."}, depends=["a"])``.

    File texts are dedented, so they can be written inline; the manifest is generated unless
    ``manifest`` gives its text.
    """

    def make(
        name: str,
        files: dict[str, str] | None = None,
        *,
        prefix: str = "tst",
        native: bool = False,
        depends: Sequence[str] = (),
        manifest: str | None = None,
    ) -> Path:
        root = tmp_path / name
        root.mkdir()
        if manifest is None:
            publisher = f"{{name: Test, prefix: {prefix}{', native: true' if native else ''}}}"
            manifest = f"name: {name}\ndisplay_name: {name}\nversion: 1.0.0\npublisher: {publisher}\n"
            if depends:
                manifest += "dependencies:\n" + "".join(f"  - {{name: {dep}}}\n" for dep in depends)
        (root / "solution.yaml").write_text(textwrap.dedent(manifest).lstrip("\n"), encoding="utf-8")
        for relative, text in (files or {}).items():
            path = root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return root

    return make


def _compile_issues(*definitions: SolutionDefinition) -> list[MetadataIssue]:
    try:
        compile_model(list(definitions))
    except MetadataError as error:
        return error.issues
    return []


def _where(issue: MetadataIssue, root: Path) -> str:
    relative = Path(issue.file).resolve().relative_to(root.resolve())
    return f"{relative.as_posix()}:{issue.line}"


@pytest.fixture
def compile_issues() -> Callable[..., list[MetadataIssue]]:
    """``compile_issues(*definitions)``: what compile_model reports, empty when they compile."""
    return _compile_issues


@pytest.fixture
def where() -> Callable[[MetadataIssue, Path], str]:
    """``where(issue, root)``: the issue's ``relative/file.yaml:LINE`` inside solution folder ``root``."""
    return _where
