"""The demo's sample data: a few customers with contacts, cases and their activities.

Everything goes through the organization service, so autonumbers, rollups, audit and plugins run
as for any client. Loaded once: nothing happens when the database already has an account.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import func, select

from xrm.data import Entity, EntityReference, Environment, OrganizationService

__all__ = ["load_sample_data"]

# name, account number, industry, city, country, phone, website, revenue, employees
ACCOUNTS = [
    ("Contoso Pharmaceuticals", "ACC-1001", 16, "Redmond", "United States", "+1 425 555 0100", "https://contoso.example", 48_000_000, 1200),
    ("Fabrikam, Inc.", "ACC-1002", 12, "Lisbon", "Portugal", "+351 21 555 0101", "https://fabrikam.example", 12_500_000, 340),
    ("Adventure Works Cycles", "ACC-1003", 32, "Bothell", "United States", "+1 425 555 0102", "https://adventure-works.example", 31_000_000, 560),
    ("Northwind Traders", "ACC-1004", 33, "Seattle", "United States", "+1 206 555 0103", "https://northwind.example", 8_700_000, 95),
    ("Alpine Ski House", "ACC-1005", 14, "Innsbruck", "Austria", "+43 512 555 0104", "https://alpineskihouse.example", 2_300_000, 40),
]  # fmt: skip

# first, last, job title, account index (None: a private customer)
CONTACTS = [
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

# title, customer (account index, or contact index as "c<n>"), contact index, subject, priority, origin, type,
# resolved (status), description
CASES = [
    ("Invoice 4711 charged twice", 0, 0, 0, 1, 2, 2, 5, "The March invoice was debited twice from our account."),
    ("Cold-chain shipment arrived warm", 0, 1, 1, 1, 1, 2, None, "Temperature logger shows 14 C on arrival."),
    ("Request for a second training session", 1, 2, 3, 3, 3, 3, None, "New staff need the onboarding course."),
    ("Wrong frame size delivered", 2, 3, 1, 2, 2, 2, None, "Ordered 56 cm frames, received 54 cm."),
    ("How do I export order history?", 2, 4, 0, 3, 3, 1, 1000, None),
    ("Damaged pallets in last delivery", 3, 5, 1, 2, 1, 2, None, "Three pallets broken, photos attached."),
    ("Ski rental system down", 4, 6, 3, 1, 1, 2, None, "Check-out terminals fail since the update."),
    ("Camera strap recall question", "c7", 7, 2, 3, 2, 1, None, None),
]

# (entity, subject, regarding case index, minutes, completed)
ACTIVITIES = [
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
    """Create the sample records acting as ``user_id``; returns counts per entity ({} if already loaded)."""
    if "incident" not in environment.model.entities or _has_accounts(environment):
        return {}
    service = environment.service(user_id)
    accounts = [_account(service, *row) for row in ACCOUNTS]
    contacts = [_contact(service, row, accounts) for row in CONTACTS]
    for index, account in enumerate(accounts):
        primary = next(c for c, row in zip(contacts, CONTACTS, strict=True) if row[3] == index)
        service.update(Entity("account", {"primarycontactid": primary}, id=account.id))
    subjects = [EntityReference("subject", service.create(Entity("subject", title=title))) for title in SUBJECTS]
    cases = [_case(service, row, accounts, contacts, subjects) for row in CASES]
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    for number, (entity, subject, case, minutes, completed) in enumerate(ACTIVITIES):
        _activity(
            service, entity, subject, cases[case], minutes, completed, now - dt.timedelta(days=len(ACTIVITIES) - number)
        )
    for case, row in zip(cases, CASES, strict=True):
        if row[7] is not None:
            service.set_state("incident", case.id, 1, row[7])
    return {"accounts": len(accounts), "contacts": len(contacts), "cases": len(cases), "activities": len(ACTIVITIES)}


def _account(service: OrganizationService, name, number, industry, city, country, phone, web, revenue, staff):  # type: ignore[no-untyped-def]
    values = {
        "name": name, "accountnumber": number, "industrycode": industry, "address1_city": city,
        "address1_country": country, "telephone1": phone, "websiteurl": web, "revenue": revenue,
        "numberofemployees": staff, "customertypecode": 3,
    }  # fmt: skip
    return EntityReference("account", service.create(Entity("account", values)))


def _contact(service: OrganizationService, row, accounts: list[EntityReference]) -> EntityReference:  # type: ignore[no-untyped-def]
    first, last, title, account = row
    values = {
        "firstname": first, "lastname": last, "fullname": f"{first} {last}", "jobtitle": title,
        "emailaddress1": f"{first}.{last}@example.com".lower(),
        "parentcustomerid": accounts[account] if account is not None else None,
    }  # fmt: skip
    return EntityReference("contact", service.create(Entity("contact", values)))


def _case(service, row, accounts, contacts, subjects) -> EntityReference:  # type: ignore[no-untyped-def]
    title, customer, contact, subject, priority, origin, kind, _resolved, description = row
    values = {
        "title": title,
        "customerid": contacts[int(customer[1:])] if isinstance(customer, str) else accounts[customer],
        "primarycontactid": contacts[contact], "subjectid": subjects[subject], "prioritycode": priority,
        "caseorigincode": origin, "casetypecode": kind, "description": description,
    }  # fmt: skip
    return EntityReference("incident", service.create(Entity("incident", values)))


def _activity(service, entity, subject, case, minutes, completed, start) -> None:  # type: ignore[no-untyped-def]
    values = {
        "subject": subject, "regardingobjectid": case, "scheduledstart": start,
        "scheduledend": start + dt.timedelta(minutes=minutes), "scheduleddurationminutes": minutes,
    }  # fmt: skip
    if completed:
        values.update(actualstart=start, actualend=start + dt.timedelta(minutes=minutes), actualdurationminutes=minutes)
    activity_id = service.create(Entity(entity, values))
    if completed:
        service.set_state(entity, activity_id, 1)
