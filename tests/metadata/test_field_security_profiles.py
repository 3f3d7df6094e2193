"""Field security profiles (``field_security_profiles/<name>.yaml``): loading, compiling,
problems at their file and line, and the round trip through the database and a folder."""

from __future__ import annotations

from pathlib import Path

from xrm.metadata import FieldSecurityProfileMetadata, compile_model, load_solution, read_solution
from xrm.metadata._base import stable_id
from xrm.metadata.serialization import definition_from_data, definition_to_data, write_solution_folder

FLS = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "solutions" / "fls"

ENTITY = """
    logical_name: tst_deal
    primary_name: tst_name
    attributes:
      tst_name: {type: string}
      tst_margin: {type: decimal, secured: true}
"""


def test_the_fixture_profiles_compile_with_stable_ids(system):
    model = compile_model([system, load_solution(FLS)])

    assert sorted(model.field_profiles) == ["fls_payroll_editor", "fls_payroll_reader"]
    reader = model.field_profiles["fls_payroll_reader"]
    assert reader.solution == "fls" and reader.id == stable_id("field_security_profile", "fls_payroll_reader")
    assert isinstance(reader.metadata, FieldSecurityProfileMetadata)
    salary = reader.metadata.permissions[0]
    assert (salary.entity, salary.attribute, salary.read, salary.create, salary.update) == (
        "fls_contract", "fls_salary", True, False, False,
    )  # fmt: skip


def test_profiles_survive_the_database_and_a_folder_round_trip(tmp_path):
    definition = load_solution(FLS)

    assert definition_from_data(definition_to_data(definition)) == definition
    write_solution_folder(definition, tmp_path / "copy")
    assert load_solution(tmp_path / "copy").field_security_profiles == definition.field_security_profiles
    assert sorted(path.name for path in (tmp_path / "copy" / "field_security_profiles").iterdir()) == [
        "fls_payroll_editor.yaml",
        "fls_payroll_reader.yaml",
    ]


def test_file_level_problems_are_reported_at_their_line(make_solution, where):
    root = make_solution(
        "ext",
        {
            "field_security_profiles/tst_sales.yaml": """
                name: tst_sales
                permissions:
                  - {entity: tst_deal, attribute: tst_margin, read: yes please}
                  - {entity: tst_deal, attribute: tst_margin, write: true}
            """
        },
    )
    _, issues = read_solution(root)

    assert [(where(issue, root), issue.message) for issue in issues] == [
        ("field_security_profiles/tst_sales.yaml:3", "Input should be a valid boolean, unable to interpret input"),
        ("field_security_profiles/tst_sales.yaml:4", "unknown key 'write'"),
    ]


def test_permissions_name_secured_attributes_once(system, make_solution, compile_issues, where):
    root = make_solution(
        "ext",
        {
            "entities/tst_deal.yaml": ENTITY,
            "field_security_profiles/tst_sales.yaml": """
                name: tst_sales
                permissions:
                  - {entity: tst_deal, attribute: tst_margin, read: true, update: true}
                  - {entity: tst_nothing, attribute: tst_margin, read: true}
                  - {entity: tst_deal, attribute: tst_nope, read: true}
                  - {entity: tst_deal, attribute: tst_name, read: true}
            """,
            "field_security_profiles/tst_twice.yaml": """
                name: tst_twice
                permissions:
                  - {entity: tst_deal, attribute: tst_margin, read: true}
                  - {entity: tst_deal, attribute: tst_margin, update: true}
            """,
        },
    )
    definition, file_issues = read_solution(root)
    assert definition is not None
    issues = compile_issues(system, definition)

    assert [(where(issue, root), issue.message) for issue in file_issues] == [
        ("field_security_profiles/tst_twice.yaml:2", "tst_deal.tst_margin listed more than once"),
    ]
    assert sorted((where(issue, root), issue.message) for issue in issues) == [
        ("field_security_profiles/tst_sales.yaml:4", "unknown entity 'tst_nothing'"),
        ("field_security_profiles/tst_sales.yaml:5", "'tst_deal' has no attribute 'tst_nope'"),
        (
            "field_security_profiles/tst_sales.yaml:6",
            "'tst_deal.tst_name' is not secured: a field permission on it means nothing (mark the attribute "
            "'secured: true')",
        ),
    ]
