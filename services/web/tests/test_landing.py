"""Each demo user of the 共建 loop signs in as the directory's people and lands on their own page."""

import pytest
from fastapi.testclient import TestClient

from gridloop.shared.auth import TokenVerifier
from gridloop.shared.events import Role
from gridloop.shared.settings import ServiceSettings
from gridloop.stack.servers import Servers
from gridloop.web.app import create_app
from gridloop.web.settings import WebSettings

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("sub", "label", "role", "org", "landing"),
    [
        ("cw-lj01", "社区工作者 · 江畔社区 LJ01", Role.COMMUNITY_WORKER, "LJ01", "/console/cobuild/needs"),
        ("cw-wh01", "社区工作者 · 湖滨社区 WH01", Role.COMMUNITY_WORKER, "WH01", "/console/cobuild/needs"),
        ("ua-hosp", "驻区单位联络员 · 区人民医院 U-LJ-HOSP", Role.UNIT_ADMIN, "U-LJ-HOSP", "/console/cobuild/wall"),
        ("ua-school", "驻区单位联络员 · 临江中学 U-LJ-SCHOOL", Role.UNIT_ADMIN, "U-LJ-SCHOOL", "/console/cobuild/wall"),
        ("res-lj01", "居民 · 江畔社区 LJ01", Role.RESIDENT, "LJ01", "/app/"),
        ("res-lj01b", "居民 · 江畔社区 LJ01", Role.RESIDENT, "LJ01", "/app/"),
    ],
)
def test_a_cobuild_demo_user_signs_in_and_lands_on_their_page(
    servers: Servers, sub: str, label: str, role: Role, org: str, landing: str
) -> None:
    settings = WebSettings(
        environment="development", mongo_uri=servers.mongo_uri, kafka_bootstrap=servers.kafka_bootstrap
    )
    with TestClient(create_app(settings)) as client:
        assert label in client.get("/signin").text
        client.post("/signin/dev", data={"sub": sub})
        assert client.get("/console/", follow_redirects=False).headers["location"] == landing
        who = TokenVerifier(ServiceSettings()).verify(client.get("/session").json()["token"])
        assert (who.sub, who.role, who.org) == (sub, role, org)
