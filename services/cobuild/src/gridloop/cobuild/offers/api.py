"""Routes of offers under /v1/cobuild."""

from fastapi import APIRouter

from gridloop.shared.errors import ERROR_RESPONSES

router = APIRouter(prefix="/v1/cobuild", tags=["cobuild"], responses=ERROR_RESPONSES)
