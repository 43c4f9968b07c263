"""What web's routes are given, as types: its settings and clock, the sessions' store, the page
templates, the signed-in staff member (and the check that their role works at a desk), a posted
form whose anti-forgery token matched, and a typed client per service, calling as that person.
No route reads `app.state`."""

import secrets
from collections.abc import Callable
from typing import Annotated, TypeVar

import httpx
from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData

from gridloop.shared.clock import Clock
from gridloop.shared.events import Role
from gridloop.web.clients.base import ServiceClient
from gridloop.web.clients.cobuild import CobuildClient
from gridloop.web.clients.directory import DirectoryClient
from gridloop.web.clients.dispatch import DispatchClient
from gridloop.web.clients.handling import HandlingClient
from gridloop.web.clients.intake import IntakeClient
from gridloop.web.clients.supervision import SupervisionClient
from gridloop.web.render import ConsolePages
from gridloop.web.sessions import CSRF_KEY, SessionStore, Staff, signed_in
from gridloop.web.settings import WebSettings

C = TypeVar("C", bound=ServiceClient)


class SignInNeeded(Exception):
    """No session, or it expired or ended: the person signs in (again)."""


class WrongDesk(Exception):
    """A page of another role: the person is sent to their own desk."""

    def __init__(self, role: Role) -> None:
        super().__init__(role.value)
        self.role = role


class BadForm(Exception):
    """A form without this session's anti-forgery token."""


def settings(request: Request) -> WebSettings:
    live: WebSettings = request.app.state.settings
    return live


def clock(request: Request) -> Clock:
    """The instance's clock (GRIDLOOP_CLOCK_START moves it, as it moves every service's)."""
    live: Clock = request.app.state.clock
    return live


def sessions(request: Request) -> SessionStore:
    live: SessionStore = request.app.state.sessions
    return live


def templates(request: Request) -> Jinja2Templates:
    live: Jinja2Templates = request.app.state.templates
    return live


def http(request: Request) -> httpx.AsyncClient:
    live: httpx.AsyncClient = request.app.state.http
    return live


Settings = Annotated[WebSettings, Depends(settings)]
WebClock = Annotated[Clock, Depends(clock)]
Sessions = Annotated[SessionStore, Depends(sessions)]
Templates = Annotated[Jinja2Templates, Depends(templates)]
Http = Annotated[httpx.AsyncClient, Depends(http)]


def console_pages(templates: Templates, clock: WebClock) -> ConsolePages:
    return ConsolePages(templates, clock)


Pages = Annotated[ConsolePages, Depends(console_pages)]


async def staff(request: Request, store: Sessions) -> Staff:
    record = await signed_in(request, store)
    if record is None:
        raise SignInNeeded
    csrf = request.session.get(CSRF_KEY)
    if not csrf:
        csrf = request.session[CSRF_KEY] = secrets.token_urlsafe(24)
    return Staff(token=record.token, user=record.user, csrf=csrf)


SignedIn = Annotated[Staff, Depends(staff)]


def desk_of(*roles: Role) -> Callable[[Staff], Staff]:
    """A dependency: the signed-in person, if their role works at this desk."""

    def check(person: SignedIn) -> Staff:
        if person.user.role not in roles:
            raise WrongDesk(person.user.role)
        return person

    return check


Dispatcher = Annotated[Staff, Depends(desk_of(Role.STREET_DISPATCHER))]
Agent = Annotated[Staff, Depends(desk_of(Role.DEPARTMENT_AGENT))]
Supervisor = Annotated[Staff, Depends(desk_of(Role.SUPERVISOR))]
Admin = Annotated[Staff, Depends(desk_of(Role.ADMIN))]
CommunityWorker = Annotated[Staff, Depends(desk_of(Role.COMMUNITY_WORKER))]
UnitAdmin = Annotated[Staff, Depends(desk_of(Role.UNIT_ADMIN))]
CobuildDesk = Annotated[Staff, Depends(desk_of(Role.COMMUNITY_WORKER, Role.UNIT_ADMIN))]
"""Who works on needs and offers: the community that collects them and the units that take them on."""
ProjectDesk = Annotated[Staff, Depends(desk_of(Role.COMMUNITY_WORKER, Role.UNIT_ADMIN, Role.STREET_DISPATCHER))]
"""Who works on 惠民项目: the community and the units in them, and the street that approves and evaluates them."""
Connector = Annotated[Staff, Depends(desk_of(Role.DEPARTMENT_AGENT, Role.ADMIN))]
"""Who connects other systems by webhook: a department's agent, and the admin who oversees them."""


async def checked_form(request: Request, person: SignedIn) -> FormData:
    """The posted form, once its anti-forgery token matches the session's."""
    form = await request.form()
    sent = form.get("csrf") or request.headers.get("x-csrf-token")
    if not isinstance(sent, str) or not secrets.compare_digest(sent, person.csrf):
        raise BadForm
    return form


Form = Annotated[FormData, Depends(checked_form)]


def client_of(kind: type[C]) -> Callable[[WebSettings, httpx.AsyncClient, Staff], C]:
    """A dependency: the service's client, calling as the signed-in person."""

    def build(settings: Settings, http: Http, person: SignedIn) -> C:
        return kind(settings.service_urls[kind.service], http, person.token)

    return build


Intake = Annotated[IntakeClient, Depends(client_of(IntakeClient))]
Dispatch = Annotated[DispatchClient, Depends(client_of(DispatchClient))]
Handling = Annotated[HandlingClient, Depends(client_of(HandlingClient))]
Supervision = Annotated[SupervisionClient, Depends(client_of(SupervisionClient))]
Directory = Annotated[DirectoryClient, Depends(client_of(DirectoryClient))]
Cobuild = Annotated[CobuildClient, Depends(client_of(CobuildClient))]
