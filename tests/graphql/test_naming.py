"""The one name converter: deterministic GraphQL names, collisions resolved the same way every time."""

from __future__ import annotations

from typing import Any

from xrm.graphql import NameConverter, build_schema_for
from xrm.graphql.naming import camel, constant, pascal, plural
from xrm.metadata import EntityMetadata, OptionMetadata, SolutionDefinition, SolutionManifest, compile_model
from xrm.solution import load_definition, system_layer_path


def _model(*entities: dict[str, Any]) -> Any:
    manifest = SolutionManifest(
        name="nam", display_name="Names", version="1.0.0", publisher={"name": "N", "prefix": "nam"}
    )
    solution = SolutionDefinition(manifest, entities=tuple(EntityMetadata.model_validate(e) for e in entities))
    return compile_model([load_definition(system_layer_path()), solution])


def test_case_conversions() -> None:
    assert pascal("tst_project") == "TstProject" and camel("address1_line1") == "address1Line1"
    assert [plural(w) for w in ("incident", "opportunity", "address", "day", "box")] == [
        "incidents", "opportunities", "addresses", "days", "boxes",
    ]  # fmt: skip
    assert constant("Waiting for Details") == "WAITING_FOR_DETAILS" and constant("Résolu") == "RESOLU"
    values = NameConverter.enum_values(
        [OptionMetadata(value=1, label="High"), OptionMetadata(value=2, label="high"), OptionMetadata(value=3, label="1st"),
         OptionMetadata(value=4, label="???")]
    )  # fmt: skip
    assert values == {1: "HIGH", 2: "HIGH_2", 3: "_1ST", 4: "VALUE_4"}


def test_collisions_are_resolved_deterministically() -> None:
    entities = (
        {"logical_name": "nam_item", "primary_name": "nam_name", "attributes": {
            "nam_name": {"type": "string"}, "nam_ownerid": {"type": "lookup", "target": "nam_item"},
            "nam_owner": {"type": "string"},
            "nam_by": {"type": "lookup", "target": "account"}, "nam_by_id": {"type": "string"}}},
        {"logical_name": "nam_item_filter", "primary_name": "nam_name", "attributes": {"nam_name": {"type": "string"}}},
        {"logical_name": "nam_items", "primary_name": "nam_name", "attributes": {"nam_name": {"type": "string"}}},
    )  # fmt: skip
    model = _model(*entities)
    first, second = NameConverter(model), NameConverter(model)
    item = first.entity("nam_item")
    assert item.base == "NamItem" and first.entity("nam_item_filter").base == "NamItemFilter2"
    assert first.entity("nam_items").single == "namItems2" and first.entity("nam_items").list == "namItemses"
    assert item.values["nam_owner"] == "namOwner" and item.records["nam_ownerid"] == "namOwner2"
    assert (
        item.values["nam_by"] == "namById"
        and item.values["nam_by_id"] == "namById2"
        and item.records["nam_by"] == "namBy"
    )
    assert (item.single, item.list, item.aggregate) == ("namItem", "namItems", "namItemsAggregate")
    assert first.entities.keys() == second.entities.keys()
    assert all(first.entity(n) == second.entity(n) for n in first.entities)
    assert build_schema_for(model).as_str() == build_schema_for(model).as_str()
