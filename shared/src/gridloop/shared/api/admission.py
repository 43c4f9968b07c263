"""社区事务准入 (community task admission) as cobuild's clients see it: a department's request to put
a task on communities, the district's decision, a community's inbox of admitted tasks, its flags of
tasks that came without admission, and the certificates a community may issue."""

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gridloop.shared.events import AdmissionTaskType
from gridloop.shared.limits import TEXT_MIN
from gridloop.shared.volunteering_lifecycle import AdmissionStatus

ListName = Literal["duty", "assist", "certificate", "negative"]
DecidedBy = Literal["list", "negative_list", "district"]

TASK_TYPE_LABELS: dict[AdmissionTaskType, str] = {
    AdmissionTaskType.SIGN: "挂牌",
    AdmissionTaskType.FORM: "台账报表",
    AdmissionTaskType.SURVEY: "调查统计",
    AdmissionTaskType.INSPECTION: "专项检查",
    AdmissionTaskType.APPRAISAL: "考核评比",
    AdmissionTaskType.CERTIFICATE: "证明事项",
    AdmissionTaskType.TASK: "工作任务",
}
LIST_LABELS: dict[str, str] = {
    "duty": "依法履职事项",
    "assist": "协助政府事项",
    "certificate": "可出具证明事项",
    "negative": "负面清单",
}
STATUS_LABELS: dict[AdmissionStatus, str] = {
    AdmissionStatus.SUBMITTED: "待审核",
    AdmissionStatus.ADMITTED: "已准入",
    AdmissionStatus.REFUSED: "不予准入",
    AdmissionStatus.REVOKED: "已撤销",
}


class AdmissionRequestBody(BaseModel):
    """A department asks to put a task on communities: name them, or a street for all of its own."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    task_type: AdmissionTaskType = Field(description="事项类型")
    title: str = Field(min_length=TEXT_MIN, max_length=100, description="事项名称")
    description: str = Field(default="", max_length=2000, description="事项内容")
    community_codes: list[str] = Field(default=[], max_length=200, description="承接社区")
    street_code: str | None = Field(default=None, max_length=32, description="或: 该街道的全部社区")
    starts_on: date = Field(description="开始日期 (the city's day)")
    ends_on: date | None = Field(default=None, description="结束日期")
    resources_provided: str = Field(default="", max_length=500, description="随事下沉的经费、人员等 (费随事转)")
    list_item_code: str | None = Field(default=None, max_length=64, description="对应的准入清单事项编码")
    emergency: bool = Field(default=False, description="紧急事项 (公共安全、卫生、灾害): 不受提前30个工作日限制")
    emergency_reason: str = Field(default="", max_length=500, description="紧急事由")

    @model_validator(mode="after")
    def _where_and_when(self) -> "AdmissionRequestBody":
        if not self.community_codes and not self.street_code:
            raise ValueError("name the communities or a street (请选择承接社区或街道)")
        if self.ends_on is not None and self.ends_on < self.starts_on:
            raise ValueError("ends_on is before starts_on (结束日期早于开始日期)")
        return self


class DecisionBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    admitted: bool = Field(description="准入 (true) 或不予准入 (false)")
    reason: str = Field(default="", max_length=500, description="理由 (不予准入时必填)")

    @model_validator(mode="after")
    def _refusal_says_why(self) -> "DecisionBody":
        if not self.admitted and len(self.reason) < TEXT_MIN:
            raise ValueError("a refusal needs a reason (不予准入须说明理由)")
        return self


class RevokeBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reason: str = Field(min_length=TEXT_MIN, max_length=500, description="撤销理由")


class ListItem(BaseModel):
    code: str
    list: ListName
    list_label: str
    name: str
    task_type: AdmissionTaskType | None = None
    department_code: str | None = None
    issuer: str = ""
    refusal: str = ""
    version: str
    valid_from: date


class AdmissionRequestView(BaseModel):
    id: str
    number: str
    department_code: str
    department_name: str
    district_code: str
    task_type: AdmissionTaskType
    task_type_label: str
    title: str
    description: str
    community_codes: list[str]
    starts_on: date
    ends_on: date | None
    resources_provided: str
    emergency: bool
    emergency_reason: str
    status: AdmissionStatus
    status_label: str
    decided_by: DecidedBy | None = None
    list_item: ListItem | None = None
    reason: str = ""
    submitted_at: datetime
    decision_due: datetime = Field(description="审核时限: 15 working days from submission")
    overdue: bool = Field(description="still undecided after its decision was due")
    decided_at: datetime | None = None
    revoked_at: datetime | None = None
    allowed_actions: list[Literal["admit", "refuse", "revoke"]] = []


class AdmissionRequestPage(BaseModel):
    items: list[AdmissionRequestView]
    next_cursor: str | None = None


class InboxTask(BaseModel):
    """An admitted task as the community sees it."""

    request_id: str
    number: str
    department_code: str
    department_name: str
    task_type: AdmissionTaskType
    task_type_label: str
    title: str
    description: str
    starts_on: date
    ends_on: date | None
    resources_provided: str
    emergency: bool
    decided_by: DecidedBy | None
    list_item_name: str = ""
    current: bool = Field(description="under way today (false: upcoming)")


class Inbox(BaseModel):
    community_code: str
    items: list[InboxTask]


class FlagBody(BaseModel):
    """A task that reached the community without admission (未准入事项)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    department_code: str = Field(min_length=1, max_length=32, description="下派部门")
    task_type: AdmissionTaskType
    title: str = Field(min_length=TEXT_MIN, max_length=100, description="事项名称")
    received_on: date = Field(description="收到日期")
    note: str = Field(default="", max_length=500, description="说明 (通过何种渠道下派等)")


class FlagView(BaseModel):
    id: str
    community_code: str
    department_code: str
    department_name: str
    task_type: AdmissionTaskType
    task_type_label: str
    title: str
    received_on: date
    note: str
    flagged_at: datetime


class FlagList(BaseModel):
    items: list[FlagView]


class CertificateList(BaseModel):
    """What the community may certify (可出具证明事项), as the list in force today."""

    community_code: str
    district_code: str
    version: str | None
    items: list[ListItem]
    negative: list[ListItem] = Field(description="负面清单上的证明: who issues them instead")


class CertificateRequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    community_code: str = Field(min_length=1, max_length=32)
    certificate: str = Field(min_length=TEXT_MIN, max_length=100, description="证明名称或清单编码")


class CertificateAccepted(BaseModel):
    accepted: Literal[True] = True
    community_code: str
    item: ListItem
