"""Status transitions: declared per entity, enforced on set_state and on an update that sets the
status (Dataverse lets Update change statecode/statuscode); errors name the from and to statuses."""

from __future__ import annotations

import pytest

from xrm.data import Entity, EntityReference
from xrm.errors import InvalidOperationError, ValidationError


def _state(service, entity: str, record_id) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    row = service.retrieve(entity, record_id, ["statecode", "statuscode"])
    return row["statecode"], row["statuscode"]


def test_incident_status_changes_through_update_follow_the_declared_transitions(environment) -> None:
    service = environment("case").service()
    account = service.create(Entity("account", name="Contoso"))
    case = service.create(Entity("incident", title="Printer", customerid=EntityReference("account", account)))
    service.update(Entity("incident", {"statuscode": 2}, id=case))  # On Hold: same state
    assert _state(service, "incident", case) == (0, 2)

    service.update(Entity("incident", {"statuscode": 5, "description": "fixed"}, id=case))
    assert _state(service, "incident", case) == (1, 5), "Problem Solved belongs to Resolved: the state follows"
    assert service.retrieve("incident", case, ["description"])["description"] == "fixed"

    message = (
        r"incident: status 'Problem Solved' \(5\) cannot change to 'Researching' \(4\) \(allowed: 'In Progress' \(1\)\)"
    )
    with pytest.raises(InvalidOperationError, match=message):
        service.update(Entity("incident", {"statuscode": 4, "description": "again"}, id=case))
    with pytest.raises(InvalidOperationError, match=message):
        service.set_state("incident", case, 0, 4)
    assert _state(service, "incident", case) == (1, 5)
    assert service.retrieve("incident", case, ["description"])["description"] == "fixed", "nothing was written"

    service.update(Entity("incident", {"statuscode": 1, "title": "Printer (reopened)"}, id=case))
    assert _state(service, "incident", case) == (0, 1), "reactivating opens the record before its fields change"
    assert service.retrieve("incident", case, ["title"])["title"] == "Printer (reopened)"

    service.set_state("incident", case, 2, 2000)  # Merged is final
    with pytest.raises(
        InvalidOperationError,
        match=r"'Merged' \(2000\) cannot change to 'In Progress' \(1\) \(allowed: none, it is final\)",
    ):
        service.update(Entity("incident", {"statuscode": 1}, id=case))


def test_custom_entity_transitions_on_update(svc_environment) -> None:
    service = svc_environment.service()
    record = service.create(Entity("tsv_parent", tsv_name="a"))
    service.update(Entity("tsv_parent", {"statuscode": 2}, id=record))
    service.update(Entity("tsv_parent", {"statecode": 1}, id=record))  # the state's default status: Done
    assert _state(service, "tsv_parent", record) == (1, 3)
    with pytest.raises(
        InvalidOperationError, match=r"'Done' \(3\) cannot change to 'Busy' \(2\) \(allowed: 'New' \(1\)\)"
    ):
        service.update(Entity("tsv_parent", {"statuscode": 2}, id=record))
    with pytest.raises(ValidationError, match="statuscode: 99 is not a status of tsv_parent"):
        service.update(Entity("tsv_parent", {"statuscode": 99}, id=record))
    with pytest.raises(ValidationError, match="statuscode: 1 is not a status of state 'Inactive'"):
        service.update(Entity("tsv_parent", {"statecode": 1, "statuscode": 1}, id=record))
    assert _state(service, "tsv_parent", record) == (1, 3)
