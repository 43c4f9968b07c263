"""The OpenAPI document describes every answer, and describing them changed no answer's JSON."""

from datetime import UTC, datetime

import pytest
from fastapi.encoders import jsonable_encoder

from gridloop.directory import domain
from gridloop.directory.handlers import SEED_ACTOR, demo_seed
from gridloop.shared.api.directory import AreaTree, GridView, RecordHistory, RecordList
from gridloop.shared.directory import Kind

pytestmark = pytest.mark.unit


def test_the_demo_directory_reads_as_it_did_before_it_had_a_model() -> None:
    kinds: dict[Kind, list[dict[str, object]]] = {}
    for kind, _, data in demo_seed():
        kinds.setdefault(kind, []).append(data)
    tree = domain.tree(
        districts=kinds[Kind.DISTRICT],
        streets=kinds[Kind.STREET],
        communities=kinds[Kind.COMMUNITY],
        grids=kinds[Kind.GRID],
    )
    assert AreaTree.model_validate(tree).model_dump(mode="json") == jsonable_encoder(tree)
    grid = kinds[Kind.GRID][0]
    assert GridView.model_validate(grid).model_dump(mode="json") == jsonable_encoder(grid)
    for records in kinds.values():
        assert RecordList.model_validate({"items": records}).model_dump(mode="json") == {"items": records}
    at = datetime(2026, 11, 22, 1, 2, 3, 456000, tzinfo=UTC)
    history = {
        "kind": "grid",
        "code": grid["code"],
        "revisions": [
            {"revision": 1, "data": grid, "changed_by": SEED_ACTOR, "changed_at": at},
            {"revision": 2, "data": grid, "changed_by": None, "changed_at": None},
        ],
    }
    assert RecordHistory.model_validate(history).model_dump(mode="json") == jsonable_encoder(history)
