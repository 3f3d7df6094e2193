"""Layering rules, checked on small solutions written to tmp_path."""

from __future__ import annotations

import pytest

from xrm.errors import MetadataError
from xrm.metadata import compile_model, load_solution, read_solution

WIDGET = """
    logical_name: tst_widget
    primary_name: tst_name
    attributes:
      tst_name: {type: string, max_length: 100}
"""


def test_extension_adds_to_an_entity_of_another_solution(system, make_solution):
    root = make_solution(
        "ext",
        {
            "entities/account.yaml": """
                logical_name: account
                extends: true
                attributes:
                  tst_rating: {type: integer, min: 1, max: 5}
                  tst_widgetid: {type: lookup, target: tst_widget}
                keys:
                  tst_rating_key: {attributes: [tst_rating]}
                relationships:
                  tst_widget_accounts: {lookup: tst_widgetid}
            """,
            "entities/tst_widget.yaml": WIDGET,
        },
    )
    model = compile_model([system, load_solution(root)])

    account = model.entity("account")
    assert account.solution == "system"
    assert account.attributes["tst_rating"].solution == "ext"
    assert account.attributes["name"].solution == "system"
    assert account.keys["tst_rating_key"].solution == "ext"
    relationship = model.relationships["tst_widget_accounts"]
    assert (relationship.referenced_entity, relationship.referencing_entity) == ("tst_widget", "account")
    assert relationship.solution == "ext"


def test_redefining_an_attribute_of_another_solution_names_the_owner(system, make_solution, compile_issues):
    root = make_solution(
        "ext",
        {
            "entities/account.yaml": """
                logical_name: account
                extends: true
                attributes:
                  tst_rating: {type: integer}
                  name: {type: string, max_length: 200}
            """
        },
    )
    (issue,) = compile_issues(system, load_solution(root))

    assert issue.file.endswith("entities/account.yaml")
    assert issue.line == 5
    assert issue.path == "attributes.name"
    assert issue.message == "attribute 'name' already exists on 'account' (owned by 'system')"


def test_an_entity_of_another_solution_needs_extends(system, make_solution, compile_issues):
    root = make_solution("ext", {"entities/account.yaml": "logical_name: account\nprimary_name: name\n"})
    (issue,) = compile_issues(system, load_solution(root))

    assert issue.line == 1
    assert "entity 'account' is already defined by solution 'system'" in issue.message
    assert "extends: true" in issue.message


def test_an_extension_cannot_change_the_entity_itself(make_solution):
    extension = "logical_name: account\nextends: true\ndisplay_name: Customer\n"
    root = make_solution("ext", {"entities/account.yaml": extension})
    definition, issues = read_solution(root)

    assert [issue.message for issue in issues] == [
        "an extension may only add attributes, keys and relationships; remove ['display_name']"
    ]
    assert definition is not None and definition.entities == ()


def test_extending_an_unknown_entity(system, make_solution, compile_issues):
    root = make_solution("ext", {"entities/tst_gadget.yaml": "logical_name: tst_gadget\nextends: true\n"})
    (issue,) = compile_issues(system, load_solution(root))

    assert (issue.line, issue.message) == (1, "extends unknown entity 'tst_gadget'")


def test_names_without_the_publisher_prefix(system, make_solution, compile_issues):
    root = make_solution(
        "ext",
        {
            "entities/widget.yaml": """
                logical_name: widget
                primary_name: tst_name
                attributes:
                  tst_name: {type: string}
                  colour: {type: string}
                  tst_accountid: {type: lookup, target: account}
                relationships:
                  account_widgets: {lookup: tst_accountid}
            """,
            "optionsets/sizes.yaml": "name: sizes\noptions:\n  - {value: 1, label: Small}\n",
        },
    )
    issues = compile_issues(system, load_solution(root))

    assert [(issue.file.rsplit("/", 1)[-1], issue.line, issue.message) for issue in issues] == [
        ("widget.yaml", 1, "'widget' must start with the publisher prefix 'tst_'"),
        ("widget.yaml", 5, "'colour' must start with the publisher prefix 'tst_'"),
        ("widget.yaml", 8, "'account_widgets' must start with the publisher prefix 'tst_'"),
        ("sizes.yaml", 1, "'sizes' must start with the publisher prefix 'tst_'"),
    ]


def test_a_native_publisher_needs_no_prefix(system, make_solution):
    root = make_solution("firstparty", {"entities/widget.yaml": WIDGET.replace("tst_", "")}, native=True)
    model = compile_model([system, load_solution(root)])

    assert model.entity("widget").primary_name == "name"


def test_checks_continue_after_a_missing_prefix(system, make_solution, compile_issues):
    root = make_solution(
        "ext",
        {
            "entities/tst_widget.yaml": WIDGET + "      colour: {type: choice, optionset: tst_colours}\n",
            "views/widgets.yaml": """
                name: Widgets
                entity: tst_widget
                columns: [tst_name, tst_size]
            """,
        },
    )
    issues = compile_issues(system, load_solution(root))

    assert sorted((issue.line, issue.message) for issue in issues) == [
        (3, "'tst_widget' has no attribute 'tst_size'"),
        (5, "'colour' must start with the publisher prefix 'tst_'"),
        (5, "unknown option set 'tst_colours'"),
    ]


def test_duplicate_yaml_key_reports_both_lines(make_solution):
    root = make_solution(
        "ext",
        {
            "entities/tst_widget.yaml": """
                logical_name: tst_widget
                primary_name: tst_name
                attributes:
                  tst_name: {type: string}
                  tst_size: {type: integer}
                  tst_name: {type: memo}
            """
        },
    )
    with pytest.raises(MetadataError) as raised:
        load_solution(root)

    (issue,) = raised.value.issues
    assert issue.file.endswith("entities/tst_widget.yaml")
    assert issue.line == 6
    assert issue.message == "duplicate key 'tst_name' (first at line 4)"
    assert str(issue).endswith("tst_widget.yaml:6: duplicate key 'tst_name' (first at line 4)")


def test_unknown_key_is_reported_at_its_line_and_the_rest_still_loads(make_solution):
    root = make_solution(
        "ext",
        {
            "entities/tst_widget.yaml": """
                logical_name: tst_widget
                primary_name: tst_name
                attributes:
                  tst_name: {type: string}
                  tst_size:
                    type: integer
                    maximum: 10
            """
        },
    )
    definition, issues = read_solution(root)

    assert [(issue.line, issue.path, issue.message) for issue in issues] == [
        (7, "attributes.tst_size.maximum", "unknown key 'maximum'")
    ]
    assert definition is not None
    assert list(definition.entities[0].attributes) == ["tst_name"]


def test_a_failed_list_item_is_reported_once(make_solution):
    root = make_solution(
        "ext",
        {
            "forms/widget.yaml": """
                name: Widget
                entity: tst_widget
                tabs:
                  - name: general
                    sections:
                      - name: details
                        rows: [[tst_name]]
                        colums: 2
            """
        },
    )
    _, issues = read_solution(root)

    assert [(issue.line, issue.message) for issue in issues] == [(8, "unknown key 'colums'")]


def test_dependency_cycle_between_two_solutions(system, make_solution, compile_issues):
    first = load_solution(make_solution("first", depends=["second"]))
    second = load_solution(make_solution("second", depends=["first"]))
    issues = compile_issues(system, first, second)

    assert sorted(issue.file.rsplit("/", 2)[-2] for issue in issues) == ["first", "second"]
    for issue in issues:
        assert issue.file.endswith("solution.yaml")
        assert issue.line == 5  # the 'dependencies' key
        assert issue.message.startswith("dependency cycle: ")
        assert set(issue.message.removeprefix("dependency cycle: ").split(" -> ")) == {"first", "second"}


def test_unknown_dependency(system, make_solution, compile_issues):
    root = make_solution("ext", depends=["system", "missing"])
    (issue,) = compile_issues(system, load_solution(root))

    assert issue.file.endswith("solution.yaml")
    assert issue.line == 7
    assert issue.path == "dependencies.missing"
    assert issue.message == "depends on 'missing', which is not installed"


def test_dependency_version_must_match(system, make_solution, compile_issues):
    manifest = """
        name: ext
        display_name: Ext
        version: 1.0.0
        publisher: {name: Test, prefix: tst}
        dependencies:
          - {name: system, version: ">=2.0"}
    """
    (issue,) = compile_issues(system, load_solution(make_solution("ext", manifest=manifest)))

    assert (issue.line, issue.message) == (6, "needs 'system' >=2.0, but version 1.1.0 is installed")


def test_a_lower_layer_cannot_see_a_higher_one(system, make_solution, compile_issues):
    widget = WIDGET + "      tst_gadgetid: {type: lookup, target: tst_gadget}\n"
    gadget = WIDGET.replace("tst_widget", "tst_gadget")
    lower = make_solution("lower", {"entities/tst_widget.yaml": widget})
    upper = make_solution("upper", {"entities/tst_gadget.yaml": gadget}, depends=["lower"])
    (issue,) = compile_issues(system, load_solution(lower), load_solution(upper))

    assert issue.file.endswith("lower/entities/tst_widget.yaml")
    assert (issue.line, issue.message) == (5, "lookup target 'tst_gadget' is not an entity")


PARENTAL = "{assign: cascade, share: cascade, unshare: cascade, reparent: cascade, delete: cascade}"


def test_one_polymorphic_lookup_may_be_parental_for_each_target(system, make_solution):
    widget = f"""
        logical_name: tst_widget
        primary_name: tst_name
        attributes:
          tst_name: {{type: string}}
          tst_customerid: {{type: customer}}
        relationships:
          tst_account_widgets: {{lookup: tst_customerid, target: account, cascade: {PARENTAL}}}
          tst_contact_widgets: {{lookup: tst_customerid, target: contact, cascade: {PARENTAL}}}
    """
    model = compile_model([system, load_solution(make_solution("ext", {"entities/tst_widget.yaml": widget}))])

    assert model.relationships["tst_account_widgets"].cascade.is_parental
    assert model.relationships["tst_contact_widgets"].cascade.is_parental


def test_two_parental_lookups_on_one_entity_are_refused(system, make_solution, compile_issues):
    widget = f"""
        logical_name: tst_widget
        primary_name: tst_name
        attributes:
          tst_name: {{type: string}}
          tst_accountid: {{type: lookup, target: account}}
          tst_contactid: {{type: lookup, target: contact}}
        relationships:
          tst_account_widgets: {{lookup: tst_accountid, cascade: {PARENTAL}}}
          tst_contact_widgets: {{lookup: tst_contactid, cascade: {PARENTAL}}}
    """
    issues = compile_issues(system, load_solution(make_solution("ext", {"entities/tst_widget.yaml": widget})))

    assert [(issue.line, issue.path) for issue in issues] == [
        (8, "relationships.tst_account_widgets.cascade"),
        (9, "relationships.tst_contact_widgets.cascade"),
    ]
    assert all("already the child of a parental relationship" in issue.message for issue in issues)
