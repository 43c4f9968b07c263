"""`make demo`, second part: one round of the 共建 loop (三单制) through a running `make run`.

Residents, grid workers' visits (走访), the street's hotline and the community's paper wish wall
collect about twenty needs in 江畔 (LJ01), 码头 (LJ02) and 湖滨 (WH01); the units stationed in the
area offer eight resources, which the communities accept; the communities review, publish, assign,
reject, merge and convert needs, units claim and deliver them, and the matching suggestions are
printed with their reasons. Five projects stand at different stages (evaluated, in progress with a
milestone, approved, proposed, and one made of a hotspot). Conversion goes both ways: a need that
is a department's job becomes a ticket, and a ticket that is a household's need, cancelled by the
street desk, becomes a need. Five 路灯 tickets closed in one grid make a hotspot: cobuild's hotspot
pass raises a project idea and the community makes it a project.

Every person and phone number below is fictional. A second run files new needs, offers and
tickets beside the first run's and ends the same way."""

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from gridloop.shared.events import Role
from gridloop.stack import demo_volunteering
from gridloop.stack.client import ApiUser

HOT_GRID, HOT_CATEGORY = "LJ01-G4", "BJ-0201"  # 江畔社区第4网格, 路灯
HOT_POINTS = [(120.1132, 30.2121), (120.1145, 30.2138), (120.1161, 30.2152), (120.1174, 30.2169), (120.1188, 30.2183)]
HOT_TEXTS = [
    "江畔路4号楼前路灯夜间不亮",
    "江畔路与滨江巷交叉口路灯闪烁",
    "小区北门外两盏路灯不亮",
    "江畔路6号楼旁路灯灯罩脱落不亮",
    "滨江巷中段路灯整晚不亮，居民夜归不便",
]
HOTSPOT_WAIT_SECONDS = 180.0  # the pass runs every GRIDLOOP_HOTSPOT_INTERVAL_SECONDS (`make run`: 10 s)


def _wait(probe: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := probe():
            return value
        time.sleep(0.3)
    raise SystemExit(f"gave up waiting for {what}: is `make run` running?")


def _person(ben: tuple[str, str, str] | None) -> dict[str, str] | None:
    return None if ben is None else {"name": ben[0], "phone": ben[1], "address": ben[2]}


# Who collects each need: (submitter key, kind, need category, grid, the household's words,
# beneficiary (name, phone, address) or None, the public summary the community writes).
NEEDS: dict[str, tuple[str, str, str, str, str, tuple[str, str, str] | None, str]] = {
    "groceries": (
        "res-lj01", "wish", "NC-ELDER", "LJ01-G2", "我腿脚不便，上下楼困难，想请人每周帮忙买一次菜送上楼。",
        None, "独居老人希望每周有人代购蔬菜并送上楼",
    ),
    "blood-pressure": (
        "res-lj01b", "service", "NC-HEALTH", "LJ01-G1", "我高血压十几年了，去医院不方便，想有医生定期上门量血压。",
        None, "高血压老人希望医生定期上门测量血压",
    ),
    "blood-sugar": (
        "gw-lj01", "service", "NC-HEALTH", "LJ01-G3", "走访发现赵桂兰老人患糖尿病，行动不便，需要定期上门测血糖。",
        ("赵桂兰", "139-0000-0103", "江畔社区3网格桂花苑5幢201室"), "行动不便的糖尿病老人需要定期上门测血糖",
    ),
    "bp-again": (
        "gw-lj01", "service", "NC-HEALTH", "LJ01-G1", "走访时李大爷又说起血压高，希望医生能上门。",
        ("李大爷", "139-0000-0102", "江畔社区1网格江畔新村2幢302室"), "老人希望医生上门测血压",
    ),
    "tutoring": (
        "cw-lj01", "wish", "NC-CHILD", "LJ01-G3", "心愿墙纸条：我是初二学生小宇，爸妈在外地打工，数学跟不上。",
        ("小宇", "139-0000-0104", "江畔社区3网格桂花苑2幢101室"), "留守初二学生希望有老师辅导数学",
    ),
    "books": (
        "cw-lj01", "wish", "NC-CHILD", "LJ01-G4", "心愿墙纸条：我叫朵朵，今年三年级，想要一套课外读物和一个新书包。",
        ("朵朵", "139-0000-0105", "江畔社区4网格滨江巷12号"), "三年级留守儿童想要一套课外读物和新书包",
    ),
    "garden": (
        "gw-lj01", "project_idea", "NC-ENV", "LJ01-G4", "走访中居民反映中心花坛荒废多年，建议改造成小游园。",
        None, "居民建议将荒废的中心花坛改造为口袋公园",
    ),
    "inheritance": (
        "res-lj01", "service", "NC-LEGAL", "LJ01-G2", "想咨询老房子继承过户要办哪些手续。",
        None, "居民咨询房屋继承过户手续",
    ),
    "street-light": (
        "res-lj01b", "service", "NC-REPAIR", "LJ01-G1", "江畔新村门口的路灯坏了好几天了，晚上出门看不清路。",
        None, "江畔新村门口路灯损坏",
    ),
    "sound-system": (
        "cw-lj01", "wish", "NC-CULTURE", "LJ01-G1", "心愿墙纸条：社区舞蹈队的音响坏了，想要一套新音响。",
        ("舞蹈队 刘阿姨", "139-0000-0106", "江畔社区活动中心"), "社区舞蹈队希望添置一套音响",
    ),
    "fridge": (
        "sd-lj", "service", "NC-REPAIR", "LJ02-G1", "市民来电：家中老式冰箱不制冷，独居老人无力请人维修。",
        ("孙建国", "139-0000-0201", "码头社区1网格码头新村8幢405室"), "独居老人家中冰箱不制冷需要维修",
    ),
    "lunch": (
        "res-lj02", "wish", "NC-ELDER", "LJ02-G2", "老伴住院了，我要陪护，想找人中午帮忙送一顿饭到医院。",
        None, "老人陪护住院老伴，希望有人每天中午送餐",
    ),
    "wiring": (
        "gw-lj02", "service", "NC-REPAIR", "LJ02-G3", "走访发现钱阿婆家电线老化，插座经常跳闸，有安全隐患。",
        ("钱阿婆", "139-0000-0202", "码头社区3网格老街17号"), "老人家中电线老化、插座跳闸，存在安全隐患",
    ),
    "festival": (
        "cw-lj02", "project_idea", "NC-CULTURE", "LJ02-G1", "码头老街的居民想办一场邻里节，拉近街坊邻居的距离。",
        None, "居民建议在码头老街举办邻里节",
    ),
    "job": (
        "sd-lj", "wish", "NC-JOB", "LJ02-G2", "市民来电：失业半年，希望获得技能培训和就业信息。",
        ("周强", "139-0000-0203", "码头社区2网格渔港路9号"), "失业居民希望获得技能培训和就业信息",
    ),
    "tax": (
        "res-wh01", "service", "NC-LEGAL", "WH01-G2", "刚开了一家小卖部，不懂怎么报税，怕出错。",
        None, "个体小店店主咨询如何申报纳税",
    ),
    "computer": (
        "gw-wh01", "wish", "NC-CHILD", "WH01-G3", "走访发现困难家庭学生小航没有电脑，上网课只能用妈妈的旧手机。",
        ("小航", "139-0000-0301", "湖滨社区3网格荷风苑9幢102室"), "困难家庭学生希望有一台电脑上网课",
    ),
    "smartphone": (
        "cw-wh01", "service", "NC-ELDER", "WH01-G1", "心愿墙纸条：吴奶奶想学用智能手机和外地的孙子视频通话。",
        ("吴奶奶", "139-0000-0302", "湖滨社区1网格湖滨花园3幢501室"), "老人想学用智能手机视频通话",
    ),
    "greenbelt": (
        "sd-wh", "service", "NC-ENV", "WH01-G4", "市民来电：楼下绿化带有人种菜、堆杂物，希望整治美化。",
        ("来电市民 郑先生", "139-0000-0303", "湖滨社区4网格湖滨路88号"), "楼下绿化带被占用种菜堆物，希望整治美化",
    ),
    "calligraphy": (
        "res-wh01", "wish", "NC-CULTURE", "WH01-G2", "退休了想学书法，社区能不能开个书法班？",
        None, "退休居民希望社区开设书法班",
    ),
}  # fmt: skip

# What each unit offers (资源清单): (unit admin, kind, title, description, categories, capacity, communities).
OFFERS: dict[str, tuple[str, str, str, str, list[str], int, list[str]]] = {
    "clinic": ("ua-hosp", "service", "医护志愿者上门义诊", "每周二下午，内科医生和护士入户测量血压血糖",
               ["NC-HEALTH", "NC-ELDER"], 20, ["LJ01", "LJ02"]),
    "family-doctor": ("ua-hosp", "people", "家庭医生签约服务", "为慢病老人签约家庭医生，每月随访一次",
                      ["NC-HEALTH"], 10, ["LJ02"]),
    "teachers": ("ua-school", "people", "青年教师周末课业辅导", "周六上午，初中各科教师志愿辅导",
                 ["NC-CHILD"], 8, ["LJ01"]),
    "gym": ("ua-school", "venue", "体育馆周末向居民开放", "周末9:00-17:00，可承接社区文体活动",
            ["NC-CULTURE"], 50, ["LJ01"]),
    "repairs": ("ua-power", "service", "电力义检与家电义修", "供电所党员服务队入户检查线路、维修小家电",
                ["NC-REPAIR", "NC-ELDER"], 30, ["LJ02"]),
    "fund": ("ua-bank", "funds", "社区微心愿基金", "支行工会每年出资2万元，用于实现居民微心愿",
             ["NC-ELDER", "NC-CHILD", "NC-ENV"], 20, ["LJ01"]),
    "tax-desk": ("ua-tax", "service", "税务专家进社区", "每月第一个周三，税务干部在社区答疑",
                 ["NC-LEGAL", "NC-JOB"], 12, ["WH01", "WH02"]),
    "computers": ("ua-tax", "goods", "办公电脑捐赠", "更新换代下来的办公电脑10台，已清除数据",
                  ["NC-CHILD"], 10, ["WH01"]),
}  # fmt: skip


class Round:
    """One round of the 共建 loop, spoken by each person in turn."""

    def __init__(self, urls: dict[str, str], agents: dict[str, ApiUser]) -> None:
        self.urls = urls
        self.agents = agents
        self.people: dict[str, ApiUser] = {}
        for sub, role, org in [
            ("cw-lj01", Role.COMMUNITY_WORKER, "LJ01"),
            ("cw-lj02", Role.COMMUNITY_WORKER, "LJ02"),
            ("cw-wh01", Role.COMMUNITY_WORKER, "WH01"),
            ("res-lj01", Role.RESIDENT, "LJ01"),
            ("res-lj01b", Role.RESIDENT, "LJ01"),
            ("res-lj02", Role.RESIDENT, "LJ02"),
            ("res-wh01", Role.RESIDENT, "WH01"),
            ("gw-lj01", Role.GRID_WORKER, "LJ01"),
            ("gw-lj02", Role.GRID_WORKER, "LJ02"),
            ("gw-wh01", Role.GRID_WORKER, "WH01"),
            ("sd-lj", Role.STREET_DISPATCHER, "LJ"),
            ("sd-wh", Role.STREET_DISPATCHER, "WH"),
            ("ua-hosp", Role.UNIT_ADMIN, "U-LJ-HOSP"),
            ("ua-school", Role.UNIT_ADMIN, "U-LJ-SCHOOL"),
            ("ua-power", Role.UNIT_ADMIN, "U-LJ-POWER"),
            ("ua-bank", Role.UNIT_ADMIN, "U-LJ-BANK"),
            ("ua-tax", Role.UNIT_ADMIN, "U-WH-TAX"),
        ]:
            self.people[sub] = ApiUser(urls=urls, sub=sub, role=role, org=org)
        self.needs: dict[str, dict[str, Any]] = {}
        self.offers: dict[str, dict[str, Any]] = {}

    def cw(self, community: str) -> ApiUser:
        return self.people[f"cw-{community.lower()}"]

    def need(self, key: str, action: str, by: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        need: dict[str, Any] = self.people[by].ok(
            "cobuild", "POST", f"/v1/cobuild/needs/{self.needs[key]['id']}/{action}", json=body or {}
        )
        self.needs[key] = need
        return need

    def project(self, project: dict[str, Any], action: str, by: str, body: dict[str, Any] | None = None) -> Any:
        return self.people[by].ok("cobuild", "POST", f"/v1/cobuild/projects/{project['id']}/{action}", json=body or {})

    # ---- the round ----------------------------------------------------------------------------------

    def run(self) -> None:
        print("\n共建 round (三单制): needs, resources, projects")
        self.collect()
        self.offer()
        self.review()
        self.serve()
        self.match()
        self.make_projects()
        self.convert_need_to_ticket()
        self.convert_ticket_to_need()
        self.hotspot()
        self.summary()

    def collect(self) -> None:
        print(f"Collecting {len(NEEDS)} needs (居民需求清单) from residents, visits, the hotline and the wish wall ...")
        for key, (by, kind, category, grid, text, ben, _) in NEEDS.items():
            body: dict[str, Any] = {"kind": kind, "category_code": category, "description": text, "grid_code": grid}
            if ben is not None:
                body["beneficiary"] = _person(ben)
            need = self.people[by].ok("cobuild", "POST", "/v1/cobuild/needs", json=body)
            self.needs[key] = need
            print(f"  {need['need_number']}  {need['source']:<9} {kind:<12} {category:<10} {grid}")

    def offer(self) -> None:
        print(f"Units offer {len(OFFERS)} resources (社区资源清单); the communities accept them ...")
        now = datetime.now(UTC)
        for key, (by, kind, title, text, categories, capacity, communities) in OFFERS.items():
            offer = self.people[by].ok(
                "cobuild",
                "POST",
                "/v1/cobuild/offers",
                json={
                    "kind": kind,
                    "title": title,
                    "description": text,
                    "category_codes": categories,
                    "capacity": capacity,
                    "community_codes": communities,
                    "available_from": (now - timedelta(hours=1)).isoformat(),
                    "available_until": (now + timedelta(days=180)).isoformat(),
                },
            )
            if key != "computers":  # left waiting for 湖滨社区's answer
                for community in communities:
                    if community in ("LJ01", "LJ02", "WH01"):
                        offer = self.cw(community).ok(
                            "cobuild", "POST", f"/v1/cobuild/offers/{offer['id']}/accept", json={}
                        )
            self.offers[key] = offer
            number, unit, label = offer["offer_number"], offer["unit_name"], offer["kind_label"]
            print(f"  {number}  {unit:<10} {label} {title} -> {offer['status']}")

    def review(self) -> None:
        print("Communities review (审核) with a public summary; publish (发布) to the wish wall or assign (派单) ...")
        for key, (_, _, _, grid, _, _, summary) in NEEDS.items():
            if key == "smartphone":
                continue  # waits for 湖滨社区's review
            self.need(key, "review", f"cw-{grid[:4].lower()}", {"summary": summary})
        for key in ("groceries", "tutoring", "books", "inheritance", "lunch", "job", "tax", "computer"):
            self.need(key, "publish", f"cw-{NEEDS[key][3][:4].lower()}")
        self.need("fridge", "assign", "cw-lj02", {"unit_code": "U-LJ-POWER"})
        self.need("fridge", "accept-assignment", "ua-power")
        print(f"  {self.needs['fridge']['need_number']}  派单 to 国网临江供电所, accepted (接单)")
        self.need("sound-system", "reject", "cw-lj01", {"reason": "已由社区文化活动经费解决，无需认领"})
        print(f"  {self.needs['sound-system']['need_number']}  rejected (不予受理): 已由社区文化活动经费解决")
        self.need("bp-again", "merge", "cw-lj01", {"into": self.needs["blood-pressure"]["id"]})
        merged, into = self.needs["bp-again"]["need_number"], self.needs["blood-pressure"]["need_number"]
        print(f"  {merged}  merged (合并) into {into}")
        self.need("greenbelt", "withdraw", "sd-wh", {"reason": "来电人表示已与邻居协商解决"})
        print(f"  {self.needs['greenbelt']['need_number']}  withdrawn (撤回) by the hotline: 来电人已与邻居协商解决")

    def serve(self) -> None:
        wall = self.people["ua-hosp"].ok("cobuild", "GET", "/v1/cobuild/wall")["items"]
        print(f"Units read the wish wall (心愿墙) and claim (认领); 区人民医院 sees {len(wall)} open wishes, e.g.:")
        for item in wall[:3]:
            print(f"  {item['need_number']}  {item['category_name']}  {item['summary']}")
        for key, unit, rating, by in [
            ("groceries", "ua-bank", "satisfied", "res-lj01"),
            ("tax", "ua-tax", "satisfied", "cw-wh01"),
        ]:
            self.need(key, "claim", unit, {"group": False})
            self.need(key, "contact", unit, {"note": "已电话联系服务对象，约定上门时间"})
            self.need(key, "deliver", unit, {"note": "已按约定完成服务"})
            self.need(key, "confirm", by)
            self.need(key, "rate", by, {"rating": rating, "comment": "服务很贴心"})
            print(
                f"  {self.needs[key]['need_number']}  claimed, contacted, delivered (兑现), confirmed, rated {rating}"
            )
        self.need("tutoring", "claim", "ua-school", {"group": False})
        self.need("tutoring", "contact", "ua-school", {"note": "已与小宇家长联系，每周六上午辅导"})
        print(f"  {self.needs['tutoring']['need_number']}  临江中学 claimed and contacted the family: in service")
        self.need("lunch", "claim", "ua-hosp", {"group": True})
        print(f"  {self.needs['lunch']['need_number']}  区人民医院 claims with a group (联合认领), others may join")

    def match(self) -> None:
        for community in ("LJ01", "WH01"):
            found = self.cw(community).ok("cobuild", "GET", "/v1/cobuild/matches")
            print(
                f"Matching suggestions (智能匹配) for {community}: {len(found['matches'])} pairs, "
                f"{len(found['unmatched'])} unmatched"
            )
            for pair in found["matches"][:3]:
                print(
                    f"  {pair['need_number']} <-> {pair['offer_title']} ({pair['score']}): {'，'.join(pair['reasons'])}"
                )
            for need in found["unmatched"][:2]:
                print(f"  {need['need_number']} unmatched: {need['reason']}")

    def propose(self, community: str, title: str, summary: str, category: str, grid: str, **more: Any) -> Any:
        planned = (datetime.now(UTC) + timedelta(days=60)).isoformat()
        body = {
            "title": title,
            "summary": summary,
            "category_code": category,
            "grid_code": grid,
            "planned_end": planned,
        }
        return self.cw(community).ok("cobuild", "POST", "/v1/cobuild/projects", json={**body, **more})

    def make_projects(self) -> None:
        print("Communities make projects (惠民项目清单) of needs and offers ...")
        ids = {k: n["id"] for k, n in self.needs.items()}
        health = self.propose(
            "LJ01", "慢病老人健康义诊进楼道", "医护志愿者每周入户，为慢病老人测量血压血糖、建立健康档案。",
            "NC-HEALTH", "LJ01-G1", need_ids=[ids["blood-pressure"], ids["blood-sugar"]],
            offer_ids=[self.offers["clinic"]["id"]],
        )  # fmt: skip
        self.project(health, "approve", "sd-lj", {"comment": "同意立项"})
        self.project(health, "start", "cw-lj01")
        self.project(health, "progress", "cw-lj01", {"percent": 50, "milestone": "完成首轮入户测量（32户）"})
        report = {"report": "共入户96次，建立慢病档案32份，发现并转诊高危3人。", "beneficiaries": 96}
        self.project(health, "complete", "cw-lj01", report)
        self.project(health, "rate", "res-lj01b", {"rating": "satisfied", "comment": "医生上门，方便多了"})
        self.project(health, "rate", "cw-lj01", {"rating": "basically_satisfied", "comment": "居民座谈会代录"})
        health = self.project(health, "evaluate", "sd-lj", {"grade": "excellent", "comment": "覆盖面广，群众认可"})
        grade = health["evaluation"]["grade_label"]
        print(f"  {health['project_number']}  {health['title']}: completed, rated, evaluated {grade}")
        wiring = self.propose(
            "LJ02", "老旧住宅电力安全义检", "供电所党员服务队对码头社区老旧住宅逐户检查线路，更换老化插座。",
            "NC-REPAIR", "LJ02-G3", need_ids=[ids["wiring"]], offer_ids=[self.offers["repairs"]["id"]],
            offer_amounts={self.offers["repairs"]["id"]: 5},
        )  # fmt: skip
        self.project(wiring, "approve", "sd-lj")
        self.project(wiring, "start", "ua-power")
        wiring = self.project(wiring, "progress", "ua-power", {"percent": 40, "milestone": "已完成3栋楼入户检测"})
        milestone = wiring["milestones"][-1]["milestone"]
        print(f"  {wiring['project_number']}  {wiring['title']}: in progress, {wiring['percent']}% ({milestone})")
        festival = self.propose(
            "LJ02", "码头老街邻里节", "在码头老街举办邻里节：百家宴、义诊、家电义修摊位，拉近街坊邻里。",
            "NC-CULTURE", "LJ02-G1", need_ids=[ids["festival"]], unit_codes=["U-LJ-HOSP", "U-LJ-POWER"],
        )  # fmt: skip
        festival = self.project(festival, "approve", "sd-lj", {"comment": "注意活动安全"})
        print(f"  {festival['project_number']}  {festival['title']}: approved by the street")
        garden = self.propose(
            "LJ01", "中心花坛改造口袋公园", "将荒废的中心花坛改造为有座椅、步道和花境的口袋公园。",
            "NC-ENV", "LJ01-G4", need_ids=[ids["garden"]], offer_ids=[self.offers["fund"]["id"]],
        )  # fmt: skip
        print(f"  {garden['project_number']}  {garden['title']}: proposed, waiting for the street")

    def convert_need_to_ticket(self) -> None:
        need = self.need(
            "street-light",
            "convert",
            "cw-lj01",
            {
                "ticket_category_code": "BJ-0201",
                "description": "江畔新村门口路灯损坏多日，夜间无照明",
                "address": "江畔新村南门",
            },
        )
        print(f"Need → ticket (转办): {need['need_number']} is a department's job, filed as a report ...")

        def linked() -> str | None:
            got = self.cw("LJ01").ok("cobuild", "GET", f"/v1/cobuild/needs/{need['id']}")
            return str(got["ticket_number"] or "") or None

        number = _wait(linked, "the converted need's ticket")
        print(f"  {need['need_number']}  -> ticket {number}: the need follows the ticket and takes its rating")

    def convert_ticket_to_need(self) -> None:
        worker = self.people["gw-lj02"]
        report = worker.ok(
            "intake",
            "POST",
            "/v1/reports",
            json={
                "category_code": "SJ-0601",
                "description": "老街17号钱奶奶家厨房水管老化漏水，老人独居无力维修",
                "location": {"lon": 120.1052, "lat": 30.2251},
            },
            headers={"Idempotency-Key": f"cobuild-demo-{time.time_ns()}"},
        )
        print(f"Ticket → need: {report['ticket_number']} is a household's repair, not a street problem ...")
        desk = self.people["sd-lj"]
        body = {"reason": "converted_to_need", "comment": "属居民家庭维修需求，转社区共建"}

        def cancelled() -> bool:
            answer = desk.call("dispatch", "POST", f"/v1/dispatch/tickets/{report['ticket_id']}/cancel", json=body)
            return answer.status_code < 300

        _wait(cancelled, "dispatch to take the report")

        def need_of_ticket() -> dict[str, Any] | None:
            items = self.cw("LJ02").ok("cobuild", "GET", "/v1/cobuild/needs", params={"status": "submitted"})["items"]
            return next((n for n in items if n["origin_ticket_id"] == report["ticket_id"]), None)

        need = _wait(need_of_ticket, "the need made of the cancelled ticket")
        self.needs["from-ticket"] = need
        self.need("from-ticket", "review", "cw-lj02", {"summary": "独居老人家中水管老化漏水，需要上门维修"})
        self.need("from-ticket", "publish", "cw-lj02")
        self.need("from-ticket", "claim", "ua-power", {"group": False})
        print(
            f"  {report['ticket_number']}  cancelled by the street desk as 转为居民需求 -> need {need['need_number']} "
            f"(source {need['source']}), reviewed, published, claimed by 国网临江供电所"
        )

    # ---- hotspot → project --------------------------------------------------------------------------

    def _hot_ideas(self) -> list[dict[str, Any]]:
        params = {"kind": "project_idea", "grid": HOT_GRID, "limit": 200}
        items = self.cw("LJ01").ok("cobuild", "GET", "/v1/cobuild/needs", params=params)["items"]
        return [n for n in items if n["source"] == "hotspot"]

    def _projects(self) -> list[dict[str, Any]]:
        return list(self.cw("LJ01").ok("cobuild", "GET", "/v1/cobuild/projects", params={"limit": 200})["items"])

    def _finish(self, project: dict[str, Any]) -> None:
        """A hotspot project an earlier run left open is taken to completion, so the spot counts again."""
        steps = {
            "proposed": ("approve", "sd-lj", {}),
            "approved": ("start", "cw-lj01", {}),
            "suspended": ("resume", "cw-lj01", {}),
            "in_progress": ("complete", "cw-lj01", {"report": "线路改造完成", "beneficiaries": 300}),
        }
        while project["status"] in steps:
            action, by, body = steps[project["status"]]
            project = self.project(project, action, by, body)

    def _close(self, ticket: dict[str, Any]) -> None:
        """The ticket through dispatch, the department and the reporter's check to closed, then rated."""
        worker = self.people["gw-lj01"]
        chief = ApiUser(urls=self.urls, sub="sup-qh", role=Role.SUPERVISOR, org="QH")

        def lead() -> str | None:
            view = chief.call("supervision", "GET", f"/v1/supervision/tickets/{ticket['ticket_id']}")
            body = view.json()["ticket"] if view.status_code == 200 else {}
            return str(body["lead_department"]) if body.get("status") == "dispatched" else None

        agent = self.agents[_wait(lead, f"dispatch of {ticket['ticket_number']}")]
        path = f"/v1/work-orders/{ticket['ticket_id']}"
        agent.ok("handling", "POST", f"{path}/accept")
        agent.ok("handling", "POST", f"{path}/resolve", json={"note": "已更换灯泡，恢复照明"})

        def pending() -> bool:
            task = worker.call("feedback", "GET", f"/v1/verifications/{ticket['ticket_id']}")
            return task.status_code == 200 and (task.json()["verification"] or {}).get("status") == "pending"

        _wait(pending, "verification task")
        worker.ok(
            "feedback", "POST", f"/v1/verifications/{ticket['ticket_id']}", json={"passed": True, "comment": "已核实"}
        )

        def closed() -> bool:
            return bool(worker.ok("intake", "GET", f"/v1/reports/{ticket['ticket_id']}")["status"] == "closed")

        _wait(closed, "closure")
        worker.ok("feedback", "POST", f"/v1/ratings/{ticket['ticket_id']}", json={"rating": "basically_satisfied"})

    def hotspot(self) -> None:
        print(f"Hotspot → project: 路灯 keeps failing in {HOT_GRID} (热点难点) ...")
        in_projects = {n for p in self._projects() for n in p["need_ids"]}
        for project in self._projects():
            if project["grid_code"] == HOT_GRID and project["ticket_ids"]:
                self._finish(project)
        waiting = [
            n for n in self._hot_ideas() if n["status"] in ("submitted", "reviewed") and n["id"] not in in_projects
        ]
        if waiting:
            idea = waiting[0]
            print(f"  {idea['need_number']}  an earlier run's idea is still waiting: the community takes it up")
        else:
            before = {n["id"] for n in self._hot_ideas()}
            for n, ((lon, lat), text) in enumerate(zip(HOT_POINTS, HOT_TEXTS, strict=True)):
                ticket = self.people["gw-lj01"].ok(
                    "intake",
                    "POST",
                    "/v1/reports",
                    json={"category_code": HOT_CATEGORY, "description": text, "location": {"lon": lon, "lat": lat}},
                    headers={"Idempotency-Key": f"cobuild-hot-{n}-{time.time_ns()}"},
                )
                self._close(ticket)
                print(f"  {ticket['ticket_number']}  路灯 {ticket['grid_code']} closed")

            def raised() -> dict[str, Any] | None:
                return next((n for n in self._hot_ideas() if n["id"] not in before), None)

            idea = _wait(raised, "cobuild's hotspot pass to raise a project idea", timeout=HOTSPOT_WAIT_SECONDS)
            print(
                f"  {idea['need_number']}  project idea raised by cobuild's hotspot pass, "
                f"{len(idea['ticket_ids'])} tickets attached"
            )
        if idea["status"] == "submitted":
            self.needs["hot"] = idea
            idea = self.need("hot", "review", "cw-lj01", {"summary": "第4网格路灯反复损坏，建议整体更换老化线路和灯具"})
        project = self.propose(
            "LJ01", "第4网格路灯线路整体改造", "针对路灯反复损坏，更换老化线路和灯具，根治夜间照明问题。",
            "NC-REPAIR", HOT_GRID, need_ids=[idea["id"]], unit_codes=["U-LJ-BANK"],
        )  # fmt: skip
        self.project(project, "approve", "sd-lj", {"comment": "同意，列入街道实事项目"})
        self.project(project, "start", "cw-lj01")
        project = self.project(
            project, "complete", "cw-lj01", {"report": "更换老化线路1.2公里、LED灯具12套。", "beneficiaries": 300}
        )
        print(
            f"  {project['project_number']}  {project['title']}: completed with {len(project['ticket_ids'])} tickets "
            f"of {project['ticket_category_code']}; 90 days with no recurrence count one 热点难点 solved"
        )

    def summary(self) -> None:
        print("\n共建 lists now:")
        for community in ("LJ01", "LJ02", "WH01"):
            worker = self.cw(community)
            items = worker.ok("cobuild", "GET", "/v1/cobuild/needs", params={"limit": 200})["items"]
            states: dict[str, int] = {}
            for need in items:
                states[need["status"]] = states.get(need["status"], 0) + 1
            offers = worker.ok("cobuild", "GET", "/v1/cobuild/offers", params={"limit": 200})["items"]
            projects = worker.ok("cobuild", "GET", "/v1/cobuild/projects", params={"limit": 200})["items"]
            by_state = ", ".join(f"{k} {v}" for k, v in sorted(states.items()))
            print(f"  {community} needs: {by_state}")
            print(
                f"  {community} offers {len(offers)}, projects: "
                + ", ".join(sorted(f"{p['project_number']} {p['status']}" for p in projects)[-6:])
            )


def run(urls: dict[str, str], agents: dict[str, ApiUser]) -> None:
    """One round of the 共建 loop against the services at `urls`, then the 双报到 round (demo_volunteering);
    `agents` are the departments' workers."""
    Round(urls, agents).run()
    demo_volunteering.run(urls, agents)
