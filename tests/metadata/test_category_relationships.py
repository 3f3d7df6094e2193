"""Categories: the system layer's hierarchical ``category`` and the N:N relationship that
``has_categories: true`` gives an entity."""

from __future__ import annotations

from pathlib import Path

from xrm.metadata import compile_model, load_solution, read_solution

CASE = Path(__file__).resolve().parents[2] / "solutions" / "case"


def test_the_case_is_tagged_through_incident_category(system):
    model = compile_model([system, load_solution(CASE)])

    tree = model.relationships["category_parent_category"]
    assert (tree.referenced_entity, tree.referencing_entity, tree.lookup, tree.hierarchical) == (
        "category", "category", "parentcategoryid", True,
    )  # fmt: skip
    tags = model.relationships["incident_category"]
    assert (tags.kind, tags.solution, tags.intersect_columns) == ("many_to_many", "case", ("incidentid", "categoryid"))
    untagged = [name for name, entity in model.entities.items() if not entity.definition.has_categories]
    assert not any(f"{name}_category" in model.relationships for name in untagged)


def test_a_taken_relationship_name_is_reported_at_has_categories(system, make_solution, compile_issues, where):
    root = make_solution(
        "ext",
        {
            "entities/tst_deal.yaml": """
                logical_name: tst_deal
                primary_name: tst_name
                has_categories: true
                attributes:
                  tst_name: {type: string}
                many_to_many:
                  tst_deal_category: {entity: contact}
            """
        },
    )
    definition, file_issues = read_solution(root)
    assert definition is not None and file_issues == []

    assert [(where(issue, root), issue.message) for issue in compile_issues(system, definition)] == [
        ("entities/tst_deal.yaml:3", "relationship 'tst_deal_category' already exists; has_categories needs the name"),
    ]
