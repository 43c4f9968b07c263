"""What offers and projects read of the directory's reference data (as the directory last
announced it): units (驻区单位), need categories, and where a grid lies."""

from typing import Any

from gridloop.cobuild.offers.domain import Place
from gridloop.shared.refdata import RefData


async def place(refdata: RefData, grid_code: str) -> Place | None:
    """The grid's community, street and district; None for a grid the directory does not hold."""
    grid = await refdata.get("grid", grid_code)
    if grid is None:
        return None
    street = await refdata.get("street", str(grid["street"]))
    district = str(street["district"]) if street else ""
    return Place(
        grid_code=grid_code,
        community_code=str(grid["community"]),
        street_code=str(grid["street"]),
        district_code=district,
    )


async def unit(refdata: RefData, code: str) -> dict[str, Any] | None:
    return await refdata.get("unit", code)


async def units(refdata: RefData) -> dict[str, dict[str, Any]]:
    return {str(u["code"]): u for u in await refdata.all("unit")}


async def need_categories(refdata: RefData) -> dict[str, dict[str, Any]]:
    return {str(c["code"]): c for c in await refdata.all("need_category")}


async def community_street(refdata: RefData, community: str) -> str | None:
    found = await refdata.get("community", community)
    return str(found["street"]) if found else None


async def grid_centroids(refdata: RefData) -> dict[str, tuple[float, float]]:
    """Each grid's centre (lon, lat), from the first ring of its polygon, for distances."""
    centres: dict[str, tuple[float, float]] = {}
    for grid in await refdata.all("grid"):
        geometry = grid.get("geometry")
        if not isinstance(geometry, dict) or not geometry.get("coordinates"):
            continue
        ring = geometry["coordinates"][0][:-1] or geometry["coordinates"][0]
        centres[str(grid["code"])] = (
            sum(float(p[0]) for p in ring) / len(ring),
            sum(float(p[1]) for p in ring) / len(ring),
        )
    return centres
