"""The GraphQL tests' world: Case + alltypes installed once per backend, one canonical data set.

``graphql_world`` installs the system layer, the Case solution, the ``alltypes`` fixture and a
small steps solution (a plugin that refuses cases titled "forbidden", a custom action
``gql_ping``) on SQLite, and on PostgreSQL when ``XRM_TEST_DATABASE_URL`` is set; then it loads
the data below through the organization service. Tests that write create their own records, so
the canonical ones stay as described:

- 100 accounts ``org000``..``org099``; ``org001``..``org009`` have ``org000`` as parent;
  each has 2 contacts (``c<i>-<j>``) and 1 case of its own (``acase<i>``, priority 1..3);
  each contact has 2 cases (``case<i>-<j>-<k>``).
- accounts "Alpha Corp", "Acme" and "Beta Ltd", contact "Ann Archer" (of Beta Ltd), and cases
  on them: "alpha one"/"alpha two" (Alpha Corp), "acme one" (Acme), "beta one" (Beta Ltd),
  "ann one" (Ann Archer); "alpha two" is resolved.
- a ``tst_project`` "Apollo" with every attribute type set, its sub-project "Gemini", three
  tasks, a category, and two contacts associated through ``tst_project_contact``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import event

from databases import BACKENDS, empty_database
from xrm.data import Entity, EntityReference, Environment
from xrm.data.messages import CreateRequest
from xrm.graphql import GraphQLSettings, XrmSchema, build_schema, context_for
from xrm.plugin import PluginRegistry, open_environment
from xrm.schema import open_engine
from xrm.solution import SolutionManager

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "solutions"

STEPS = {
    "steps": [
        {
            "name": "refuse forbidden cases",
            "plugin": "gql_refuse",
            "message": "create",
            "entity": "incident",
            "stage": 10,
        },
        {"name": "ping", "plugin": "gql_ping", "message": "gql_ping", "stage": 40},
    ]
}


def refuse_forbidden(context: Any) -> None:
    if context.target.get("title") == "forbidden":
        raise ValueError("cases titled 'forbidden' are not allowed")


def ping(context: Any) -> None:
    context.output_parameters["pong"] = context.input_parameters.get("value")
    context.output_parameters["target"] = context.target


def _steps_solution(folder: Path) -> Path:
    folder.mkdir()
    manifest = {
        "name": "gql_steps", "display_name": "GraphQL test steps", "version": "1.0.0",
        "publisher": {"name": "Tests", "prefix": "gql"}, "dependencies": [{"name": "case"}],
    }  # fmt: skip
    (folder / "solution.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    (folder / "plugins.yaml").write_text(yaml.safe_dump(STEPS, sort_keys=False))
    return folder


@dataclass
class Sample:
    """Ids of the canonical records by name."""

    accounts: dict[str, uuid.UUID] = field(default_factory=dict)
    contacts: dict[str, uuid.UUID] = field(default_factory=dict)
    cases: dict[str, uuid.UUID] = field(default_factory=dict)
    projects: dict[str, uuid.UUID] = field(default_factory=dict)
    tasks: dict[str, uuid.UUID] = field(default_factory=dict)
    subjects: dict[str, uuid.UUID] = field(default_factory=dict)
    loaded: datetime = field(default_factory=lambda: datetime.now(UTC))  # records created later are the tests'


def _load(environment: Environment) -> Sample:
    sample = Sample()
    requests: list[CreateRequest] = []

    def create(logical_name: str, into: dict[str, uuid.UUID], key: str, **values: Any) -> uuid.UUID:
        record_id = into[key] = uuid.uuid4()
        requests.append(CreateRequest(Entity(logical_name, values, id=record_id)))
        return record_id

    account = lambda name: EntityReference("account", sample.accounts[name])  # noqa: E731
    contact = lambda name: EntityReference("contact", sample.contacts[name])  # noqa: E731
    for subject in ("Billing", "Hardware"):
        create("subject", sample.subjects, subject, title=subject)
    for i in range(100):
        name = f"org{i:03d}"
        parent = {"parentaccountid": account("org000")} if 1 <= i <= 9 else {}
        create("account", sample.accounts, name, name=name, numberofemployees=i, revenue=Decimal(i * 1000), **parent)
        create(
            "incident", sample.cases, f"acase{i}", title=f"acase{i}", customerid=account(name), prioritycode=i % 3 + 1
        )
        for j in range(2):
            create(
                "contact",
                sample.contacts,
                f"c{i}-{j}",
                lastname=f"c{i}-{j}",
                firstname="F",
                parentcustomerid=account(name),
            )
            for k in range(2):
                create(
                    "incident",
                    sample.cases,
                    f"case{i}-{j}-{k}",
                    title=f"case{i}-{j}-{k}",
                    customerid=contact(f"c{i}-{j}"),
                )
    create(
        "account",
        sample.accounts,
        "Alpha Corp",
        name="Alpha Corp",
        numberofemployees=500,
        revenue=Decimal("1000000.50"),
    )
    create("account", sample.accounts, "Acme", name="Acme", numberofemployees=50)
    create("account", sample.accounts, "Beta Ltd", name="Beta Ltd", numberofemployees=5)
    create(
        "contact",
        sample.contacts,
        "Ann Archer",
        firstname="Ann",
        lastname="Archer",
        fullname="Ann Archer",
        parentcustomerid=account("Beta Ltd"),
    )
    billing = EntityReference("subject", sample.subjects["Billing"])
    create(
        "incident",
        sample.cases,
        "alpha one",
        title="alpha one",
        customerid=account("Alpha Corp"),
        prioritycode=1,
        subjectid=billing,
    )
    create("incident", sample.cases, "alpha two", title="alpha two", customerid=account("Alpha Corp"), prioritycode=3)
    create(
        "incident",
        sample.cases,
        "acme one",
        title="acme one",
        customerid=account("Acme"),
        prioritycode=2,
        subjectid=billing,
    )
    create("incident", sample.cases, "beta one", title="beta one", customerid=account("Beta Ltd"), prioritycode=3)
    create("incident", sample.cases, "ann one", title="ann one", customerid=contact("Ann Archer"), prioritycode=1)
    create("tst_category", {}, "cat", tst_name="Cat A")
    create(
        "tst_project", sample.projects, "Apollo", tst_name="Apollo", tst_code="APL", tst_email="apollo@example.com",
        tst_headcount=12, tst_bytes=2**40, tst_ratio=Decimal("0.2500"), tst_budget=Decimal("1500.75"), tst_score=4.5,
        tst_active=True, tst_startdate=date(2024, 1, 15), tst_deadline=datetime(2030, 6, 30, 17, 0, tzinfo=UTC),
        tst_phase=2, tst_priority=3, tst_tags=[1, 3], tst_regions=[100000000, 100000002],
        tst_accountid=account("Alpha Corp"), tst_customerid=contact("Ann Archer"),
        tst_regardingid=account("Acme"), tst_externalid=uuid.UUID(int=42),
    )  # fmt: skip
    project = EntityReference("tst_project", sample.projects["Apollo"])
    create(
        "tst_project",
        sample.projects,
        "Gemini",
        tst_name="Gemini",
        tst_code="GEM",
        tst_budget=Decimal("100"),
        tst_parentprojectid=project,
    )
    for name, hours, done in (("design", "4.5", False), ("build", "10", False), ("ship", "2", True)):
        create(
            "tst_task",
            sample.tasks,
            name,
            tst_name=name,
            tst_projectid=project,
            tst_hours=Decimal(hours),
            tst_done=done,
        )
    service = environment.service()
    service.execute_multiple(requests, transactional=True)
    service.set_state("incident", sample.cases["alpha two"], 1, 5)
    for name in ("c0-0", "c0-1"):
        service.associate("tst_project", sample.projects["Apollo"], "tst_project_contact", [contact(name)])
    sample.loaded = datetime.now(UTC)
    return sample


@dataclass
class World:
    """The installed environment, its schema, the sample ids, and helpers to run documents."""

    environment: Environment
    schema: XrmSchema
    sample: Sample
    backend: str

    def execute(
        self, document: str, variables: dict[str, Any] | None = None, *, schema: XrmSchema | None = None, **context: Any
    ) -> Any:
        user_id = context.pop("user_id", None)
        return (schema or self.schema).execute_sync(
            document, variable_values=variables, context_value=context_for(self.environment, user_id, **context)
        )

    def data(self, document: str, variables: dict[str, Any] | None = None, **options: Any) -> dict[str, Any]:
        result = self.execute(document, variables, **options)
        assert not result.errors, [error.formatted for error in result.errors]
        return result.data

    def errors(self, document: str, variables: dict[str, Any] | None = None, **options: Any) -> list[dict[str, Any]]:
        result = self.execute(document, variables, **options)
        assert result.errors, "expected errors"
        return [error.formatted for error in result.errors]

    def schema_with(self, **settings: Any) -> XrmSchema:
        return build_schema(self.environment, GraphQLSettings(**settings))

    @contextmanager
    def statements(self) -> Iterator[list[str]]:
        """Collects the SQL statements run on the engine while the block runs."""
        seen: list[str] = []

        def listen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            seen.append(statement)

        event.listen(self.environment.engine, "before_cursor_execute", listen)
        try:
            yield seen
        finally:
            event.remove(self.environment.engine, "before_cursor_execute", listen)


@pytest.fixture(scope="session", params=BACKENDS)
def graphql_world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp(f"graphql-{request.param}")
    with empty_database(request.param, folder, "xrm_g") as url:
        engine = open_engine(url)
        manager = SolutionManager(engine)
        for source in ("case", FIXTURES / "alltypes", _steps_solution(folder / "steps")):
            manager.install(source)
        registry = PluginRegistry()
        registry.register("gql_refuse", refuse_forbidden)
        registry.register("gql_ping", ping)
        environment = open_environment(engine, registry)
        world = World(environment, build_schema(environment), _load(environment), request.param)
        yield world
        engine.dispose()
