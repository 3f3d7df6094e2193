"""A realistic customer-service data set, bulk-loaded with Core inserts (then rollups recalculated).

Default sizes follow the issue: 1,000 accounts, 5,000 contacts, 20,000 cases, 100,000 activities.
Rows carry every system column the service would set, so reads see the same shape of data.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select

from xrm.data import ROOT_BUSINESS_UNIT_ID, SYSTEM_USER_ID, Environment
from xrm.data.rollup import recalculate

__all__ = ["Sizes", "generate"]

BATCH = 2000


@dataclass(frozen=True)
class Sizes:
    accounts: int = 1000
    contacts: int = 5000
    cases: int = 20_000
    activities: int = 100_000

    def scaled(self, factor: float) -> Sizes:
        return Sizes(*(max(1, int(n * factor)) for n in (self.accounts, self.contacts, self.cases, self.activities)))


def _stamps(now: dt.datetime) -> dict[str, Any]:
    return _system(now, user_owned=False)


def _system(now: dt.datetime, user_owned: bool = True) -> dict[str, Any]:
    values: dict[str, Any] = {
        "createdon": now,
        "modifiedon": now,
        "createdby": SYSTEM_USER_ID,
        "modifiedby": SYSTEM_USER_ID,
        "versionnumber": 1,
    }
    if user_owned:
        values.update(ownerid=SYSTEM_USER_ID, owneridtype="systemuser", owningbusinessunit=ROOT_BUSINESS_UNIT_ID)
    return values


def _load(env: Environment, entity: str, rows: list[dict[str, Any]]) -> None:
    table = env.table(entity)
    with env.engine.begin() as connection:
        for start in range(0, len(rows), BATCH):
            connection.execute(insert(table), rows[start : start + BATCH])


def _owners(env: Environment, units: int, now: dt.datetime) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """``units`` business units below the root, one user in each: (user, unit) pairs that own the data."""
    pairs = [(uuid.uuid4(), uuid.uuid4()) for _ in range(units)]
    _load(env, "businessunit", [
        {"businessunitid": unit, "name": f"Unit {i:02d}", "parentbusinessunitid": ROOT_BUSINESS_UNIT_ID, **_system(now, False)}
        for i, (_, unit) in enumerate(pairs)
    ])  # fmt: skip
    _load(env, "systemuser", [
        {"systemuserid": user, "domainname": f"owner{i:02d}", "fullname": f"Owner {i:02d}", "businessunitid": unit,
         **_system(now, False)}
        for i, (user, unit) in enumerate(pairs)
    ])  # fmt: skip
    return pairs


def generate(env: Environment, sizes: Sizes = Sizes(), seed: int = 42, units: int = 10) -> dict[str, int]:
    """Fill an environment that has the Case solution installed; returns row counts.

    Records are owned round-robin by one user in each of ``units`` business units below the root,
    so record security has something to filter (``units=0``: everything owned by SYSTEM at the root).
    """
    rng = random.Random(seed)
    base = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    owners = _owners(env, units, base) if units else [(SYSTEM_USER_ID, ROOT_BUSINESS_UNIT_ID)]

    def when() -> dt.datetime:
        return base + dt.timedelta(minutes=rng.randint(0, 60 * 24 * 330))

    def _system(now: dt.datetime) -> dict[str, Any]:  # the module's helper, with the next owner
        user, unit = owners[rng.randrange(len(owners))]
        return {**_stamps(now), "ownerid": user, "owneridtype": "systemuser", "owningbusinessunit": unit}

    accounts = [uuid.uuid4() for _ in range(sizes.accounts)]
    _load(env, "account", [
        {"accountid": a, "name": f"Account {i:05d}", "revenue": rng.randint(10_000, 10_000_000), "numberofemployees": rng.randint(1, 5000),
         "statecode": 0, "statuscode": 1, **_system(when())}
        for i, a in enumerate(accounts)
    ])  # fmt: skip
    contacts = [(uuid.uuid4(), rng.choice(accounts)) for _ in range(sizes.contacts)]
    _load(env, "contact", [
        {"contactid": c, "firstname": f"First{i}", "lastname": f"Last{i:05d}", "fullname": f"First{i} Last{i:05d}",
         "parentcustomerid": a, "parentcustomeridtype": "account", "statecode": 0, "statuscode": 1, **_system(when())}
        for i, (c, a) in enumerate(contacts)
    ])  # fmt: skip
    cases = []
    for i in range(sizes.cases):
        contact, account = rng.choice(contacts)
        customer, kind = (account, "account") if rng.random() < 0.7 else (contact, "contact")
        state = rng.choices([0, 1, 2], weights=[60, 35, 5])[0]
        status = {0: rng.choice([1, 2, 3, 4]), 1: rng.choice([5, 1000]), 2: 6}[state]
        cases.append({
            "incidentid": uuid.uuid4(), "title": f"Case {i:06d}", "ticketnumber": f"CAS-{1000 + i:05d}-BENCH",
            "customerid": customer, "customeridtype": kind, "primarycontactid": contact,
            "prioritycode": rng.choice([1, 2, 3]), "caseorigincode": rng.choice([1, 2, 3]), "casetypecode": rng.choice([1, 2, 3]),
            "statecode": state, "statuscode": status, **_system(when()),
        })  # fmt: skip
    _load(env, "incident", cases)
    kinds = ["task", "phonecall", "email", "appointment"]
    activities: dict[str, list[dict[str, Any]]] = {kind: [] for kind in kinds}
    for i in range(sizes.activities):
        kind = rng.choice(kinds)
        case = rng.choice(cases)
        state = rng.choice([0, 1])
        status = {"task": (2, 5), "phonecall": (1, 2), "email": (1, 3), "appointment": (1, 3)}[kind][state]
        activities[kind].append({
            "activityid": uuid.uuid4(), "subject": f"{kind} {i}", "regardingobjectid": case["incidentid"],
            "regardingobjectidtype": "incident", "actualdurationminutes": rng.randint(1, 120),
            "statecode": state, "statuscode": status, **_system(when()),
        })  # fmt: skip
    for kind, rows in activities.items():
        _fix_status(env, kind, rows)
        _load(env, kind, rows)
    _recalculate_all(env)
    return {"account": len(accounts), "contact": len(contacts), "incident": len(cases), "activities": sizes.activities}


def _fix_status(env: Environment, entity: str, rows: list[dict[str, Any]]) -> None:
    """Use each activity type's own default status for the chosen state."""
    states = env.model.entity(entity).states
    assert states is not None
    defaults = {state.value: state.default_status for state in states.states}
    for row in rows:
        row["statuscode"] = defaults[row["statecode"]]


def _recalculate_all(env: Environment) -> None:
    with env.engine.begin() as connection:
        for entity in env.model.entities.values():
            for attr in entity.attributes.values():
                if attr.type == "rollup":
                    recalculate(env, connection, entity.logical_name, attr.name)


def counts(env: Environment) -> dict[str, int]:
    with env.engine.connect() as connection:
        return {
            name: connection.execute(select(func.count()).select_from(env.table(name))).scalar_one()
            for name in ("account", "contact", "incident", "task")
        }
