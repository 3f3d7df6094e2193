"""The activity rollup plugin: an account's activities include its contacts' and cases', in one query."""

from __future__ import annotations

from sqlalchemy import event

from xrm.data import Entity, EntityReference


def ref(entity: str, record_id) -> EntityReference:  # type: ignore[no-untyped-def]
    return EntityReference(entity, record_id)


def activities(service, record: EntityReference) -> set[str]:  # type: ignore[no-untyped-def]
    rows = service.execute_action("retrieve_activities", target=record)["activities"]
    return {row["subject"] for row in rows}


def test_activities_roll_up_and_rollup_attributes_stay_current(environment) -> None:
    env = environment("case")
    service = env.service()
    account = ref("account", service.create(Entity("account", name="Contoso")))
    other = ref("account", service.create(Entity("account", name="Fabrikam")))
    contact = ref("contact", service.create(Entity("contact", lastname="Ray", parentcustomerid=account)))
    case = ref("incident", service.create(Entity("incident", title="Broken", customerid=account)))
    contact_case = ref("incident", service.create(Entity("incident", title="Slow", customerid=contact)))

    def activity(entity: str, subject: str, regarding: EntityReference, minutes: int) -> EntityReference:
        return ref(
            entity,
            service.create(Entity(entity, subject=subject, regardingobjectid=regarding, actualdurationminutes=minutes)),
        )

    on_account = activity("task", "call back", account, 10)
    on_contact = activity("phonecall", "intro call", contact, 20)
    on_case = activity("email", "diagnosis", case, 5)
    activity("task", "contact case task", contact_case, 7)
    activity("task", "elsewhere", other, 99)
    service.set_state("phonecall", on_contact.id, 1)  # completed

    statements: list[str] = []

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(env.engine, "before_cursor_execute", count)
    try:
        found = activities(service, account)
    finally:
        event.remove(env.engine, "before_cursor_execute", count)
    assert found == {"call back", "intro call", "diagnosis"}, "the account's, its contact's and its case's"
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1, "one query"
    assert activities(service, contact) == {"intro call", "contact case task"}

    def totals(record: EntityReference) -> tuple[int, int]:
        row = service.retrieve(record.logical_name, record.id, ["openactivitycount", "activityminutes"])
        return row["openactivitycount"], row["activityminutes"]

    assert totals(account) == (2, 35), "open: task + email; minutes: 10 + 20 + 5"
    assert totals(contact) == (1, 27)
    service.set_state("task", on_account.id, 1)
    assert totals(account) == (1, 35)
    service.delete("email", on_case.id)
    assert totals(account) == (0, 30)
    service.set_state("phonecall", on_contact.id, 0)  # reopened: closed activities are read-only
    assert totals(account) == (1, 30)
    service.update(Entity("phonecall", {"regardingobjectid": other}, id=on_contact.id))
    assert totals(account) == (0, 10) and totals(other) == (2, 119)
