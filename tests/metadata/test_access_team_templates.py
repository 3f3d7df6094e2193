"""Access team templates on entities: rights names, user-owned entities only, stored and read back."""

from __future__ import annotations

from pathlib import Path

from xrm.metadata import compile_model, load_solution, read_solution
from xrm.metadata.entity import AccessTeamRight
from xrm.metadata.serialization import definition_from_data, definition_to_data

FIXTURES_FOLDER = Path(__file__).resolve().parents[1] / "fixtures" / "solutions"

ENTITY = """
logical_name: tst_job
ownership: %s
primary_name: tst_name
attributes:
  tst_name: {type: string}
access_team_templates:
  tst_job_crew:
    display_name: Crew
    rights: %s
"""


def test_templates_load_and_survive_the_database_round_trip(system) -> None:
    definition = load_solution(FIXTURES_FOLDER / "access_teams")
    model = compile_model([system, definition])
    templates = model.entity("atm_project").definition.access_team_templates
    assert sorted(templates) == ["atm_project_editors", "atm_project_readers"]
    assert templates["atm_project_editors"].rights == (AccessTeamRight.READ, AccessTeamRight.WRITE)
    assert definition_from_data(definition_to_data(definition)) == definition


def test_rights_are_checked_by_name_with_file_and_line(make_solution, where) -> None:
    root = make_solution(
        "jobs",
        {
            "entities/a.yaml": ENTITY % ("user", "[read, edit]"),
            "entities/b.yaml": ENTITY.replace("tst_job", "tst_gig") % ("user", "[read, read]"),
            "entities/c.yaml": ENTITY.replace("tst_job", "tst_run") % ("user", "[]"),
        },
    )
    _, issues = read_solution(root)
    found = sorted((where(issue, root), issue.message) for issue in issues)
    assert [location for location, _ in found] == ["entities/a.yaml:9", "entities/b.yaml:9", "entities/c.yaml:9"]
    assert "Input should be 'read', 'write', 'append', 'append_to', 'delete', 'share' or 'assign'" in found[0][1]
    assert "rights repeat ['read']" in found[1][1]
    assert "at least 1 item" in found[2][1]


def test_only_user_owned_entities_have_templates(system, make_solution, compile_issues, where) -> None:
    root = make_solution(
        "jobs",
        {
            "entities/a.yaml": ENTITY % ("organization", "[read]"),
            "entities/b.yaml": ENTITY.replace("tst_job", "tst_gig") % ("user", "[read, share]"),
        },
    )
    issues = compile_issues(system, load_solution(root))
    assert [(where(issue, root), issue.message) for issue in issues] == [
        (
            "entities/a.yaml:6",
            "'tst_job' has 'organization' ownership: only user-owned entities can have access team templates "
            "(ownership: user)",
        )
    ]


def test_an_extension_cannot_add_templates(system, make_solution, where) -> None:
    root = make_solution(
        "jobs",
        {"entities/account.yaml": "logical_name: account\nextends: true\naccess_team_templates: {}\n"},
    )
    _, issues = read_solution(root)
    assert [where(issue, root) for issue in issues] == ["entities/account.yaml:1"]
    assert "remove ['access_team_templates']" in issues[0].message
