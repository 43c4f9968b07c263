"""Console routes every desk shares: its front door (each role to its own desk) and photos."""

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from gridloop.web.console.client import ServiceError
from gridloop.web.console.deps import ServiceClient, SignedIn
from gridloop.web.console.render import HOME

router = APIRouter(prefix="/console", include_in_schema=False)


@router.get("/")
async def home(person: SignedIn) -> RedirectResponse:
    return RedirectResponse(HOME.get(person.user.role, "/signin"), status_code=303)


@router.get("/photos/{attachment_id}")
async def photo(attachment_id: str, person: SignedIn, services: ServiceClient) -> Response:
    """A photo, fetched from intake as the person (intake decides who may see it)."""
    upstream = await services.raw(person.token, "intake", "GET", f"/v1/attachments/{attachment_id}")
    if upstream.status_code != 200:
        raise ServiceError(upstream.status_code, "photo_unavailable", "照片无法显示")
    return Response(
        upstream.content,
        media_type=upstream.headers.get("content-type", "application/octet-stream"),
        headers={"Cache-Control": "private, max-age=3600"},
    )
