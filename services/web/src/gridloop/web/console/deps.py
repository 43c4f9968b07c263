"""What console routes are given: the signed-in staff member, the services client, the pages."""

import secrets
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel
from starlette.datastructures import FormData

from gridloop.shared.events import Actor, Role
from gridloop.web.console.client import Services
from gridloop.web.sessions import SID_KEY, SessionStore

CSRF_KEY = "csrf"


class SignInNeeded(Exception):
    """No session, or it expired or ended: the person signs in (again)."""


class WrongDesk(Exception):
    """A page of another role: the person is sent to their own desk."""

    def __init__(self, role: Role) -> None:
        super().__init__(role.value)
        self.role = role


class BadForm(Exception):
    """A form without this session's anti-forgery token."""


class Staff(BaseModel):
    token: str
    user: Actor
    csrf: str


async def staff(request: Request) -> Staff:
    store: SessionStore = request.app.state.sessions
    record = await store.current(request.session.get(SID_KEY), datetime.now(UTC))
    if record is None:
        request.session.clear()
        raise SignInNeeded
    csrf = request.session.get(CSRF_KEY)
    if not csrf:
        csrf = request.session[CSRF_KEY] = secrets.token_urlsafe(24)
    return Staff(token=record.token, user=record.user, csrf=csrf)


def services(request: Request) -> Services:
    live: Services = request.app.state.services
    return live


def templates(request: Request) -> Jinja2Templates:
    live: Jinja2Templates = request.app.state.templates
    return live


SignedIn = Annotated[Staff, Depends(staff)]
ServiceClient = Annotated[Services, Depends(services)]
Pages = Annotated[Jinja2Templates, Depends(templates)]


def desk_of(*roles: Role):  # type: ignore[no-untyped-def]
    """A dependency: the signed-in person, if their role works at this desk."""

    def check(person: SignedIn) -> Staff:
        if person.user.role not in roles:
            raise WrongDesk(person.user.role)
        return person

    return Depends(check)


async def checked_form(request: Request, person: SignedIn) -> FormData:
    """The posted form, once its anti-forgery token matches the session's."""
    form = await request.form()
    sent = form.get("csrf") or request.headers.get("x-csrf-token")
    if not isinstance(sent, str) or not secrets.compare_digest(sent, person.csrf):
        raise BadForm
    return form


Form = Annotated[FormData, Depends(checked_form)]
