"""Rendering a console page: every page gets the person, their menu, the labels and the clock."""

from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates

from gridloop.shared.events import Role
from gridloop.web.console import labels
from gridloop.web.console.deps import Staff

HOME = {
    Role.STREET_DISPATCHER: "/console/desk",
    Role.DEPARTMENT_AGENT: "/console/inbox",
    Role.SUPERVISOR: "/console/command",
    Role.ADMIN: "/console/admin",
    Role.GRID_WORKER: "/app/",
}
MENU = {
    Role.STREET_DISPATCHER: [("/console/desk", "派遣队列"), ("/console/desk/hotline", "热线/来访登记")],
    Role.DEPARTMENT_AGENT: [("/console/inbox", "部门工单"), ("/console/integrations", "系统对接")],
    Role.SUPERVISOR: [("/console/command", "指挥中心"), ("/console/command/overdue", "超期与督办")],
    Role.ADMIN: [("/console/admin", "目录管理"), ("/console/integrations", "系统对接")],
}


def install_filters(templates: Jinja2Templates) -> None:
    templates.env.filters["local"] = labels.local
    templates.env.filters["percent"] = labels.percent
    templates.env.globals["countdown"] = labels.countdown
    templates.env.globals["labels"] = labels


def page(
    request: Request,
    templates: Jinja2Templates,
    person: Staff,
    template: str,
    context: dict[str, Any],
    status: int = 200,
) -> Response:
    return templates.TemplateResponse(
        request,
        template,
        {
            "person": person,
            "menu": MENU.get(person.user.role, []),
            "path": request.url.path,
            "now": datetime.now(UTC),
            **context,
        },
        status_code=status,
    )
