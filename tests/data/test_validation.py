"""Every attribute type's validation rule, through the service, on the alltypes fixture."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from xrm.data import Entity, EntityReference
from xrm.errors import ValidationError
from xrm.query import QueryExpression


@pytest.fixture
def alltypes(environment, fixture_solution):  # type: ignore[no-untyped-def]
    return environment(fixture_solution("alltypes"))


BAD = [
    ("tst_email", "not-an-address", "not an e-mail address"),
    ("tst_website", "example.com", "not a URL"),
    ("tst_code", "x" * 21, "at most 20 allowed"),
    ("tst_headcount", 1001, "above the maximum 1000"),
    ("tst_bytes", 2**63, "out of range"),
    ("tst_ratio", Decimal("1.5"), "above the maximum 1"),
    ("tst_ratio", Decimal("0.12345"), "more than 4 decimal places"),
    ("tst_budget", -1, "below the minimum 0"),
    ("tst_score", "abc", "'abc' is not a number"),
    ("tst_active", "yes", "expected true or false"),
    ("tst_startdate", "31/12/2026", "not an ISO date"),
    ("tst_deadline", 5, "expected a date-time"),
    ("tst_phase", 9, "not one of the option values [1, 2, 3]"),
    ("tst_priority", 0, "not one of the option values"),
    ("tst_tags", [1, 99], "99 is not one of the option values"),
    ("tst_tags", 3, "expected a list of option values"),
    ("tst_accountid", EntityReference("contact", uuid.uuid4()), "a reference to 'contact' is not allowed here"),
    ("tst_customerid", EntityReference("systemuser", uuid.uuid4()), "targets: account, contact"),
    ("tst_sponsorid", EntityReference("account", uuid.uuid4()), "targets: systemuser, team"),
    ("tst_regardingid", EntityReference("contact", uuid.uuid4()), "does not exist"),
    ("tst_externalid", "zzz", "not a UUID"),
    ("tst_label", "x", "calculated attribute is computed by the platform"),
    ("tst_taskcount", 4, "rollup attribute is computed by the platform"),
    ("versionnumber", 4, "maintained by the platform"),
    ("statecode", 1, "use set_state"),
]


def test_each_rule_names_the_attribute(alltypes) -> None:
    """One install, every rule: each bad value fails alone, naming its attribute and why."""
    service = alltypes.service()
    wrong = []
    for attribute, value, reason in BAD:
        try:
            service.create(Entity("tst_project", {"tst_name": "p", attribute: value}))
        except ValidationError as error:
            if [(p.attribute, reason in p.reason) for p in error.problems] != [(attribute, True)]:
                wrong.append((attribute, value, error.problems))
        else:
            wrong.append((attribute, value, "accepted"))
    assert not wrong, wrong
    assert service.retrieve_multiple(QueryExpression("tst_project")).entities == [], "nothing was written"


def test_good_values_of_every_type_round_trip(alltypes) -> None:
    service = alltypes.service()
    account = EntityReference("account", service.create(Entity("account", name="A")))
    contact = EntityReference("contact", service.create(Entity("contact", lastname="C")))
    external = uuid.uuid4()
    values = {
        "tst_name": "Project", "tst_code": "P1", "tst_email": "a@b.example", "tst_website": "https://b.example",
        "tst_phone": "+1 555", "tst_summary": "s" * 4000, "tst_description": "d" * 50_000, "tst_headcount": 0,
        "tst_bytes": 2**62, "tst_ratio": Decimal("0.1234"), "tst_budget": Decimal("1234.56"), "tst_score": 2.5,
        "tst_active": False, "tst_startdate": dt.date(2026, 2, 28),
        "tst_deadline": dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC), "tst_phase": 3, "tst_priority": 1,
        "tst_tags": [3, 1], "tst_accountid": account, "tst_customerid": contact, "tst_regardingid": account,
        "tst_externalid": external,
    }  # fmt: skip
    record = service.retrieve("tst_project", service.create(Entity("tst_project", values)))
    expected = {**values, "tst_tags": [1, 3]}
    for name, value in expected.items():
        got = record[name]
        if isinstance(value, dt.datetime):
            got = got if got.tzinfo else got.replace(tzinfo=dt.UTC)
        if isinstance(value, Decimal):
            got = Decimal(str(got))
        assert got == value, (name, got, value)
    assert record["tst_label"] == "Project (A)", "calculated through the account lookup"


def test_multichoice_contain_values(alltypes) -> None:
    from xrm.query import ConditionExpression, FilterExpression, OrderExpression

    service = alltypes.service()
    for name, tags in (("one-three", [1, 3]), ("two", [2]), ("none", None), ("empty", [])):
        service.create(Entity("tst_project", tst_name=name, tst_tags=tags))

    def names(operator: str, *values: int) -> list[str]:
        criteria = FilterExpression(conditions=(ConditionExpression("tst_tags", operator, values),))
        query = QueryExpression(
            "tst_project", columns=("tst_name",), criteria=criteria, orders=(OrderExpression("tst_name"),)
        )
        return [row["tst_name"] for row in service.retrieve_multiple(query)]

    assert names("contain_values", 1) == ["one-three"]
    assert names("contain_values", 3) == ["one-three"]
    assert names("contain_values", 2, 3) == ["one-three", "two"]
    assert names("not_contain_values", 1) == ["empty", "none", "two"]
