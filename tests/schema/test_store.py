"""The published metadata lives in the database: another process rebuilds the model from it alone."""

from __future__ import annotations

import json
import subprocess
import sys

from xrm.metadata.serialization import definition_to_data


def test_second_process_reads_the_model_from_the_database(solutions, database_url, fixture_solution, tmp_path) -> None:
    solutions.install(fixture_solution("alltypes"))
    here = solutions.model()
    script = (
        "import json, sys\n"
        "from xrm.schema import open_engine, read_model\n"
        "engine = open_engine(sys.argv[1])\n"
        "with engine.connect() as c:\n"
        "    m = read_model(c)\n"
        "print(json.dumps({e.logical_name: sorted(a.name for a in e.attributes.values()) for e in m.entities.values()}))\n"
    )
    # an empty working folder: no solution files are reachable by relative path
    out = subprocess.run(
        [sys.executable, "-c", script, database_url], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    there = json.loads(out.stdout)
    assert there == {e.logical_name: sorted(e.attributes) for e in here.entities.values()}


def test_published_metadata_round_trips(solutions, fixture_solution) -> None:
    from xrm.solution import load_definition

    solutions.install(fixture_solution("alltypes"))
    stored = solutions.model().solution("alltypes")
    assert definition_to_data(stored) == definition_to_data(load_definition(fixture_solution("alltypes")))
