"""Composition root of the cobuild service (共建): the 三单制 loop (needs, offers, projects) and 双报到
(reports, posts, activities and service records, points, 评议, the 社区事务准入 gate)."""

from typing import Self

from fastapi import FastAPI
from pydantic import Field, model_validator

from gridloop.cobuild import consumers, jobs, store
from gridloop.cobuild.activities.api import router as activities_router  # 服务活动 (issue 37)
from gridloop.cobuild.activities.settings import ActivitySettings  # 服务活动 (issue 37)
from gridloop.cobuild.admission.api import router as admission_router
from gridloop.cobuild.members.api import router as members_router
from gridloop.cobuild.needs.api import router as needs_router
from gridloop.cobuild.offers.api import router as offers_router
from gridloop.cobuild.points.api import router as points_router
from gridloop.cobuild.projects.api import router as projects_router
from gridloop.cobuild.reviews.api import router as reviews_router
from gridloop.shared.events import NEEDS_TOPIC, VOLUNTEERING_TOPIC
from gridloop.shared.service import Periodic, Runtime, ServiceSpec, create_service_app
from gridloop.shared.settings import CalendarSettings, PhotoSettings

DEV_ID_SALT = "gridloop-development-id-salt-not-for-production"


class CobuildSettings(PhotoSettings, CalendarSettings, ActivitySettings):
    """A delivery's evidence names photos sealed by intake (GRIDLOOP_PHOTO_KEY, as handling's)."""

    service_name: str = "cobuild"
    port: int = 8007
    watchdog_interval_seconds: float = 10.0
    # 热点难点: a grid and category where the same problem returns becomes a project idea
    hotspot_interval_seconds: float = 60.0
    hotspot_window_days: int = Field(default=90, ge=1)
    hotspot_closed_tickets: int = Field(default=5, ge=1)
    hotspot_reworks: int = Field(default=2, ge=1)
    hotspot_send_backs: int = Field(default=3, ge=1)
    hotspot_quiet_days: int = Field(default=90, ge=1)  # no recurrence this long after a project: solved
    converted_need_category: str = "NC-REPAIR"  # a ticket taken as a need lands in this need category
    # ---- 双报到 (members area) ----
    id_salt: str = Field(
        default=DEV_ID_SALT, min_length=16
    )  # GRIDLOOP_ID_SALT: HMAC key of identity numbers; set per deployment
    return_interval_days: int = Field(default=183, ge=1)  # a member returns to the community within this window
    min_services_per_year: int = Field(default=2, ge=0)  # yearly minimum: approved services
    min_minutes_per_year: int = Field(default=480, ge=0)  # yearly minimum: approved minutes (8 hours)
    require_post: bool = True  # every active member holds a post (门头沟): the last one cannot be released
    member_lapse_interval_seconds: float = 60.0  # how often the lapse job looks

    # ---- points (积分) ----
    points_per_hour: int = Field(default=1, ge=0)  # approved minutes pay floor(minutes x this / 60)
    points_post_duty: int = Field(default=1, ge=0)  # an approved record of an activity serving a post (岗位)
    points_wish: int = Field(default=2, ge=0)  # a 微心愿 a member claimed is done
    points_report_verified: int = Field(default=1, ge=0)  # a member's report closed as a verified ticket
    points_valid_months: int = Field(default=24, ge=1)  # unspent points older than this expire (FIFO)
    points_expiry_interval_seconds: float = 300.0  # how often the expiry job looks

    @model_validator(mode="after")
    def _refuse_development_id_salt(self) -> Self:
        if self.id_salt == DEV_ID_SALT and self.environment != "development":
            raise ValueError("set GRIDLOOP_ID_SALT to a secret of your own outside development")
        return self


async def _setup(runtime: Runtime) -> None:
    await store.ensure_indexes(runtime.database.db)


async def _ready(runtime: Runtime) -> bool:
    """Ready once the directory's snapshot is in: grids, units and need categories decide every action."""
    return await runtime.refdata.loaded()


def create_app(settings: CobuildSettings | None = None) -> FastAPI:
    settings = settings or CobuildSettings()
    return create_service_app(
        settings,
        ServiceSpec(
            title="GridLoop cobuild 共建",
            routers=[
                needs_router,
                offers_router,
                projects_router,
                activities_router,
                reviews_router,
                admission_router,  # 社区事务准入
                points_router,  # 积分
                members_router,  # 双报到 and 公益岗位
            ],
            ticket_routes=lambda rt: consumers.routing(rt),
            uses_directory=True,
            # its areas follow each other's events (points follow records and needs done)
            follows_own_topics=frozenset({NEEDS_TOPIC, VOLUNTEERING_TOPIC}),
            setup=_setup,
            ready=_ready,
            periodic=[
                Periodic("need-watchdog", settings.watchdog_interval_seconds, jobs.watch_needs),
                Periodic("hotspots", settings.hotspot_interval_seconds, jobs.watch_hotspots),
                Periodic("points-expiry", settings.points_expiry_interval_seconds, jobs.expire_points),
                Periodic("member-lapse", settings.member_lapse_interval_seconds, jobs.watch_members),
            ],
        ),
    )
