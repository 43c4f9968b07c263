"""What admission reads of the directory: the lists (`admission_item`), departments, communities
and streets."""

from collections.abc import Mapping
from typing import Any

from gridloop.cobuild.admission.domain import Department
from gridloop.shared.refdata import RefData

ADMISSION_ITEM = "admission_item"


async def items(refdata: RefData) -> list[dict[str, Any]]:
    return await refdata.all(ADMISSION_ITEM)


async def department(refdata: RefData, code: str) -> Department | None:
    record = await refdata.get("department", code)
    return Department(code=code, name=str(record.get("name", code))) if record else None


async def department_names(refdata: RefData) -> dict[str, str]:
    return {d["code"]: str(d.get("name", d["code"])) for d in await refdata.all("department")}


async def community(refdata: RefData, code: str) -> Mapping[str, Any] | None:
    return await refdata.get("community", code)


async def district_of_street(refdata: RefData, street_code: str) -> str | None:
    street = await refdata.get("street", street_code)
    return str(street["district"]) if street else None


async def communities_of_street(refdata: RefData, street_code: str) -> list[str]:
    return sorted(c["code"] for c in await refdata.all("community") if c.get("street") == street_code)


async def the_district(refdata: RefData) -> str | None:
    """The district the directory holds (one per deployment)."""
    districts = await refdata.all("district")
    return str(districts[0]["code"]) if districts else None
