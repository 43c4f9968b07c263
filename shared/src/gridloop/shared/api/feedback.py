"""What feedback answers, as its OpenAPI document shows it and the app and console read it: field
for field what `handlers.verification_view` and `handlers.notification_view` return, so the JSON
clients see is what it was before it was described."""

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from gridloop.shared.clock import Instant
from gridloop.shared.events import Rating
from gridloop.shared.lifecycle import TicketStatus


class ReporterVerifies(BaseModel):
    kind: Literal["reporter"] = Field(description="上报的网格员本人核查 (the grid worker who reported it)")
    sub: str = Field(description="that grid worker")


class CommunityVerifies(BaseModel):
    kind: Literal["community"] = Field(description="社区网格员核查 (a street-registered report: its community)")
    community: str = Field(description="the community whose grid workers verify it")


Verifier = Annotated[ReporterVerifies | CommunityVerifies, Field(discriminator="kind")]


class Verification(BaseModel):
    """核查任务 (the check on site of a department's fix)."""

    status: Literal["pending", "passed", "failed", "expired"] = Field(
        description="pending 待核查, passed 通过, failed 未通过 (返工), expired 逾期自动结案"
    )
    since: Instant = Field(description="when the department resolved it")
    resolution_note: str = Field(description="处置说明 (the department's note)")
    resolution_photos: list[str] = Field(description="处置照片 attachment ids")
    verified_at: Instant | None = Field(default=None, description="核查时间; absent while pending")
    comment: str | None = Field(default=None, description="核查意见; absent unless the verifier gave a verdict")


class GivenRating(BaseModel):
    rating: Rating = Field(description="满意 satisfied, 基本满意 basically_satisfied, 不满意 unsatisfied")
    comment: str = Field(description="评价意见")
    at: Instant = Field(description="评价时间")


class VerificationView(BaseModel):
    """一个工单的核查与评价 (a ticket's verification and rating)."""

    ticket_id: str = Field(description="工单 id")
    ticket_number: str = Field(description="工单编号")
    status: TicketStatus = Field(description="工单状态")
    category_name: str = Field(description="问题类别")
    description: str = Field(description="问题描述")
    department: str | None = Field(description="处置部门 (the department that resolved it)")
    reworks: int = Field(description="返工次数 (failed checks so far)")
    verification: Verification | None = Field(description="核查任务")
    verifier: Verifier | None = Field(description="核查人 (who verifies it)")
    auto_closed: bool = Field(description="逾期未核查，系统自动结案")
    rating: GivenRating | None = Field(description="评价; null until rated")


class VerificationList(BaseModel):
    items: list[VerificationView] = Field(description="oldest resolution first")


class NotificationView(BaseModel):
    """通知: a step of a report the recipient filed."""

    ticket_id: str = Field(description="the ticket it is about")
    ticket_number: str = Field(description="工单编号")
    event_type: str = Field(description="the step, e.g. ticket.resolved")
    text: str = Field(description="通知内容 (in Chinese)")
    at: Instant = Field(description="when the step happened")
    read: bool = Field(description="已读")
    notification_id: str = Field(description="通知 id")


class NotificationList(BaseModel):
    items: list[NotificationView] = Field(description="newest first")
