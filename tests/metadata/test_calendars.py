"""Customer service calendars (``calendars/<name>.yaml``): the shipped ones, and problems at their file and line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xrm.cli import app
from xrm.data.business_time import add_business_minutes, business_minutes_between
from xrm.errors import MetadataError
from xrm.metadata import compile_model, load_solution, read_solution
from xrm.metadata._base import stable_id
from xrm.metadata.calendar import CalendarMetadata, resolve_calendar

UTC = dt.UTC
CASE = Path(__file__).resolve().parents[2] / "solutions" / "case"


def test_the_system_layer_ships_24x7_and_the_case_solution_business_hours(system):
    model = compile_model([system, load_solution(CASE)])

    always = model.calendars["default_24x7"]
    assert always.solution == "system" and always.id == stable_id("calendar", "default_24x7")
    assert isinstance(always.metadata, CalendarMetadata) and always.metadata.always_open
    hours = model.calendars["business_hours"]
    assert hours.solution == "case"
    desk = resolve_calendar(model, "business_hours")
    assert isinstance(desk, CalendarMetadata) and desk.time_zone == "Europe/Amsterdam"
    assert not hours.metadata.holidays, "the holidays come from the shared holiday schedule"
    assert "King's Day" in {holiday.name for holiday in desk.holidays}
    assert resolve_calendar(model, "dutch_public_holidays") is None, "a holiday schedule has no work hours"
    assert desk.weekly_periods()[0] == ((8 * 60, 12 * 60), (13 * 60, 17 * 60))
    assert desk.weekly_periods()[5:] == ((), ())
    # Friday 24 April 2026, 16:00 in Amsterdam: an hour left, then Monday 27 April is King's Day
    friday = dt.datetime(2026, 4, 24, 14, tzinfo=UTC)
    assert add_business_minutes(desk, friday, 120) == dt.datetime(2026, 4, 28, 7, tzinfo=UTC)
    assert business_minutes_between(always.metadata, friday, friday + dt.timedelta(days=3)) == 3 * 24 * 60


def test_file_level_problems_are_reported_at_their_line(make_solution, where):
    root = make_solution(
        "ext",
        {
            "calendars/tst_desk.yaml": """
                name: tst_desk
                time_zone: Europe/Amsterdm
                work_hours:
                  - days: [monday, tuesday]
                    start: "08:00"
                    end: "17:00"
                    breaks:
                      - {start: "12:00", end: "13:00"}
                      - {start: "16:30", end: "17:30"}
                  - days: [friday, friday]
                    start: 12:00
                    end: "25:00"
                    colour: blue
                holidays:
                  - {name: Christmas, date: 2026-12-26, until: 2026-12-25}
            """,
            "calendars/tst_overlap.yaml": """
                name: tst_overlap
                time_zone: America/New_York
                work_hours:
                  - {days: [monday, tuesday], start: "08:00", end: "12:00"}
                  - {days: [tuesday], start: "11:30", end: "17:00"}
            """,
            "calendars/tst_backwards.yaml": """
                name: tst_backwards
                work_hours:
                  - {days: [sunday], start: "17:00", end: "08:00"}
            """,
            "calendars/tst_empty.yaml": """
                name: tst_empty
                display_name: Never open
            """,
        },
    )
    _, issues = read_solution(root)

    assert sorted((where(issue, root), issue.message) for issue in issues) == sorted([
        ("calendars/tst_backwards.yaml:3", "start 17:00 is not before end 08:00"),
        ("calendars/tst_desk.yaml:2", "unknown time zone 'Europe/Amsterdm' (expected an IANA name such as Europe/Amsterdam)"),
        ("calendars/tst_desk.yaml:4", "break 16:30-17:30 is not inside the work period 08:00-17:00"),
        ("calendars/tst_desk.yaml:10", "friday listed more than once"),
        ("calendars/tst_desk.yaml:11", 'write times of day as quoted strings, e.g. "12:30" (YAML reads unquoted 12:30 as a number)'),
        ("calendars/tst_desk.yaml:12", '\'25:00\' is not a time of day: expected "HH:MM" from "00:00" to "24:00"'),
        ("calendars/tst_desk.yaml:13", "unknown key 'colour'"),
        ("calendars/tst_desk.yaml:15", "until 2026-12-25 is before date 2026-12-26"),
        ("calendars/tst_empty.yaml:1", "a calendar needs work_hours, or 'always_open: true' for 24 x 7 support"),
        ("calendars/tst_overlap.yaml:3", "tuesday: work periods 08:00-12:00 and 11:30-17:00 overlap"),
    ])  # fmt: skip


def test_solution_validate_prints_calendar_problems(make_solution, tmp_path):
    root = make_solution(
        "ext",
        {"calendars/tst_desk.yaml": 'name: tst_desk\ntime_zone: Mars/Olympus\nalways_open: true\nopen: "yes"\n'},
    )

    result = CliRunner().invoke(
        app, ["solution", "validate", str(root), "--database", f"sqlite:///{tmp_path / 'x.db'}"]
    )

    assert result.exit_code == 1
    assert "2 metadata errors" in result.output
    assert "calendars/tst_desk.yaml:2: time_zone: unknown time zone 'Mars/Olympus'" in result.output
    assert "calendars/tst_desk.yaml:4: open: unknown key 'open'" in result.output


def test_a_holiday_schedule_is_shared_and_checked(make_solution, where, system):
    root = make_solution(
        "ext",
        {
            "calendars/tst_holidays.yaml": """
                name: tst_holidays
                holiday_schedule: true
                holidays:
                  - {name: Founders Day, date: "2026-06-01"}
            """,
            "calendars/tst_desk.yaml": """
                name: tst_desk
                work_hours:
                  - {days: [monday, tuesday], start: "09:00", end: "17:00"}
                holidays_from: tst_holidays
            """,
            "calendars/tst_lost.yaml": """
                name: tst_lost
                always_open: true
                holidays_from: tst_nowhere
            """,
            "calendars/tst_chain.yaml": """
                name: tst_chain
                always_open: true
                holidays_from: tst_desk
            """,
        },
    )
    with pytest.raises(MetadataError) as raised:
        compile_model([system, load_solution(root)])
    assert sorted((where(issue, root), issue.message) for issue in raised.value.issues) == [
        ("calendars/tst_chain.yaml:3", "'tst_desk' is a calendar, not a holiday schedule (holiday_schedule: true)"),
        ("calendars/tst_lost.yaml:3", "unknown holiday schedule 'tst_nowhere'"),
    ]

    (root / "calendars" / "tst_lost.yaml").unlink()
    (root / "calendars" / "tst_chain.yaml").unlink()
    model = compile_model([system, load_solution(root)])
    desk = resolve_calendar(model, "tst_desk")
    assert desk is not None
    monday = dt.datetime(2026, 6, 1, 9, tzinfo=UTC)  # Founders Day: the schedule's holiday applies
    assert add_business_minutes(desk, monday, 60) == dt.datetime(2026, 6, 2, 10, tzinfo=UTC)
