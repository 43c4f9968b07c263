"""Rendering a console page: every page gets the person, their menu, the labels and the time on
the instance's clock (GRIDLOOP_CLOCK_START moves it, as it moves the services')."""

from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates

from gridloop.shared.clock import Clock
from gridloop.shared.events import Role
from gridloop.web import labels
from gridloop.web.sessions import Staff

HOME = {
    Role.STREET_DISPATCHER: "/console/desk",
    Role.DEPARTMENT_AGENT: "/console/inbox",
    Role.SUPERVISOR: "/console/command",
    Role.ADMIN: "/console/admin",
    Role.GRID_WORKER: "/app/",
    Role.COMMUNITY_WORKER: "/console/cobuild/needs",
    Role.UNIT_ADMIN: "/console/cobuild/wall",
    Role.RESIDENT: "/app/",
    Role.MEMBER: "/console/volunteer",
}
MENU = {
    Role.STREET_DISPATCHER: [
        ("/console/desk", "派遣队列"),
        ("/console/desk/hotline", "热线/来访登记"),
        ("/console/cobuild/projects", "共建项目"),
    ],
    Role.DEPARTMENT_AGENT: [
        ("/console/inbox", "部门工单"),
        ("/console/integrations", "系统对接"),
        ("/console/admission/requests", "准入申请"),
    ],
    Role.SUPERVISOR: [
        ("/console/command", "指挥中心"),
        ("/console/command/overdue", "超期与督办"),
        ("/console/admission/review", "准入审核"),
    ],
    Role.ADMIN: [("/console/admin", "目录管理"), ("/console/integrations", "系统对接")],
    Role.COMMUNITY_WORKER: [
        ("/console/cobuild/needs", "需求受理"),
        ("/console/cobuild/matches", "供需匹配"),
        ("/console/cobuild/projects", "惠民项目"),
        ("/console/cobuild/offers", "资源清单"),
        ("/console/cobuild/wall", "心愿墙"),
        ("/console/volunteer/desk", "报到管理"),
        ("/console/volunteer/activities/manage", "活动与纪实"),
        ("/console/volunteer/reviews", "年度评议"),
        ("/console/admission/community", "社区事务"),
        ("/console/volunteer/shop", "积分超市"),
    ],
    Role.UNIT_ADMIN: [
        ("/console/cobuild/wall", "心愿墙"),
        ("/console/cobuild/needs", "本单位认领"),
        ("/console/cobuild/offers", "本单位资源"),
        ("/console/cobuild/projects", "参与项目"),
        ("/console/volunteer/unit", "单位报到"),
        ("/console/volunteer/unit/members", "本单位党员"),
        ("/console/volunteer/activities/manage", "活动与纪实"),
        ("/console/volunteer/feedback", "反馈与评议"),
    ],
    Role.MEMBER: [
        ("/console/volunteer", "我的报到"),
        ("/console/volunteer/activities", "服务活动"),
        ("/console/volunteer/points", "我的积分"),
    ],
}


def install_filters(templates: Jinja2Templates, clock: Clock) -> None:
    def countdown(value: Any, now: datetime | None = None) -> dict[str, Any]:
        return labels.countdown(value, now or clock.now())

    templates.env.filters["local"] = labels.local
    templates.env.filters["percent"] = labels.percent
    templates.env.globals["countdown"] = countdown
    templates.env.globals["labels"] = labels


class ConsolePages:
    """The console's templates, rendered at the clock's now."""

    def __init__(self, templates: Jinja2Templates, clock: Clock) -> None:
        self.templates = templates
        self.clock = clock

    def render(
        self, request: Request, person: Staff, template: str, context: dict[str, Any], status: int = 200
    ) -> Response:
        return self.templates.TemplateResponse(
            request,
            template,
            {
                "person": person,
                "menu": MENU.get(person.user.role, []),
                "path": request.url.path,
                "now": self.clock.now(),
                **context,
            },
            status_code=status,
        )
