"""Console routes every desk shares: its front door (each role to its own desk) and photos."""

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from gridloop.web.deps import Intake, SignedIn
from gridloop.web.render import HOME

router = APIRouter(prefix="/console", include_in_schema=False)


@router.get("/")
async def home(person: SignedIn) -> RedirectResponse:
    return RedirectResponse(HOME.get(person.user.role, "/signin"), status_code=303)


@router.get("/photos/{attachment_id}")
async def photo(attachment_id: str, intake: Intake) -> Response:
    """A photo, fetched from intake as the person (intake decides who may see it)."""
    found = await intake.photo(attachment_id)
    return Response(found.content, media_type=found.content_type, headers={"Cache-Control": "private, max-age=3600"})
