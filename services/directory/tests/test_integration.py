"""Directory against the real broker and database: serves the seed, and announces every change."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from gridloop.directory import cli
from gridloop.shared.directory import DirectoryRecord
from gridloop.shared.events import DIRECTORY_TOPIC, Role
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
    first = kinds[: kinds.index("snapshot")]  # other directories on this broker announce after it
    assert first.count("grid") == 30 and first.count("category") == 24 and first.count("calendar") == 3
    assert first.count("unit") == 6 and first.count("need_category") == 8
    assert first.index("rule") < first.index("calendar")
    assert first.index("grid") < first.index("unit")  # a unit names its grid and communities: announced after them
    hospital = next(r for r in records if r.key == "unit:U-LJ-HOSP")
    assert hospital.data["communities"] == ["LJ01", "LJ02"] and hospital.data["liaison"]


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
    history = ok(admin.call("directory", "GET", "/v1/directory/categories/SJ-9901/history"))["revisions"]
    assert [(r["revision"], r["data"]["name"], r["changed_by"]["sub"]) for r in history] == [
        (1, "共享单车乱停放", "admin"),
        (2, "共享单车乱停乱放", "admin"),
    ]  # the earlier name is kept, with who changed it
    seed = ok(admin.call("directory", "GET", "/v1/directory/categories/SJ-0101/history"))["revisions"]
    assert seed[0]["changed_by"]["sub"] == "directory-seed"


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


def test_the_directory_exports_to_files_and_a_changed_file_imports_back_as_one_change(
    directory: RunningService, bus: Bus, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    admin = directory.user(sub="admin-io", role=Role.ADMIN, org="QH")
    token = admin.http.headers["Authorization"].removeprefix("Bearer ")
    cli.main(["--url", directory.url, "--token", token, "export", str(tmp_path)])
    document = yaml.safe_load((tmp_path / "directory.yaml").read_text(encoding="utf-8"))
    grids = json.loads((tmp_path / "grids.geojson").read_text(encoding="utf-8"))
    assert len(grids["features"]) >= 30 and document["district"]["name"] == "青禾区"
    noise = next(c for c in document["categories"] if c["code"] == "SJ-0302")
    noise["name"] = "施工噪声扰民"
    (tmp_path / "directory.yaml").write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    capsys.readouterr()
    cli.main(["--url", directory.url, "--token", token, "import", str(tmp_path)])
    assert capsys.readouterr().out.startswith("0 created, 1 changed,")
    announced = eventually(
        lambda: [r for r in _records(bus) if r.code == "SJ-0302" and r.data["name"] == "施工噪声扰民"],
        what="the renamed category on the directory topic",
    )
    assert announced[-1].revision >= 2
    cli.main(["--url", directory.url, "--token", token, "import", str(tmp_path)])
    assert capsys.readouterr().out.startswith("0 created, 0 changed,")  # the same files again: nothing to do


def test_an_invalid_grids_file_is_refused_before_anything_is_sent(directory: RunningService, tmp_path: Path) -> None:
    admin = directory.user(sub="admin-io", role=Role.ADMIN, org="QH")
    token = admin.http.headers["Authorization"].removeprefix("Bearer ")
    cli.main(["--url", directory.url, "--token", token, "export", str(tmp_path)])
    before = ok(admin.call("directory", "GET", "/v1/directory/grids/LJ01-G1"))["revision"]
    grids = json.loads((tmp_path / "grids.geojson").read_text(encoding="utf-8"))
    grids["features"][0]["geometry"]["coordinates"][0][1] = [190.0, 30.2]  # LJ01-G1, off the globe
    (tmp_path / "grids.geojson").write_text(json.dumps(grids), encoding="utf-8")
    with pytest.raises(SystemExit, match="refused"):
        cli.main(["--url", directory.url, "--token", token, "import", str(tmp_path)])
    assert ok(admin.call("directory", "GET", "/v1/directory/grids/LJ01-G1"))["revision"] == before
    worker = directory.user(sub="gw-io", role=Role.GRID_WORKER, org="LJ01")
    worker_token = worker.http.headers["Authorization"].removeprefix("Bearer ")
    cli.main(["--url", directory.url, "--token", token, "export", str(tmp_path)])
    with pytest.raises(SystemExit, match="403"):
        cli.main(["--url", directory.url, "--token", worker_token, "import", str(tmp_path)])


def test_a_street_lists_its_own_grids_and_the_departments_that_serve_it(directory: RunningService) -> None:
    desk = directory.user(sub="sd", role=Role.STREET_DISPATCHER, org="LJ")

    def codes(collection: str, street: str | None) -> set[str]:
        params = {"street": street} if street else {}
        return {
            r["code"] for r in ok(desk.call("directory", "GET", f"/v1/directory/{collection}", params=params))["items"]
        }

    every_grid, lj_grids = codes("grids", None), codes("grids", "LJ")
    assert lj_grids and lj_grids < every_grid and all(code.startswith("LJ") for code in lj_grids)
    departments = codes("departments", "LJ")
    assert "ZF-LJ" in departments and "ZF-WH" not in departments  # street teams serve their own street
    assert "CG" in departments  # a district department serves every street
    assert codes("departments", "WH") - departments == {"ZF-WH"}
    refused = desk.call("directory", "GET", "/v1/directory/categories", params={"street": "LJ"})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "not_by_street"


def test_units_and_need_categories_are_served_as_every_kind_is(directory: RunningService) -> None:
    worker = directory.user(sub="cw", role=Role.COMMUNITY_WORKER, org="LJ01")
    units = ok(worker.call("directory", "GET", "/v1/directory/units", params={"street": "LJ"}))["items"]
    assert [u["code"] for u in units] == ["U-LJ-BANK", "U-LJ-HOSP", "U-LJ-POWER", "U-LJ-SCHOOL"]
    assert {u["code"] for u in ok(worker.call("directory", "GET", "/v1/directory/units"))["items"]} >= {
        "U-WH-TAX",
        "U-SL-CORP",
    }
    school = ok(worker.call("directory", "GET", "/v1/directory/units/U-LJ-SCHOOL"))["data"]
    assert school["name"] == "临江中学" and school["communities"] == ["LJ01"] and school["kind"] == "school"
    categories = ok(worker.call("directory", "GET", "/v1/directory/need_categories"))["items"]
    assert {c["code"]: c["name"] for c in categories}["NC-LEGAL"] == "法律咨询"
    refused = worker.call("directory", "GET", "/v1/directory/need_categories", params={"street": "LJ"})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "not_by_street"


def test_an_admin_pairs_a_new_unit_and_it_is_announced_while_a_unit_naming_no_community_is_refused(
    directory: RunningService, bus: Bus
) -> None:
    admin = directory.user(sub="admin", role=Role.ADMIN, org="QH")
    unit = {
        "code": "U-WH-LIB",
        "name": "区图书馆",
        "kind": "government",
        "grid": "WH02-G1",
        "street": "WH",
        "liaison": "办公室 吴老师",
        "communities": ["WH02", "WH03"],
    }
    assert ok(admin.call("directory", "PUT", "/v1/directory/units/U-WH-LIB", json=unit))["outcome"] == "created"
    announced = eventually(
        lambda: [r for r in _records(bus) if r.key == "unit:U-WH-LIB"], what="the new unit on the directory topic"
    )
    assert announced[-1].data["communities"] == ["WH02", "WH03"]
    for broken in ({"communities": ["WH99"]}, {"communities": []}, {"kind": "temple"}, {"code": "U-OTHER"}):
        refused = admin.call(
            "directory", "PUT", "/v1/directory/units/U-WH-LIB2", json={**unit, "code": "U-WH-LIB2", **broken}
        )
        assert refused.status_code == 422, broken
    assert admin.call("directory", "GET", "/v1/directory/units/U-WH-LIB2").status_code == 404
    worker = directory.user(sub="ua", role=Role.UNIT_ADMIN, org="U-LJ-HOSP")
    assert worker.call("directory", "PUT", "/v1/directory/units/U-LJ-HOSP", json=unit).status_code == 403


def test_the_admission_lists_are_served_and_an_admin_publishes_a_new_versions_item(
    directory: RunningService, bus: Bus
) -> None:
    worker = directory.user(sub="cw", role=Role.COMMUNITY_WORKER, org="LJ01")
    items = ok(worker.call("directory", "GET", "/v1/directory/admission_items"))["items"]
    certificates = [i["name"] for i in items if i["list"] == "certificate" and i["version"] == "2026-1"]
    assert len(certificates) == 6 and "居住证明" in certificates
    kin = next(i for i in items if i["name"] == "亲属关系证明")
    assert (kin["list"], kin["department"], kin["issuer"]) == ("negative", "GA", "户籍所在地公安派出所")
    admin = directory.user(sub="admin", role=Role.ADMIN, org="QH")
    item = {
        "code": "QH-2027-1-C01",
        "list": "certificate",
        "name": "居住证明",
        "district": "QH",
        "version": "2027-1",
        "valid_from": "2027-01-01",
        "task_type": "certificate",
        "keywords": ["居住"],
    }
    changed = admin.call("directory", "PUT", "/v1/directory/admission_items/QH-2027-1-C01", json=item)
    assert ok(changed)["outcome"] == "created"
    eventually(
        lambda: [r for r in _records(bus) if r.key == "admission_item:QH-2027-1-C01"],
        what="the new version's item on the directory topic",
    )
    for broken in ({"list": "negative"}, {"district": "XX"}, {"version": "next"}):  # no refusal text; no such district
        body = {**item, "code": "QH-2027-1-X", **broken}
        refused = admin.call("directory", "PUT", "/v1/directory/admission_items/QH-2027-1-X", json=body)
        assert refused.status_code == 422, broken
