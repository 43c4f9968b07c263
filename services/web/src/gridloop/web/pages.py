"""Routes of the web service: sign-in, the session the app reads, the app shell and its manifest,
and the event contract (AsyncAPI) for other teams.
No ticket data passes through here: the pages call the services' APIs through the gateway."""

from functools import cache
from pathlib import Path
from typing import Annotated

from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.starlette_client import OAuth
from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from gridloop.shared import asyncapi
from gridloop.shared.errors import ApiError
from gridloop.shared.ids import new_id
from gridloop.web import labels, signin
from gridloop.web.deps import Sessions
from gridloop.web.sessions import begin, finish, signed_in
from gridloop.web.settings import WebSettings

# URL name → folder under node_modules (pinned in package-lock.json).
VENDORED = {
    "leaflet": "leaflet/dist",
    "idb-keyval": "idb-keyval/dist",
    "htmx": "htmx.org/dist",
    "echarts": "echarts/dist",
}
STATIC = Path(__file__).parent / "static"


def router(*, settings: WebSettings, templates: Jinja2Templates, oauth: OAuth) -> APIRouter:
    r = APIRouter()
    development = settings.sign_in == "development"
    vendor_dir = settings.vendor_dir

    async def keep(request: Request, store: Sessions, record: signin.SessionRecord) -> RedirectResponse:
        await begin(request, store, record)
        return RedirectResponse("/console/", status_code=303)  # which sends each role to its own page

    @r.get("/", include_in_schema=False)
    async def home(request: Request, store: Sessions) -> RedirectResponse:
        record = await signed_in(request, store)
        return RedirectResponse("/signin" if record is None else "/console/", status_code=303)

    @r.get("/signin", include_in_schema=False, response_model=None)
    async def signin_page(request: Request, error: str = "") -> Response:
        if not development:
            redirect_uri = str(request.url_for("signin_callback"))
            response: Response = await oauth.city.authorize_redirect(request, redirect_uri)
            return response
        return templates.TemplateResponse(
            request, "signin.html", {"users": signin.DEMO_USERS, "error": error}, status_code=400 if error else 200
        )

    @r.post("/signin/dev", include_in_schema=False)
    async def signin_development(
        request: Request, store: Sessions, sub: Annotated[str, Form(max_length=64)]
    ) -> RedirectResponse:
        if not development:
            raise ApiError(404, "not_found", "未启用开发登录 (development sign-in is off)")
        user = signin.demo_user(sub)
        if user is None:
            return RedirectResponse("/signin?error=unknown_user", status_code=303)
        record = signin.development_session(settings, user, store.clock.now(), sid=new_id(), token_ttl=store.token_ttl)
        return await keep(request, store, record)

    @r.get("/signin/callback", include_in_schema=False, response_model=None)
    async def signin_callback(request: Request, store: Sessions) -> Response:
        if development:
            raise ApiError(404, "not_found", "未启用统一身份认证 (OIDC sign-in is off)")
        try:
            token = await oauth.city.authorize_access_token(request)
            record = signin.provider_session(
                dict(token), api_token=settings.oidc_api_token, sid=new_id(), now=store.clock.now()
            )
        except OAuthError as exc:
            return templates.TemplateResponse(
                request, "signin_failed.html", {"message": f"登录未完成：{exc.description or exc.error}"}, 400
            )
        except signin.SignInRefused as exc:
            return templates.TemplateResponse(request, "signin_failed.html", {"message": exc.message}, 403)
        return await keep(request, store, record)

    @r.post("/signout", include_in_schema=False)
    async def signout(request: Request, store: Sessions) -> RedirectResponse:
        """Ends the session here, so a copy of the cookie opens nothing, and its tokens everywhere."""
        await finish(request, store)
        return RedirectResponse("/signin", status_code=303)

    @r.get(
        "/session",
        summary="The signed-in person's bearer token (renewed while the session lives), its expiry and who they are",
    )
    async def current_session(request: Request, response: Response, store: Sessions) -> signin.Session:
        response.headers["Cache-Control"] = "no-store"
        record = await signed_in(request, store)
        if record is None:
            raise ApiError(401, "not_signed_in", "请先登录 (please sign in)")
        return record.for_browser()

    @r.get("/app/", include_in_schema=False)
    async def app_shell(request: Request) -> Response:
        return templates.TemplateResponse(
            request,
            "app.html",
            {"tile_url": settings.map_tile_url, "tile_attribution": settings.map_tile_attribution},
            # Not kept by the browser (nor its back-forward cache): on a shared phone, Back after a
            # sign-out must not show the last person's page. The service worker keeps its own copy.
            headers={"Cache-Control": "no-store"},
        )

    @r.get("/app/labels.json", include_in_schema=False)
    async def label_names() -> JSONResponse:
        """What the app shows people (names of states, events, ratings) and the limits it says
        before a person sends; the service worker keeps a copy for offline use."""
        return JSONResponse(labels.document(), headers={"Cache-Control": "no-cache"})

    @r.get("/app/sw.js", include_in_schema=False)
    async def service_worker() -> FileResponse:
        return FileResponse(STATIC / "sw.js", media_type="text/javascript", headers={"Cache-Control": "no-cache"})

    @r.get("/app/manifest.webmanifest", include_in_schema=False)
    async def manifest() -> FileResponse:
        return FileResponse(STATIC / "manifest.webmanifest", media_type="application/manifest+json")

    @r.get("/healthz", tags=["ops"], summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @r.get("/readyz", tags=["ops"], summary="Readiness: the pinned front-end packages and the sessions' database")
    async def readyz(store: Sessions) -> JSONResponse:
        checks = {name: (vendor_dir / folder).is_dir() for name, folder in VENDORED.items()}
        checks["sessions"] = await store.database.ping()
        ok = all(checks.values())
        return JSONResponse({"ready": ok, "checks": checks}, status_code=200 if ok else 503)

    @r.get(
        "/asyncapi.json",
        tags=["contract"],
        summary="The event contract (AsyncAPI 3.0): every event type and version on GridLoop's topics",
    )
    async def asyncapi_document() -> Response:
        return Response(_asyncapi(), media_type="application/json")

    @r.get("/metrics", tags=["ops"], summary="Prometheus metrics", response_class=Response)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return r


@cache
def _asyncapi() -> bytes:
    """Generated from the models on first request (never at import), then kept."""
    return asyncapi.render().encode()
