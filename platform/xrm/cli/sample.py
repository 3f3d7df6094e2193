"""The demo's sample data: a few customers with contacts, cases and their activities.

Everything goes through the organization service, so autonumbers, rollups, audit and plugins run
as for any client. Loaded once: nothing happens when the database already has an account.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from xrm.data import Entity, EntityReference, Environment, OrganizationService

__all__ = ["load_sample_data"]

ACCOUNT_COLUMNS = ("name", "accountnumber", "industrycode", "address1_city", "address1_country", "telephone1",
                   "websiteurl", "revenue", "numberofemployees")  # fmt: skip
ACCOUNTS: list[tuple[object, ...]] = [
    ("Contoso Pharmaceuticals", "ACC-1001", 16, "Redmond", "United States", "+1 425 555 0100", "https://contoso.example", 48_000_000, 1200),
    ("Fabrikam, Inc.", "ACC-1002", 12, "Lisbon", "Portugal", "+351 21 555 0101", "https://fabrikam.example", 12_500_000, 340),
    ("Adventure Works Cycles", "ACC-1003", 32, "Bothell", "United States", "+1 425 555 0102", "https://adventure-works.example", 31_000_000, 560),
    ("Northwind Traders", "ACC-1004", 33, "Seattle", "United States", "+1 206 555 0103", "https://northwind.example", 8_700_000, 95),
    ("Alpine Ski House", "ACC-1005", 14, "Innsbruck", "Austria", "+43 512 555 0104", "https://alpineskihouse.example", 2_300_000, 40),
]  # fmt: skip

# first, last, job title, account index (None: a private customer)
CONTACTS: list[tuple[str, str, str, int | None]] = [
    ("Maria", "Campbell", "Head of Procurement", 0),
    ("Ravi", "Mehta", "IT Director", 0),
    ("Joana", "Sousa", "Operations Manager", 1),
    ("Nancy", "Anderson", "Purchasing Agent", 2),
    ("Ken", "Sanchez", "Chief Executive Officer", 2),
    ("Andrew", "Fuller", "Vice President, Sales", 3),
    ("Anna", "Gruber", "Owner", 4),
    ("Yvonne", "McKay", "Freelance Photographer", None),
]

SUBJECTS = ["Billing", "Delivery", "Product quality", "Installation"]


@dataclass(frozen=True)
class SampleCase:
    title: str
    customer: int  # an account index, or with ``private`` a contact index
    contact: int
    subject: int
    priority: int
    origin: int
    kind: int
    resolved: int | None = None  # the status it is resolved with
    description: str | None = None
    private: bool = False


CASES = [
    SampleCase("Invoice 4711 charged twice", 0, 0, 0, 1, 2, 2, 5, "The March invoice was debited twice from our account."),
    SampleCase("Cold-chain shipment arrived warm", 0, 1, 1, 1, 1, 2, None, "Temperature logger shows 14 C on arrival."),
    SampleCase("Request for a second training session", 1, 2, 3, 3, 3, 3, None, "New staff need the onboarding course."),
    SampleCase("Wrong frame size delivered", 2, 3, 1, 2, 2, 2, None, "Ordered 56 cm frames, received 54 cm."),
    SampleCase("How do I export order history?", 2, 4, 0, 3, 3, 1, 1000),
    SampleCase("Damaged pallets in last delivery", 3, 5, 1, 2, 1, 2, None, "Three pallets broken, photos attached."),
    SampleCase("Ski rental system down", 4, 6, 3, 1, 1, 2, None, "Check-out terminals fail since the update."),
    SampleCase("Camera strap recall question", 7, 7, 2, 3, 2, 1, private=True),
]  # fmt: skip

# entity, subject, regarding case index, minutes, completed
ACTIVITIES: list[tuple[str, str, int, int, bool]] = [
    ("phonecall", "Called about the double charge", 0, 15, True),
    ("email", "Refund confirmation", 0, 5, True),
    ("task", "Check the temperature logger data", 1, 30, False),
    ("phonecall", "Carrier follow-up", 1, 20, True),
    ("appointment", "On-site training", 2, 240, False),
    ("task", "Arrange frame exchange", 3, 45, False),
    ("email", "Export instructions", 4, 10, True),
    ("task", "Claim with the freight forwarder", 5, 60, False),
    ("phonecall", "Remote diagnosis of the terminals", 6, 90, True),
    ("email", "Recall FAQ", 7, 5, False),
]


def _has_accounts(environment: Environment) -> bool:
    with environment.engine.connect() as connection:
        return bool(connection.execute(select(func.count()).select_from(environment.table("account"))).scalar_one())


def load_sample_data(environment: Environment, user_id: uuid.UUID | None = None) -> dict[str, int]:
    """Create the sample records acting as ``user_id``; returns counts per kind ({} if already loaded)."""
    if "incident" not in environment.model.entities or _has_accounts(environment):
        return {}
    service = environment.service(user_id)
    accounts = [_create(service, "account", {**dict(zip(ACCOUNT_COLUMNS, row, strict=True)), "customertypecode": 3})
                for row in ACCOUNTS]  # fmt: skip
    contacts = [_contact(service, row, accounts) for row in CONTACTS]
    for index, account in enumerate(accounts):
        primary = next(c for c, row in zip(contacts, CONTACTS, strict=True) if row[3] == index)
        service.update(Entity("account", {"primarycontactid": primary}, id=account.id))
    subjects = [_create(service, "subject", {"title": title}) for title in SUBJECTS]
    cases = [_case(service, case, accounts, contacts, subjects) for case in CASES]
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    for number, (entity, subject, regarding, minutes, completed) in enumerate(ACTIVITIES):
        start = now - dt.timedelta(days=len(ACTIVITIES) - number)
        _activity(service, entity, subject, cases[regarding], minutes, completed, start)
    for reference, case in zip(cases, CASES, strict=True):
        if case.resolved is not None:
            service.set_state("incident", reference.id, 1, case.resolved)
    return {"accounts": len(accounts), "contacts": len(contacts), "cases": len(cases), "activities": len(ACTIVITIES)}


def _create(service: OrganizationService, entity: str, values: dict[str, Any]) -> EntityReference:
    return EntityReference(entity, service.create(Entity(entity, values)))


def _contact(
    service: OrganizationService, row: tuple[str, str, str, int | None], accounts: list[EntityReference]
) -> EntityReference:
    first, last, title, account = row
    values = {
        "firstname": first, "lastname": last, "fullname": f"{first} {last}", "jobtitle": title,
        "emailaddress1": f"{first}.{last}@example.com".lower(),
        "parentcustomerid": accounts[account] if account is not None else None,
    }  # fmt: skip
    return _create(service, "contact", values)


def _case(
    service: OrganizationService,
    case: SampleCase,
    accounts: list[EntityReference],
    contacts: list[EntityReference],
    subjects: list[EntityReference],
) -> EntityReference:
    values = {
        "title": case.title, "customerid": contacts[case.customer] if case.private else accounts[case.customer],
        "primarycontactid": contacts[case.contact], "subjectid": subjects[case.subject],
        "prioritycode": case.priority, "caseorigincode": case.origin, "casetypecode": case.kind,
        "description": case.description,
    }  # fmt: skip
    return _create(service, "incident", values)


def _activity(
    service: OrganizationService,
    entity: str,
    subject: str,
    regarding: EntityReference,
    minutes: int,
    completed: bool,
    start: dt.datetime,
) -> None:
    end = start + dt.timedelta(minutes=minutes)
    values: dict[str, Any] = {
        "subject": subject, "regardingobjectid": regarding, "scheduledstart": start, "scheduledend": end,
        "scheduleddurationminutes": minutes,
    }  # fmt: skip
    if completed:
        values.update(actualstart=start, actualend=end, actualdurationminutes=minutes)
    activity = service.create(Entity(entity, values))
    if completed:
        service.set_state(entity, activity, 1)
