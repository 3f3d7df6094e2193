"""Every shipped solution and fixture loads and compiles; the planted mistakes are all found."""

from __future__ import annotations

import os
import typing
from pathlib import Path

import pytest

from xrm.metadata import AttributeMetadata, Model, compile_model, load_solution, read_solution
from xrm.metadata.jsonschema import kind_of, schema_file
from xrm.metadata.serialization import write_solution_folder

REPO = Path(__file__).resolve().parents[2]
SYSTEM_FOLDER = REPO / "metadata"
SOLUTIONS_FOLDER = REPO / "solutions"
FIXTURES_FOLDER = REPO / "tests" / "fixtures" / "solutions"
SHIPPED = [SYSTEM_FOLDER, SOLUTIONS_FOLDER / "case", SOLUTIONS_FOLDER / "ticket"]
ALLTYPES = [FIXTURES_FOLDER / name for name in ("alltypes", "alltypes_v2", "alltypes_v3_drop")]
PLANTED = FIXTURES_FOLDER / "planted_mistakes"
ATTRIBUTE_TYPES = {
    typing.get_args(model.model_fields["type"].annotation)[0]
    for model in typing.get_args(typing.get_args(AttributeMetadata)[0])
}


def _compiled(*folders: Path) -> Model:
    return compile_model([load_solution(SYSTEM_FOLDER), *(load_solution(folder) for folder in folders)])


def _own_attributes(model: Model, solution: str) -> dict[tuple[str, str], object]:
    return {
        (entity.logical_name, attribute.name): attribute
        for entity in model.entities.values()
        for attribute in entity.attributes.values()
        if attribute.solution == solution and not attribute.system
    }


@pytest.mark.parametrize("folder", SHIPPED + ALLTYPES, ids=lambda folder: folder.name)
def test_folder_has_no_file_issues(folder):
    definition, issues = read_solution(folder)

    assert issues == []
    assert definition is not None


def test_shipped_solutions_compile_together():
    model = _compiled(SOLUTIONS_FOLDER / "ticket", SOLUTIONS_FOLDER / "case", FIXTURES_FOLDER / "alltypes")

    assert [definition.name for definition in model.solutions][0] == "system"
    assert {"incident", "subject", "contoso_ticket", "tst_project"} <= set(model.entities)


@pytest.mark.parametrize("folder", ALLTYPES, ids=lambda folder: folder.name)
def test_alltypes_versions_compile_with_the_shipped_solutions(folder):
    model = _compiled(SOLUTIONS_FOLDER / "case", SOLUTIONS_FOLDER / "ticket", folder)

    assert model.solution("alltypes").version == {"alltypes": "1.0.0", "alltypes_v2": "1.1.0"}.get(folder.name, "1.2.0")


def test_system_layer_has_the_core_entities():
    model = _compiled()

    activities = {name for name, entity in model.entities.items() if entity.is_activity}
    assert activities == {"task", "email", "phonecall", "appointment"}
    appointment_states = [state.name for state in model.entity("appointment").states.states]
    assert appointment_states == ["open", "completed", "canceled", "scheduled"]
    assert model.entity("task").primary_id == "activityid"
    assert model.entity("annotation").attribute("objectid").type == "regarding"
    assert model.relationships["contact_customer_accounts"].cascade.is_parental
    assert model.relationships["account_primary_contact"].cascade.delete.value == "remove_link"
    assert model.relationships["account_parent_account"].hierarchical
    assert model.relationships["user_parent_user"].referenced_entity == "systemuser"
    assert model.entity("team").attribute("teamtype").options[1].label == "Access"
    assert "system_administrator" in model.roles


def test_incident_follows_dataverse():
    incident = _compiled(SOLUTIONS_FOLDER / "case").entity("incident")

    statuses = {state.label: [(s.value, s.label) for s in state.statuses] for state in incident.states.states}
    assert statuses == {
        "Active": [(1, "In Progress"), (2, "On Hold"), (3, "Waiting for Details"), (4, "Researching")],
        "Resolved": [(5, "Problem Solved"), (1000, "Information Provided")],
        "Canceled": [(6, "Canceled"), (2000, "Merged")],
    }
    assert incident.states.enforce_transitions
    assert 2000 not in {transition.from_status for transition in incident.states.transitions}
    ticketnumber = incident.attribute("ticketnumber").metadata
    assert (ticketnumber.format, ticketnumber.create_only) == ("CAS-{SEQNUM:5}-{RANDSTRING:6}", True)
    origins = {option.value: option.label for option in incident.attribute("caseorigincode").options}
    assert origins == {1: "Phone", 2: "Email", 3: "Web", 2483: "Facebook", 3986: "Twitter"}
    priorities = [option.label for option in incident.attribute("prioritycode").options]
    assert priorities == ["High", "Normal", "Low"]


def test_ticket_is_built_from_prefixed_generic_features():
    model = _compiled(SOLUTIONS_FOLDER / "ticket")

    own = _own_attributes(model, "ticket")
    assert own and all(name.startswith("contoso_") for _, name in own)
    assert {entity for entity, _ in own} == {"contoso_ticket"}
    assert model.entity("contoso_ticket").states.enforce_transitions


def test_alltypes_uses_every_attribute_type_and_component():
    model = _compiled(FIXTURES_FOLDER / "alltypes")
    own = _own_attributes(model, "alltypes").values()

    assert {attribute.type for attribute in own} == ATTRIBUTE_TYPES
    formats = {attribute.metadata.format.value for attribute in own if attribute.type == "string"}
    assert formats == {"text", "email", "url", "phone", "textarea"}
    behaviors = {attribute.metadata.behavior.value for attribute in own if attribute.type == "datetime"}
    assert {"date_only", "user_local"} <= behaviors
    choices = [attribute.metadata for attribute in own if attribute.type == "choice"]
    assert any(choice.optionset for choice in choices) and any(choice.options for choice in choices)
    relationships = [rel for rel in model.relationships_of("tst_project") if not rel.implicit]
    assert any(rel.kind == "many_to_many" for rel in relationships)
    assert any(rel.hierarchical and rel.referenced_entity == rel.referencing_entity for rel in relationships)
    assert model.relationships["tst_project_tasks"].cascade.share.value == "active"
    assert model.entity("tst_project").keys and model.entity("tst_project").states is not None
    view = model.views[("tst_project", "Active Projects")].metadata
    assert view.links and view.order and view.filter.filters[0].filters


def test_alltypes_v2_adds_one_attribute_and_one_option():
    v1, v2 = _compiled(ALLTYPES[0]), _compiled(ALLTYPES[1])

    assert set(_own_attributes(v2, "alltypes")) - set(_own_attributes(v1, "alltypes")) == {
        ("tst_project", "tst_sponsorname")
    }
    assert set(_own_attributes(v1, "alltypes")) <= set(_own_attributes(v2, "alltypes"))
    old = {option.value for option in v1.optionsets["tst_priority"].options}
    new = {option.value for option in v2.optionsets["tst_priority"].options}
    assert new - old == {4} and old <= new


def test_alltypes_v3_drops_one_attribute():
    v2, v3 = _compiled(ALLTYPES[1]), _compiled(ALLTYPES[2])

    assert set(_own_attributes(v2, "alltypes")) - set(_own_attributes(v3, "alltypes")) == {("tst_project", "tst_score")}
    assert set(_own_attributes(v3, "alltypes")) <= set(_own_attributes(v2, "alltypes"))


def test_planted_mistakes_are_all_reported(compile_issues, where):
    expected = (PLANTED / "EXPECTED.txt").read_text().split()
    definition, file_issues = read_solution(PLANTED)
    assert definition is not None
    issues = file_issues + compile_issues(load_solution(SYSTEM_FOLDER), definition)

    found = sorted(where(issue, PLANTED) for issue in issues)
    assert len(expected) == len(set(expected)) == 10
    assert found == sorted(expected)


@pytest.mark.parametrize("folder", SHIPPED + ALLTYPES, ids=lambda folder: folder.name)
def test_yaml_files_name_their_schema(folder):
    for file in sorted(folder.rglob("*.yaml")):
        kind = kind_of(file.relative_to(folder).as_posix())
        assert kind is not None, file
        target = os.path.relpath(REPO / "schemas" / schema_file(kind), file.parent)
        first_line = file.read_text(encoding="utf-8").splitlines()[0]
        assert first_line == f"# yaml-language-server: $schema={target}", file
        assert (file.parent / target).resolve().is_file()


@pytest.mark.parametrize("folder", SHIPPED + ALLTYPES, ids=lambda folder: folder.name)
def test_export_reproduces_the_folder_layout_and_content(folder, tmp_path):
    definition = load_solution(folder)
    written = write_solution_folder(definition, tmp_path / "export")

    assert sorted(path.relative_to(tmp_path / "export").as_posix() for path in written) == sorted(
        path.relative_to(folder).as_posix() for path in folder.rglob("*.yaml")
    )
    assert load_solution(tmp_path / "export") == definition
