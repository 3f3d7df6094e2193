"""Custom actions (``actions/<name>.yaml``): loading, compiling, problems at their file and line."""

from __future__ import annotations

from pathlib import Path

from xrm.metadata import ActionMetadata, compile_model, load_solution, read_solution
from xrm.metadata._base import stable_id
from xrm.metadata.serialization import definition_from_data, definition_to_data, write_solution_folder

REPO = Path(__file__).resolve().parents[2]
SOLUTIONS_FOLDER = REPO / "solutions"
FIXTURES_FOLDER = REPO / "tests" / "fixtures" / "solutions"


def test_the_fixture_actions_compile_with_stable_ids(system):
    actions = load_solution(FIXTURES_FOLDER / "actions")
    model = compile_model([system, load_solution(SOLUTIONS_FOLDER / "case"), actions])

    assert sorted(n for n, a in model.actions.items() if a.solution == "actions") == [
        "tac_echo",
        "tac_escalate",
        "tac_noop",
    ]
    escalate = model.actions["tac_escalate"]
    assert escalate.solution == "actions" and escalate.id == stable_id("action", "tac_escalate")
    assert isinstance(escalate.metadata, ActionMetadata) and escalate.metadata.entity == "incident"
    assert escalate.metadata.parameters["reason"].required
    assert model.actions["tac_echo"].metadata.parameters["account"].entity == "account"  # type: ignore[union-attr]


def test_actions_survive_the_database_and_a_folder_round_trip(tmp_path):
    definition = load_solution(FIXTURES_FOLDER / "actions")

    assert definition_from_data(definition_to_data(definition)).actions == definition.actions
    write_solution_folder(definition, tmp_path / "copy")
    assert load_solution(tmp_path / "copy").actions == definition.actions
    assert sorted(path.name for path in (tmp_path / "copy" / "actions").iterdir()) == [
        "tac_echo.yaml",
        "tac_escalate.yaml",
        "tac_noop.yaml",
    ]


def test_file_level_problems_are_reported_at_their_line(make_solution, where):
    root = make_solution(
        "ext",
        {
            "actions/tst_go.yaml": """
                name: tst_go
                parameters:
                  who: {type: reference}
                  when: {type: date}
                  size: {type: integer, entity: account}
                outputs:
                  done: {type: boolean, optional: true}
            """
        },
    )
    _, issues = read_solution(root)

    assert [(where(issue, root), issue.message) for issue in issues] == [
        ("actions/tst_go.yaml:3", "a reference needs 'entity'"),
        (
            "actions/tst_go.yaml:4",
            "Input should be 'string', 'integer', 'decimal', 'float', 'boolean', 'datetime', "
            "'uuid', 'reference' or 'json'",
        ),
        ("actions/tst_go.yaml:5", "'entity' applies to references only"),
        ("actions/tst_go.yaml:7", "unknown key 'optional'"),
    ]


def test_references_prefix_and_duplicates_are_checked(system, make_solution, compile_issues, where):
    first = make_solution("first", {"actions/tst_go.yaml": "name: tst_go\n"})
    root = make_solution(
        "ext",
        {
            "actions/go.yaml": """
                name: tst_go
                entity: tst_nothing
                parameters:
                  who: {type: reference, entity: tst_nobody}
                outputs:
                  whom: {type: reference, entity: account}
            """,
            "actions/update.yaml": "name: update\n",
        },
        depends=["first"],
    )
    issues = compile_issues(system, load_solution(first), load_solution(root))

    assert sorted((where(issue, root), issue.message) for issue in issues) == [
        ("actions/go.yaml:1", "action 'tst_go' already exists in 'first'"),
        ("actions/go.yaml:2", "unknown entity 'tst_nothing'"),
        ("actions/go.yaml:4", "unknown entity 'tst_nobody'"),
        ("actions/update.yaml:1", "'update' is a standard message"),
        ("actions/update.yaml:1", "'update' must start with the publisher prefix 'tst_'"),
    ]
