import copy

import pytest
from pydantic import ValidationError

from gridloop.directory.domain import InvalidReference, NotByStreet, of_street, parse_record, seed_records
from gridloop.directory.handlers import demo_seed
from gridloop.shared.directory import Kind

pytestmark = pytest.mark.unit
SQUARE = [[120.1, 30.2], [120.11, 30.2], [120.11, 30.21], [120.1, 30.21], [120.1, 30.2]]


def test_the_demo_directory_is_a_whole_fictional_district() -> None:
    records = demo_seed()
    kinds = [kind for kind, _, _ in records]
    assert kinds.count(Kind.STREET) == 3
    assert kinds.count(Kind.COMMUNITY) == 9
    assert kinds.count(Kind.GRID) == 30
    assert kinds.count(Kind.DEPARTMENT) == 12  # with 公安 and 民政, who issue what a community may not
    assert kinds.count(Kind.ADMISSION_ITEM) == 22
    assert kinds.count(Kind.CATEGORY) >= 20
    names = {data["name"] for kind, _, data in records if kind == Kind.CATEGORY}
    assert {"暴露垃圾", "违章停车", "上水井盖"} <= names


def test_a_grid_polygon_must_be_a_closed_ring_on_the_globe() -> None:
    grid = {
        "code": "G",
        "name": "网格",
        "community": "C",
        "street": "S",
        "geometry": {"type": "Polygon", "coordinates": [SQUARE]},
    }
    assert parse_record(Kind.GRID, "G", grid)["geometry"]["type"] == "Polygon"
    open_ring = copy.deepcopy(grid)
    open_ring["geometry"]["coordinates"][0].pop()
    with pytest.raises(ValidationError):
        parse_record(Kind.GRID, "G", open_ring)
    off_globe = copy.deepcopy(grid)
    off_globe["geometry"]["coordinates"][0][1] = [190.0, 30.2]
    with pytest.raises(ValidationError):
        parse_record(Kind.GRID, "G", off_globe)
    with pytest.raises(ValidationError):
        parse_record(Kind.GRID, "G", {**grid, "geometry": {"type": "Point", "coordinates": [120.1, 30.2]}})


def test_a_seed_naming_an_unknown_department_is_refused() -> None:
    tree = {"district": {"code": "D", "name": "区"}, "streets": [], "communities": [], "grids": []}
    catalogue = {
        "departments": [],
        "categories": [{"code": "SJ-1", "name": "垃圾", "family": "event", "major": {"code": "SJ", "name": "事件"}}],
        "rules": [{"id": "R1", "category": "SJ-1", "lead": "NOPE"}],
        "slas": [],
    }
    with pytest.raises(InvalidReference):
        seed_records(tree, catalogue)


def test_the_path_code_and_the_body_code_must_agree() -> None:
    with pytest.raises(InvalidReference):
        parse_record(Kind.DEPARTMENT, "CG", {"code": "JJ", "name": "交警", "short_name": "交警"})


def test_time_limits_name_their_unit_and_working_days_are_whole() -> None:
    limit = {
        "code": "SJ-0101",
        "accept": {"within": 1, "unit": "working_hours"},
        "resolve": {"within": 4, "unit": "working_hours"},
    }
    assert parse_record(Kind.SLA, "SJ-0101", limit)["resolve"]["unit"] == "working_hours"
    with pytest.raises(ValidationError):
        parse_record(Kind.SLA, "SJ-0101", {**limit, "resolve": {"within": 1.5, "unit": "working_days"}})
    with pytest.raises(ValidationError):
        parse_record(Kind.SLA, "SJ-0101", {**limit, "resolve": {"within": 4, "unit": "fortnights"}})
    demo = {code: data for kind, code, data in demo_seed() if kind == Kind.SLA}
    assert demo["SJ-0601"]["resolve"] == {"within": 2, "unit": "hours"}  # a burst water main: around the clock


def test_what_a_street_works_with() -> None:
    grids = [{"code": "LJ01-G1", "street": "LJ"}, {"code": "WH01-G1", "street": "WH"}]
    departments = [
        {"code": "CG", "serves": []},
        {"code": "ZF-LJ", "serves": ["LJ"]},
        {"code": "ZF-WH", "serves": ["WH"]},
    ]
    assert [g["code"] for g in of_street(Kind.GRID, grids, "LJ")] == ["LJ01-G1"]
    assert [d["code"] for d in of_street(Kind.DEPARTMENT, departments, "LJ")] == ["CG", "ZF-LJ"]
    with pytest.raises(NotByStreet):
        of_street(Kind.CATEGORY, [], "LJ")


def test_the_demo_directory_has_need_categories_and_units_paired_with_its_communities() -> None:
    records = demo_seed()
    by_kind: dict[Kind, dict[str, dict[str, object]]] = {}
    for kind, code, data in records:
        by_kind.setdefault(kind, {})[code] = data
    needs = by_kind[Kind.NEED_CATEGORY]
    assert {code: data["name"] for code, data in needs.items()} == {
        "NC-ELDER": "助老服务",
        "NC-CHILD": "助学关爱",
        "NC-REPAIR": "家电维修",
        "NC-HEALTH": "健康义诊",
        "NC-ENV": "环境美化",
        "NC-CULTURE": "文体活动",
        "NC-JOB": "就业帮扶",
        "NC-LEGAL": "法律咨询",
    }
    assert needs["NC-ELDER"] == {
        "code": "NC-ELDER",
        "name": "助老服务",
        "review_days": 3,
        "claim_days": 10,
        "deliver_days": 30,
        "confirm_days": 7,
        "contact_days": 7,
    }
    units = by_kind[Kind.UNIT]
    assert units["U-LJ-HOSP"]["name"] == "区人民医院" and units["U-LJ-HOSP"]["communities"] == ["LJ01", "LJ02"]
    assert len(units) == 6
    grids, communities = by_kind[Kind.GRID], by_kind[Kind.COMMUNITY]
    for code, unit in units.items():
        grid = grids[str(unit["grid"])]
        assert grid["street"] == unit["street"], code  # a unit sits in a grid of its own street
        for community in unit["communities"]:  # type: ignore[attr-defined]
            assert community in communities, (code, community)


def test_a_need_category_defaults_its_time_limits_and_refuses_a_zero_one() -> None:
    assert parse_record(Kind.NEED_CATEGORY, "NC-X", {"code": "NC-X", "name": "测试"})["claim_days"] == 10
    with pytest.raises(ValidationError):
        parse_record(Kind.NEED_CATEGORY, "NC-X", {"code": "NC-X", "name": "测试", "review_days": 0})


UNIT = {
    "code": "U-X",
    "name": "测试单位",
    "kind": "enterprise",
    "grid": "LJ01-G1",
    "street": "LJ",
    "liaison": "工会 王主任",
    "communities": ["LJ01"],
}


@pytest.mark.parametrize(
    "broken",
    [{"communities": []}, {"communities": ["LJ01", "LJ01"]}, {"kind": "church"}, {"liaison": ""}, {"grid": None}],
)
def test_a_unit_needs_a_kind_a_place_a_liaison_and_paired_communities(broken: dict[str, object]) -> None:
    assert parse_record(Kind.UNIT, "U-X", UNIT)["communities"] == ["LJ01"]
    with pytest.raises(ValidationError):
        parse_record(Kind.UNIT, "U-X", {**UNIT, **broken})


def test_a_seed_naming_an_unknown_community_for_a_unit_is_refused() -> None:
    tree = {"district": {"code": "D", "name": "区"}, "streets": [], "communities": [], "grids": []}
    catalogue = {"departments": [], "categories": [], "rules": [], "slas": [], "units": [UNIT]}
    with pytest.raises(InvalidReference, match="LJ01"):
        seed_records(tree, catalogue)


def test_a_street_lists_its_own_units() -> None:
    units = [{"code": "U-LJ-HOSP", "street": "LJ"}, {"code": "U-WH-TAX", "street": "WH"}]
    assert [u["code"] for u in of_street(Kind.UNIT, units, "WH")] == ["U-WH-TAX"]
    with pytest.raises(NotByStreet):
        of_street(Kind.NEED_CATEGORY, [], "LJ")


def test_an_admission_item_names_a_known_department_and_a_negative_one_says_why() -> None:
    item = {
        "code": "QH-2027-1-N01",
        "list": "negative",
        "name": "亲属关系证明",
        "district": "QH",
        "version": "2027-1",
        "valid_from": "2027-01-01",
        "task_type": "certificate",
        "department": "GA",
        "issuer": "户籍所在地公安派出所",
        "refusal": "请向户籍所在地公安派出所申请。",
    }
    assert parse_record(Kind.ADMISSION_ITEM, "QH-2027-1-N01", item)["valid_from"] == "2027-01-01"
    with pytest.raises(ValidationError):
        parse_record(Kind.ADMISSION_ITEM, "QH-2027-1-N01", {**item, "refusal": ""})
    with pytest.raises(ValidationError):
        parse_record(Kind.ADMISSION_ITEM, "QH-2027-1-N01", {**item, "version": "next"})
    tree = {"district": {"code": "QH", "name": "青禾区"}, "streets": [], "communities": [], "grids": []}
    empty = {"departments": [], "categories": [], "rules": [], "slas": []}
    with pytest.raises(InvalidReference):
        seed_records(tree, {**empty, "admission_items": [item]})
    kept = seed_records(
        tree,
        {
            **empty,
            "departments": [{"code": "GA", "name": "区公安分局", "short_name": "公安"}],
            "admission_items": [item],
        },
    )
    assert [kind for kind, _, _ in kept][-1] == Kind.ADMISSION_ITEM
