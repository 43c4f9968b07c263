"""The directory as files a city's GIS and admin staff work with: one YAML document for the tree,
departments, categories, rules, time limits, holiday schedules, need categories and units (驻区单位),
and one GeoJSON FeatureCollection of grid polygons.

Pure conversions; `gridloop.directory.cli` moves them over the admin API."""

from typing import Any

from gridloop.directory.domain import InvalidReference, seed_records
from gridloop.shared.directory import Kind

Records = list[tuple[Kind, str, dict[str, Any]]]
YAML_SECTIONS = {
    Kind.STREET: "streets",
    Kind.COMMUNITY: "communities",
    Kind.DEPARTMENT: "departments",
    Kind.CATEGORY: "categories",
    Kind.RULE: "rules",
    Kind.SLA: "slas",
    Kind.CALENDAR: "calendars",
    Kind.NEED_CATEGORY: "need_categories",
    Kind.UNIT: "units",
    Kind.ADMISSION_ITEM: "admission_items",
}
GRID_PROPERTIES = ("code", "name", "community", "street")


class InvalidFile(ValueError):
    """A directory file that is not what it must be; the message says where."""


def to_documents(records: Records) -> tuple[dict[str, Any], dict[str, Any]]:
    """(directory YAML document, grids GeoJSON FeatureCollection) for a whole directory."""
    districts = [data for kind, _, data in records if kind == Kind.DISTRICT]
    if len(districts) != 1:
        raise InvalidFile(f"a directory holds exactly one district, this one {len(districts)}")
    document: dict[str, Any] = {"district": districts[0]}
    for kind, section in YAML_SECTIONS.items():
        document[section] = [data for k, _, data in records if k == kind]
    features = [
        {
            "type": "Feature",
            "id": data["code"],
            "geometry": data["geometry"],
            "properties": {key: data[key] for key in GRID_PROPERTIES},
        }
        for kind, _, data in records
        if kind == Kind.GRID
    ]
    return document, {"type": "FeatureCollection", "features": features}


def from_documents(document: Any, grids: Any) -> Records:
    """Every record of the two files, checked and in dependency order; InvalidFile names the first fault."""
    if not isinstance(document, dict) or not isinstance(document.get("district"), dict):
        raise InvalidFile("directory.yaml: needs a mapping with a `district`")
    if (
        not isinstance(grids, dict)
        or grids.get("type") != "FeatureCollection"
        or not isinstance(grids.get("features"), list)
    ):
        raise InvalidFile("grids.geojson: needs a GeoJSON FeatureCollection")
    grid_records = []
    for n, feature in enumerate(grids["features"]):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            raise InvalidFile(f"grids.geojson: feature {n} is not a GeoJSON Feature")
        properties = feature.get("properties") or {}
        missing = [key for key in GRID_PROPERTIES if key not in properties]
        if missing:
            raise InvalidFile(f"grids.geojson: feature {n} lacks properties {missing}")
        grid_records.append({**{key: properties[key] for key in GRID_PROPERTIES}, "geometry": feature.get("geometry")})
    tree = {
        "district": document["district"],
        "streets": _section(document, "streets"),
        "communities": _section(document, "communities"),
        "grids": grid_records,
    }
    catalogue = {
        section: _section(document, section)
        for section in ("departments", "categories", "rules", "slas", "need_categories", "units", "admission_items")
    }
    try:
        return seed_records(tree, catalogue, _section(document, "calendars"))
    except (InvalidReference, ValueError, KeyError, TypeError) as exc:
        raise InvalidFile(f"directory files: {exc}") from exc


def _section(document: dict[str, Any], name: str) -> list[Any]:
    value = document.get(name) or []
    if not isinstance(value, list):
        raise InvalidFile(f"directory.yaml: `{name}` must be a list")
    return value
