"""The organization service through its public Python API, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from xrm.data import SYSTEM_USER_ID, Entity, EntityReference
from xrm.errors import ConcurrencyError, InvalidOperationError, NotFoundError, ValidationError


def count(env, entity: str) -> int:  # type: ignore[no-untyped-def]
    with env.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(env.table(entity))).scalar_one()


def test_create_fills_system_columns_defaults_and_autonumber(svc_environment) -> None:
    service = svc_environment.service()
    record_id = service.create(Entity("tsv_parent", tsv_name="Alpha"))
    record = service.retrieve("tsv_parent", record_id)
    assert record.id == record_id
    assert record["tsv_size"] == 5 and record["tsv_kind"] == 1, "defaults applied"
    assert record["statecode"] == 0 and record["statuscode"] == 1
    assert record["versionnumber"] == 1 and record["createdon"] is not None
    assert record["ownerid"] == EntityReference("systemuser", SYSTEM_USER_ID)
    assert record["createdby"] == EntityReference("systemuser", SYSTEM_USER_ID)
    assert record["owningbusinessunit"] is not None
    assert record["tsv_number"].startswith("SVC-01000-") and len(record["tsv_number"]) == 12
    assert record["tsv_childcount"] == 0
    assert record["tsv_label"] == "Alpha #5", "calculated on read"


def test_retrieve_chosen_columns(svc_environment) -> None:
    service = svc_environment.service()
    record_id = service.create(Entity("tsv_parent", tsv_name="Alpha"))
    record = service.retrieve("tsv_parent", record_id, ["tsv_name", "tsv_label"])
    assert set(record) == {"tsv_name", "tsv_label"}
    with pytest.raises(NotFoundError, match="does not exist"):
        service.retrieve("tsv_parent", uuid.uuid4())


def test_bad_input_lists_every_attribute_and_writes_nothing(svc_environment) -> None:
    service = svc_environment.service()
    bad = Entity(
        "tsv_parent", tsv_name="x" * 51, tsv_size=101, tsv_kind=7, tsv_nope=1, tsv_upid=EntityReference("tsv_parent", uuid.uuid4()),
        createdon="2020-01-01", tsv_childcount=3,
    )  # fmt: skip
    with pytest.raises(ValidationError) as error:
        service.create(bad)
    problems = {p.attribute: p.reason for p in error.value.problems}
    assert set(problems) == {"tsv_name", "tsv_size", "tsv_kind", "tsv_nope", "tsv_upid", "createdon", "tsv_childcount"}
    assert "at most 50" in problems["tsv_name"] and "above the maximum 100" in problems["tsv_size"]
    assert "not one of the option values" in problems["tsv_kind"] and "does not exist" in problems["tsv_upid"]
    assert error.value.code == "BAD_USER_INPUT"
    assert count(svc_environment, "tsv_parent") == 0


@pytest.mark.parametrize(
    ("attribute", "value", "reason"),
    [
        ("tsv_name", 5, "expected text"),
        ("tsv_size", "5", "expected a whole number"),
        ("tsv_size", True, "expected a whole number"),
        ("tsv_size", -1, "below the minimum"),
        ("tsv_upid", EntityReference("tsv_child", uuid.uuid4()), "not allowed here"),
        ("tsv_upid", "not-a-uuid", "not a record id"),
    ],
)
def test_type_and_range_rules(svc_environment, attribute, value, reason) -> None:
    with pytest.raises(ValidationError, match=reason):
        svc_environment.service().create(Entity("tsv_parent", {"tsv_name": "a", attribute: value}))


def test_required_and_create_only(svc_environment) -> None:
    service = svc_environment.service()
    with pytest.raises(ValidationError, match="tsv_name: is required"):
        service.create(Entity("tsv_parent"))
    record_id = service.create(Entity("tsv_parent", tsv_name="a", tsv_code="C1"))
    with pytest.raises(ValidationError) as error:
        service.update(Entity("tsv_parent", {"tsv_code": "C2", "tsv_name": None, "tsv_number": "X"}, id=record_id))
    reasons = {p.attribute: p.reason for p in error.value.problems}
    assert reasons == {
        "tsv_code": "can only be set when the record is created",
        "tsv_number": "can only be set when the record is created",
        "tsv_name": "is required and cannot be cleared",
    }


def test_decimal_precision_and_money(svc_environment) -> None:
    service = svc_environment.service()
    parent = service.create(Entity("tsv_parent", tsv_name="p"))
    with pytest.raises(ValidationError, match="more than 2 decimal places"):
        service.create(
            Entity("tsv_child", tsv_parentid=EntityReference("tsv_parent", parent), tsv_amount=Decimal("1.234"))
        )
    child = service.create(Entity("tsv_child", tsv_parentid=EntityReference("tsv_parent", parent), tsv_amount="1.25"))
    assert service.retrieve("tsv_child", child)["tsv_amount"] == Decimal("1.25")


def test_update_is_partial_and_versioned(svc_environment) -> None:
    service = svc_environment.service()
    record_id = service.create(Entity("tsv_parent", tsv_name="a", tsv_size=3))
    service.update(Entity("tsv_parent", {"tsv_name": "b"}, id=record_id), expected_version=1)
    record = service.retrieve("tsv_parent", record_id)
    assert (record["tsv_name"], record["tsv_size"], record["versionnumber"]) == ("b", 3, 2)
    with pytest.raises(ConcurrencyError) as conflict:
        service.update(Entity("tsv_parent", {"tsv_name": "c"}, id=record_id), expected_version=1)
    assert conflict.value.code == "CONFLICT"
    assert service.retrieve("tsv_parent", record_id)["tsv_name"] == "b"


def test_state_transitions_are_enforced_and_closed_records_are_read_only(svc_environment) -> None:
    service = svc_environment.service()
    record_id = service.create(Entity("tsv_parent", tsv_name="a"))
    service.set_state("tsv_parent", record_id, 1, 3)
    with pytest.raises(InvalidOperationError, match="read-only; reactivate it first"):
        service.update(Entity("tsv_parent", {"tsv_name": "b"}, id=record_id))
    with pytest.raises(
        InvalidOperationError, match=r"status 'Done' \(3\) cannot change to 'Merged' \(4\) \(allowed: 'New' \(1\)\)"
    ):
        service.set_state("tsv_parent", record_id, 1, 4)
    with pytest.raises(ValidationError, match="not a status of state"):
        service.set_state("tsv_parent", record_id, 0, 3)
    service.set_state("tsv_parent", record_id, 0, 1)
    service.update(Entity("tsv_parent", {"tsv_name": "b"}, id=record_id))
    assert service.retrieve("tsv_parent", record_id, ["tsv_name", "statecode"]) == Entity(
        "tsv_parent", {"tsv_name": "b", "statecode": 0}, id=record_id
    )


def _family(service):  # type: ignore[no-untyped-def]
    parent = service.create(Entity("tsv_parent", tsv_name="p"))
    ref = EntityReference("tsv_parent", parent)
    children = [service.create(Entity("tsv_child", tsv_name=f"c{i}", tsv_parentid=ref)) for i in range(2)]
    note = service.create(Entity("tsv_note", tsv_name="n", tsv_parentid=ref))
    return parent, children, note


def test_delete_cascades_removes_links_and_restricts(svc_environment) -> None:
    service = svc_environment.service()
    parent, children, note = _family(service)
    blocker = service.create(Entity("tsv_block", tsv_name="b", tsv_parentid=EntityReference("tsv_parent", parent)))
    with pytest.raises(InvalidOperationError, match="1 tsv_block record.*restricted"):
        service.delete("tsv_parent", parent)
    assert count(svc_environment, "tsv_child") == 2, "a refused delete changes nothing"
    service.delete("tsv_block", blocker)
    service.delete("tsv_parent", parent)
    assert count(svc_environment, "tsv_child") == 0
    assert service.retrieve("tsv_note", note)["tsv_parentid"] is None


def test_assign_cascades_by_relationship(svc_environment, engine) -> None:
    from sqlalchemy import insert

    service = svc_environment.service()
    user = uuid.uuid4()
    with engine.begin() as connection:
        connection.execute(
            insert(svc_environment.table("systemuser")).values(systemuserid=user, domainname="u1", fullname="U1")
        )
    parent, (open_child, closed_child), note = _family(service)
    service.set_state("tsv_child", closed_child, 1)
    service.assign("tsv_parent", parent, EntityReference("systemuser", user))
    owner = lambda entity, rid: service.retrieve(entity, rid, ["ownerid"])["ownerid"].id  # noqa: E731
    assert owner("tsv_parent", parent) == user
    assert owner("tsv_child", open_child) == user, "cascade active: open child follows"
    assert owner("tsv_child", closed_child) == SYSTEM_USER_ID, "cascade active: closed child stays"
    assert owner("tsv_note", note) == user, "cascade user-owned: same previous owner follows"


def test_associate_and_disassociate(svc_environment) -> None:
    service = svc_environment.service()
    parent = service.create(Entity("tsv_parent", tsv_name="p"))
    tags = [EntityReference("tsv_tag", service.create(Entity("tsv_tag", tsv_name=t))) for t in "ab"]
    service.associate("tsv_parent", parent, "tsv_parent_tag", tags)
    with pytest.raises(InvalidOperationError, match="already associated"):
        service.associate("tsv_parent", parent, "tsv_parent_tag", tags[:1])
    table = svc_environment.tables.tables["tsv_parent_tag"]
    with svc_environment.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(table)).scalar_one() == 2
    service.disassociate("tsv_parent", parent, "tsv_parent_tag", tags[:1])
    child = service.create(Entity("tsv_child", tsv_name="c"))
    service.associate("tsv_parent", parent, "tsv_parent_children", [EntityReference("tsv_child", child)])
    assert service.retrieve("tsv_child", child)["tsv_parentid"].id == parent
    service.disassociate("tsv_parent", parent, "tsv_parent_children", [EntityReference("tsv_child", child)])
    assert service.retrieve("tsv_child", child)["tsv_parentid"] is None
    service.delete("tsv_parent", parent)
    with svc_environment.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(table)).scalar_one() == 0, "links go with the record"


def test_merge_moves_children_and_closes_the_subordinate(svc_environment) -> None:
    service = svc_environment.service()
    master = service.create(Entity("tsv_parent", tsv_name="master"))
    sub, children, note = _family(service)
    service.merge("tsv_parent", master, sub, update_content={"tsv_size": 9}, subordinate_status=4)
    assert all(service.retrieve("tsv_child", c)["tsv_parentid"].id == master for c in children)
    assert service.retrieve("tsv_note", note)["tsv_parentid"].id == sub, "merge: none leaves the note"
    merged = service.retrieve("tsv_parent", sub)
    assert (merged["statecode"], merged["statuscode"], merged["tsv_masterid"].id) == (1, 4, master)
    master_record = service.retrieve("tsv_parent", master)
    assert master_record["tsv_size"] == 9 and master_record["tsv_childcount"] == 2
    with pytest.raises(InvalidOperationError, match="read-only"):
        service.merge("tsv_parent", master, sub)


def test_execute_multiple_all_or_nothing_and_continue_on_error(svc_environment) -> None:
    from xrm.data.messages import CreateRequest

    service = svc_environment.service()
    good, bad = CreateRequest(Entity("tsv_tag", tsv_name="ok")), CreateRequest(Entity("tsv_tag", tsv_nope=1))
    result = service.execute_multiple(
        [good, bad, CreateRequest(Entity("tsv_tag", tsv_name="ok2"))], continue_on_error=True
    )
    assert [item.fault is None for item in result.items] == [True, False, True] and result.is_faulted
    assert count(svc_environment, "tsv_tag") == 2
    result = service.execute_multiple([CreateRequest(Entity("tsv_tag", tsv_name="x")), bad, good])
    assert len(result.items) == 2, "stops at the first fault"
    assert count(svc_environment, "tsv_tag") == 3
    with pytest.raises(ValidationError):
        service.execute_multiple([CreateRequest(Entity("tsv_tag", tsv_name="y")), bad], transactional=True)
    assert count(svc_environment, "tsv_tag") == 3, "transactional batch rolled back"
    with pytest.raises(InvalidOperationError, match="at most 1000"):
        service.execute_multiple([good] * 1001)


def test_audit_records_changes_with_user_and_time(svc_environment) -> None:
    service = svc_environment.service()
    record_id = service.create(Entity("tsv_parent", tsv_name="a", tsv_secret="s"))
    service.update(Entity("tsv_parent", {"tsv_name": "b", "tsv_secret": "t"}, id=record_id))
    service.update(Entity("tsv_parent", {"tsv_name": "b"}, id=record_id))  # no change: no audit row
    service.set_state("tsv_parent", record_id, 1, 3)
    history = service.audit_history("tsv_parent", record_id)
    assert [h.operation for h in history] == ["create", "update", "update"]
    assert history[1].changes == {"tsv_name": ["a", "b"]}, "only changed, audited attributes"
    assert history[2].changes == {"statecode": [0, 1], "statuscode": [1, 3]}
    assert all(h.user_id is None and h.created_on is not None for h in history)
    service.delete("tsv_parent", record_id)
    assert service.audit_history("tsv_parent", record_id)[-1].operation == "delete"
    assert service.audit_history("tsv_tag", uuid.uuid4()) == []


def _user(env, name: str) -> EntityReference:  # type: ignore[no-untyped-def]
    from sqlalchemy import insert

    user = uuid.uuid4()
    with env.engine.begin() as connection:
        connection.execute(insert(env.table("systemuser")).values(systemuserid=user, domainname=name, fullname=name))
    return EntityReference("systemuser", user)


def test_sharing_cascades_and_is_audited(svc_environment) -> None:
    from xrm.data.sharing import AccessRights

    service = svc_environment.service()
    reader = _user(svc_environment, "reader")
    parent, (child_a, child_b), note = _family(service)
    rights = AccessRights.READ | AccessRights.WRITE
    service.grant_access("tsv_parent", parent, reader, rights)
    shared = {
        entity: service.shared_principals(entity, rid)
        for entity, rid in (("tsv_parent", parent), ("tsv_child", child_a), ("tsv_note", note))
    }
    assert [(s.principal, s.rights) for s in shared["tsv_parent"]] == [(reader, rights)]
    assert [(s.principal, s.rights) for s in shared["tsv_child"]] == [(reader, rights)], "share: cascade"
    assert shared["tsv_note"] == [], "share: none"
    service.modify_access("tsv_parent", parent, reader, AccessRights.READ)
    assert service.shared_principals("tsv_child", child_b)[0].rights == AccessRights.READ
    service.revoke_access("tsv_parent", parent, reader)
    assert (
        service.shared_principals("tsv_parent", parent) == [] and service.shared_principals("tsv_child", child_b) == []
    )
    operations = [h.operation for h in service.audit_history("tsv_parent", parent)]
    assert operations.count("share") == 2 and operations.count("unshare") == 1
    with pytest.raises(ValidationError, match="shared with a systemuser or a team"):
        service.grant_access("tsv_parent", parent, EntityReference("tsv_tag", uuid.uuid4()), AccessRights.READ)


def test_reparent_gives_the_new_parents_owner_inherited_read(svc_environment) -> None:
    from xrm.data.sharing import AccessRights

    service = svc_environment.service()
    owner = _user(svc_environment, "owner")
    first = service.create(Entity("tsv_parent", tsv_name="first"))
    second = service.create(Entity("tsv_parent", tsv_name="second", ownerid=owner))
    child = service.create(Entity("tsv_child", tsv_name="c", tsv_parentid=EntityReference("tsv_parent", first)))
    service.update(Entity("tsv_child", {"tsv_parentid": EntityReference("tsv_parent", second)}, id=child))
    (share,) = service.shared_principals("tsv_child", child)
    assert (share.principal, share.rights, share.inherited) == (owner, AccessRights.NONE, AccessRights.READ)
    service.update(Entity("tsv_child", {"tsv_parentid": EntityReference("tsv_parent", first)}, id=child))
    assert service.shared_principals("tsv_child", child) == [], "moving away takes the inherited access back"


def test_assign_cascade_all_and_none(environment, write_solution) -> None:
    manifest = {
        "name": "asg",
        "display_name": "Assign",
        "version": "1.0.0",
        "publisher": {"name": "T", "prefix": "tas"},
    }
    parent = {"logical_name": "tas_parent", "primary_name": "tas_name", "attributes": {"tas_name": {"type": "string"}}}

    def child(name: str, assign: str) -> dict:  # type: ignore[type-arg]
        return {
            "logical_name": name, "primary_name": "tas_name",
            "attributes": {"tas_name": {"type": "string"}, "tas_parentid": {"type": "lookup", "target": "tas_parent"}},
            "states": {"states": [{"value": 0, "name": "active", "label": "Active", "default_status": 1, "statuses": [{"value": 1, "label": "Open"}]},
                                  {"value": 1, "name": "closed", "label": "Closed", "default_status": 2, "statuses": [{"value": 2, "label": "Done"}]}]},
            "relationships": {f"{name}_rel": {"lookup": "tas_parentid", "cascade": {"assign": assign}}},
        }  # fmt: skip

    env = environment(write_solution(manifest, {
        "entities/tas_parent.yaml": parent, "entities/tas_all.yaml": child("tas_all", "cascade"), "entities/tas_none.yaml": child("tas_none", "none"),
    }))  # fmt: skip
    service = env.service()
    user = _user(env, "u")
    p = service.create(Entity("tas_parent", tas_name="p"))
    ref = EntityReference("tas_parent", p)
    closed_all = service.create(Entity("tas_all", tas_name="a", tas_parentid=ref))
    service.set_state("tas_all", closed_all, 1)
    untouched = service.create(Entity("tas_none", tas_name="n", tas_parentid=ref))
    service.assign("tas_parent", p, user)
    assert service.retrieve("tas_all", closed_all)["ownerid"] == user, "cascade all: closed children too"
    assert service.retrieve("tas_none", untouched)["ownerid"] == EntityReference("systemuser", SYSTEM_USER_ID)
    assert [h.operation for h in service.audit_history("tas_parent", p)] == []
