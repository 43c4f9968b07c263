"""Directory against the real broker and database: serves the seed, and announces every change."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from gridloop.shared.events import DIRECTORY_TOPIC, DirectoryRecord, Role
from gridloop.stack.servers import Servers
from gridloop.stack.testing import Bus, RunningService, eventually, launch, ok

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def directory(servers: Servers, service_logs: Path) -> Iterator[RunningService]:
    service = launch("directory", servers, service_logs)
    yield service
    service.process.stop()


def _records(bus: Bus) -> list[DirectoryRecord]:
    return [DirectoryRecord.model_validate_json(v) for _, v, _ in bus.read(DIRECTORY_TOPIC) if v]


def test_the_demo_tree_and_point_lookup(directory: RunningService) -> None:
    reader = directory.user(sub="sup", role=Role.SUPERVISOR, org="QH")
    tree = ok(reader.call("directory", "GET", "/v1/directory/tree"))
    [district] = tree["districts"]
    assert [s["name"] for s in district["streets"]] == ["临江街道", "松林街道", "望湖街道"]  # by code: LJ, SL, WH
    assert sum(len(c["grids"]) for s in district["streets"] for c in s["communities"]) == 30
    assert (
        ok(reader.call("directory", "GET", "/v1/directory/grids/locate", params={"lon": 120.135, "lat": 30.245}))[
            "code"
        ]
        == "WH03-G3"
    )
    outside = reader.call("directory", "GET", "/v1/directory/grids/locate", params={"lon": 121.0, "lat": 31.0})
    assert outside.status_code == 404 and outside.json()["error"]["code"] == "outside_grids"


def test_the_whole_directory_is_announced_then_a_snapshot_marker(directory: RunningService, bus: Bus) -> None:
    records = eventually(
        lambda: [r for r in _records(bus) if r.kind == "snapshot"] and _records(bus), what="snapshot announced"
    )
    kinds = [r.kind for r in records]
    assert kinds.count("grid") == 30 and kinds.count("category") == 24
    assert kinds.index("snapshot") > max(i for i, k in enumerate(kinds) if k == "rule")


def test_an_admin_change_is_checked_stored_and_announced_with_a_new_revision(
    directory: RunningService, bus: Bus
) -> None:
    # A category of its own: other tests on this broker rely on the demo catalogue as it is.
    admin = directory.user(sub="admin", role=Role.ADMIN, org="QH")
    category = {
        "code": "SJ-9901",
        "name": "共享单车乱停放",
        "family": "event",
        "major": {"code": "SJ-02", "name": "街面秩序"},
    }
    assert ok(admin.call("directory", "PUT", "/v1/directory/categories/SJ-9901", json=category))["revision"] == 1
    rule = {"id": "R-SJ-9901", "category": "SJ-9901", "lead": "JJ", "assisting": ["CG"]}
    assert ok(admin.call("directory", "PUT", "/v1/directory/rules/R-SJ-9901", json=rule))["revision"] == 1
    renamed = ok(
        admin.call(
            "directory", "PUT", "/v1/directory/categories/SJ-9901", json={**category, "name": "共享单车乱停乱放"}
        )
    )
    assert renamed["revision"] == 2
    assert ok(admin.call("directory", "GET", "/v1/directory/categories/SJ-9901"))["data"]["name"] == "共享单车乱停乱放"
    announced = eventually(
        lambda: [r for r in _records(bus) if r.key == "category:SJ-9901" and r.revision == 2],
        what="revision 2 announced",
    )
    assert announced[0].data["name"] == "共享单车乱停乱放"


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/v1/directory/rules/R-X", {"id": "R-X", "category": "SJ-0101", "lead": "NOPE"}, 422),
        ("/v1/directory/rules/R-X", {"id": "R-Y", "category": "SJ-0101", "lead": "CG"}, 422),
        (
            "/v1/directory/grids/G-X",
            {
                "code": "G-X",
                "name": "坏网格",
                "community": "LJ01",
                "street": "LJ",
                "geometry": {"type": "Polygon", "coordinates": [[[120.1, 30.2], [120.2, 30.2]]]},
            },
            422,
        ),
        (
            "/v1/directory/grids/G-X",
            {"code": "G-X", "name": "坏网格", "community": "LJ01", "street": "LJ", "geometry": "not geojson"},
            422,
        ),
        ("/v1/directory/widgets/W", {"code": "W"}, 422),
    ],
)
def test_invalid_records_are_refused_and_change_nothing(
    directory: RunningService, path: str, body: dict[str, object], status: int
) -> None:
    admin = directory.user(sub="admin", role=Role.ADMIN, org="QH")
    assert admin.call("directory", "PUT", path, json=body).status_code == status
    assert admin.call("directory", "GET", path).status_code in (404, 422)


def test_only_admins_change_the_directory(directory: RunningService) -> None:
    agent = directory.user(sub="agent", role=Role.DEPARTMENT_AGENT, org="CG")
    response = agent.call(
        "directory", "PUT", "/v1/directory/departments/CG", json={"code": "CG", "name": "城管", "short_name": "城管"}
    )
    assert response.status_code == 403
