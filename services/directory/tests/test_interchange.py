import copy

import pytest

from gridloop.directory.handlers import demo_seed
from gridloop.directory.interchange import InvalidFile, from_documents, to_documents
from gridloop.shared.directory import Kind

pytestmark = pytest.mark.unit


def test_the_directory_survives_a_round_trip_through_yaml_and_geojson() -> None:
    records = demo_seed()
    document, grids = to_documents(records)
    assert len(grids["features"]) == 30 and grids["features"][0]["geometry"]["type"] == "Polygon"
    assert {c["name"] for c in document["categories"]} >= {"暴露垃圾", "上水井盖"}
    assert [c["code"] for c in document["calendars"]] == ["2024", "2025", "2026"]
    assert "2026-10-10" in document["calendars"][2]["workdays"]  # a 调休 Saturday
    assert {u["code"] for u in document["units"]} >= {"U-LJ-HOSP", "U-WH-TAX"}
    assert len(document["need_categories"]) == 8
    back = from_documents(document, grids)
    assert sorted(back, key=str) == sorted(records, key=str)


def test_files_that_are_not_a_directory_are_refused_naming_the_fault() -> None:
    document, grids = to_documents(demo_seed())
    with pytest.raises(InvalidFile, match="FeatureCollection"):
        from_documents(document, {"type": "Feature"})
    no_props = copy.deepcopy(grids)
    del no_props["features"][3]["properties"]["community"]
    with pytest.raises(InvalidFile, match="feature 3 lacks"):
        from_documents(document, no_props)
    open_ring = copy.deepcopy(grids)
    open_ring["features"][0]["geometry"]["coordinates"][0].pop()
    with pytest.raises(InvalidFile, match="ring"):
        from_documents(document, open_ring)
    orphan = copy.deepcopy(document)
    orphan["rules"].append({"id": "R-X", "category": "SJ-0101", "lead": "NOPE"})
    with pytest.raises(InvalidFile, match="NOPE"):
        from_documents(orphan, grids)
    with pytest.raises(InvalidFile, match="district"):
        from_documents(["not", "a", "mapping"], grids)


def test_files_written_before_units_existed_still_import() -> None:
    document, grids = to_documents(demo_seed())
    del document["units"], document["need_categories"]
    kinds = {kind for kind, _, _ in from_documents(document, grids)}
    assert Kind.UNIT not in kinds and Kind.GRID in kinds
    orphan = copy.deepcopy(to_documents(demo_seed())[0])
    orphan["units"][0]["communities"] = ["NOPE"]
    with pytest.raises(InvalidFile, match="NOPE"):
        from_documents(orphan, grids)
