"""The auto-numbering plugin: formats, seeding, and uniqueness under concurrent writers."""

from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import inspect

from xrm.data import Entity
from xrm.data.sequences import seed
from xrm.metadata.autonumber import parse_format

MANIFEST = {"name": "seq", "display_name": "Sequences", "version": "1.0.0", "publisher": {"name": "T", "prefix": "tsq"}}
ITEM = {
    "logical_name": "tsq_item",
    "primary_name": "tsq_name",
    "attributes": {
        "tsq_name": {"type": "string"},
        "tsq_number": {"type": "autonumber", "format": "ITM-{SEQNUM:3}-{RANDSTRING:4}"},
        "tsq_stamp": {"type": "autonumber", "format": "{DATETIMEUTC:yyyyMMdd}/{SEQNUM:2}"},
    },
}


@pytest.fixture
def items(environment, write_solution):  # type: ignore[no-untyped-def]
    return environment(write_solution(MANIFEST, {"entities/tsq_item.yaml": ITEM}))


def test_formats_grow_past_their_width_and_honour_given_values(items) -> None:
    service = items.service()
    first = service.retrieve("tsq_item", service.create(Entity("tsq_item", tsq_name="a")))
    assert re.fullmatch(r"ITM-1000-[A-Z0-9]{4}", first["tsq_number"]), "sequences start at 1000 and grow past 3 digits"
    assert re.fullmatch(r"\d{8}/1000", first["tsq_stamp"])
    given = service.retrieve("tsq_item", service.create(Entity("tsq_item", tsq_name="b", tsq_number="MANUAL-1")))
    assert given["tsq_number"] == "MANUAL-1"
    with items.engine.begin() as connection:
        seed(connection, "tsq_item", "tsq_number", 5)
    seeded = service.retrieve("tsq_item", service.create(Entity("tsq_item", tsq_name="c")))
    assert seeded["tsq_number"].startswith("ITM-005-")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{SEQNUM:0}", "width from 1 to 20"),
        ("{RANDSTRING:7}", "length from 1 to 6"),
        ("{FOO}", "unknown token"),
        ("A{SEQNUM:2}{SEQNUM:2}", "only one"),
    ],
)
def test_bad_formats_are_refused(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_format(text)


def test_eight_concurrent_writers_get_distinct_numbers(items) -> None:
    writers, per_writer = 8, 500
    numbers: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def write(index: int) -> None:
        service = items.service()
        try:
            for n in range(per_writer):
                record_id = service.create(Entity("tsq_item", tsq_name=f"{index}-{n}"))
                value = service.retrieve("tsq_item", record_id, ["tsq_number"])["tsq_number"]
                with lock:
                    numbers.append(value)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors[:3]
    assert len(numbers) == writers * per_writer
    sequence_parts = {value.split("-")[1] for value in numbers}
    assert len(sequence_parts) == writers * per_writer, "every SEQNUM distinct"
    assert sorted(int(p) for p in sequence_parts) == list(range(1000, 1000 + writers * per_writer)), (
        "no gaps without failures"
    )
    uniques = inspect(items.engine).get_unique_constraints("tsq_item")
    assert ["tsq_number"] in [u["column_names"] for u in uniques], "a unique index backs the column"
