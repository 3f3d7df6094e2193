"""Shared fixtures: every database test runs on SQLite, and on PostgreSQL when XRM_TEST_DATABASE_URL is set."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from databases import BACKENDS, empty_database
from xrm.schema import open_engine
from xrm.solution import SolutionManager

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SOLUTION_FIXTURES = FIXTURES / "solutions"


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty database: a SQLite file, or a fresh PostgreSQL schema dropped afterwards."""
    with empty_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = open_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def solutions(engine: Engine) -> SolutionManager:
    """A solution manager on an empty database."""
    return SolutionManager(engine)


@pytest.fixture
def fixture_solution() -> type[Path]:
    """``fixture_solution('alltypes')`` -> path of a test solution folder."""

    def locate(name: str) -> Path:
        path = SOLUTION_FIXTURES / name
        assert (path / "solution.yaml").is_file(), f"missing fixture solution {path}"
        return path

    return locate  # type: ignore[return-value]


@pytest.fixture
def write_solution(tmp_path: Path):  # type: ignore[no-untyped-def]
    """``write_solution(manifest, {"entities/x.yaml": {...}})`` -> folder of a solution written as YAML."""
    import yaml

    counter = iter(range(1_000_000))

    def write(manifest: dict, files: dict[str, object]) -> Path:  # type: ignore[type-arg]
        folder = tmp_path / f"{manifest['name']}-{manifest['version']}-{next(counter)}"
        folder.mkdir()
        (folder / "solution.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
        for relative, content in files.items():
            path = folder / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False))
        return folder

    return write


@pytest.fixture
def environment(engine: Engine, solutions: SolutionManager):  # type: ignore[no-untyped-def]
    """``environment("case", path, registry=...)``: install solutions, return the environment with plugins bound."""
    from xrm.plugin import PluginRegistry, open_environment

    def make(*sources: str | Path, registry: PluginRegistry | None = None):  # type: ignore[no-untyped-def]
        installed = {s.name for s in solutions.installed()}
        for source in sources:
            if str(source) not in installed:
                solutions.install(source)
        return open_environment(engine, registry)

    return make


@pytest.fixture
def svc_environment(environment):  # type: ignore[no-untyped-def]
    """The service test solution (tests/fixtures/solutions/svc) installed."""
    return environment(SOLUTION_FIXTURES / "svc")
