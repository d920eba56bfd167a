"""The example organization shipped with the project, shaped like the seed's
national quality-inspection system (spec §1, §3): the headquarters party group
and its organs' party committee; the party groups of the two commissions and
their organ party committees; the branches of 21 headquarters departments; the
directly affiliated units; 35 directly affiliated inspection-and-quarantine
bureaus and 31 provincial quality-supervision bureaus, each under its local
party committee (which reviews it) and guided by headquarters (which assists:
协助点评), each with departments, a technical centre, branches and members.

Unit names are the system's real organization names; every person is
generated (``directory.names``), with a fixed seed so every machine gets the
same directory. Ids are codes (``U-CIQ-GD-D03``, ``P-000123``), never names.
"""

from __future__ import annotations

from functools import lru_cache

from directory.builder import DirectoryBuilder
from domain.org import Directory, Tier, UnitKind
from domain.rubric import UnitCategory as C

EXAMPLE_SEED = 20101207  # the day of the speech that defines the procedure
EXAMPLE_SOURCE = "example:aqsiq-2010"

LE, TI, WS, OT = C.LAW_ENFORCEMENT, C.TECHNICAL_INSTITUTION, C.WINDOW_SERVICE, C.OTHER

# (code, short name, full administrative name)
PROVINCES: tuple[tuple[str, str, str], ...] = (
    ("BJ", "北京", "北京市"), ("TJ", "天津", "天津市"), ("HE", "河北", "河北省"), ("SX", "山西", "山西省"),
    ("NM", "内蒙古", "内蒙古自治区"), ("LN", "辽宁", "辽宁省"), ("JL", "吉林", "吉林省"), ("HL", "黑龙江", "黑龙江省"),
    ("SH", "上海", "上海市"), ("JS", "江苏", "江苏省"), ("ZJ", "浙江", "浙江省"), ("AH", "安徽", "安徽省"),
    ("FJ", "福建", "福建省"), ("JX", "江西", "江西省"), ("SD", "山东", "山东省"), ("HA", "河南", "河南省"),
    ("HB", "湖北", "湖北省"), ("HN", "湖南", "湖南省"), ("GD", "广东", "广东省"), ("GX", "广西", "广西壮族自治区"),
    ("HI", "海南", "海南省"), ("CQ", "重庆", "重庆市"), ("SC", "四川", "四川省"), ("GZ", "贵州", "贵州省"),
    ("YN", "云南", "云南省"), ("XZ", "西藏", "西藏自治区"), ("SN", "陕西", "陕西省"), ("GS", "甘肃", "甘肃省"),
    ("QH", "青海", "青海省"), ("NX", "宁夏", "宁夏回族自治区"), ("XJ", "新疆", "新疆维吾尔自治区"),
)
# the four cities with their own directly affiliated inspection-and-quarantine bureau
CIQ_CITIES: tuple[tuple[str, str, str], ...] = (
    ("SZ", "深圳", "深圳市"), ("ZH", "珠海", "珠海市"), ("XM", "厦门", "厦门市"), ("NB", "宁波", "宁波市"),
)

HQ_DEPARTMENTS: tuple[tuple[str, C], ...] = (
    ("办公厅", OT), ("法规司", LE), ("质量管理司", OT), ("计量司", TI), ("通关业务司", LE),
    ("卫生检疫监管司", LE), ("动植物检疫监管司", LE), ("检验监管司", LE), ("进出口食品安全局", LE),
    ("特种设备安全监察局", LE), ("产品质量监督司", LE), ("食品生产监管司", LE), ("执法督查司", LE),
    ("国际合作司", OT), ("科技司", TI), ("人事司", OT), ("计划财务司", OT), ("督察内审司", OT),
    ("行政审批办公室", WS), ("离退休干部局", WS), ("驻总局监察局", OT),
)

# (name, category, branch names); the last one is a general branch, the rest party committees
AFFILIATED: tuple[tuple[str, C, tuple[str, ...]], ...] = (
    ("中国检验检疫科学研究院", TI, ("食品安全研究所", "动植物检疫研究所", "卫生检疫研究所", "综合管理部门")),
    ("中国计量科学研究院", TI, ("力学与声学计量科", "热工计量科", "电磁计量科", "综合管理部门")),
    ("中国标准化研究院", TI, ("基础标准化研究所", "资源与环境分院", "综合管理部门")),
    ("中国特种设备检测研究院", TI, ("承压设备检测部", "机电设备检测部", "综合管理部门")),
    ("中国纤维检验局", LE, ("公证检验处", "监督检查处", "综合处")),
    ("中国质量认证中心", TI, ("产品认证部", "体系认证部", "综合管理部门")),
    ("中国合格评定国家认可中心", TI, ("实验室认可处", "认证机构认可处", "综合处")),
    ("国家质检总局信息中心", TI, ("网络运行部", "应用开发部", "综合部")),
    ("国家质检总局国际检验检疫标准与技术法规研究中心", TI, ("技术法规研究部", "综合部")),
    ("中国质量报刊社", OT, ("采编部", "经营管理部")),
    ("中国国门时报社", OT, ("采编部", "经营管理部")),
    ("国家质检总局干部教育中心", OT, ("培训部", "综合部")),
    ("国家质检总局机关服务中心", WS, ("后勤服务部", "综合部")),
)

CIQ_DEPARTMENTS: tuple[tuple[str, C], ...] = (
    ("办公室", OT), ("人事处", OT), ("卫生检疫监管处", LE), ("动植物检疫监管处", LE),
    ("检验监管处", LE), ("通关业务处", WS),
)
CIQ_LABS = ("化学实验室", "机电产品实验室", "食品实验室")
CIQ_PORT_SECTIONS: tuple[tuple[str, C], ...] = (("旅检科", WS), ("货检科", LE))

QTS_DEPARTMENTS: tuple[tuple[str, C], ...] = (
    ("办公室", OT), ("质量管理处", OT), ("计量处", LE), ("标准化处", OT),
    ("特种设备安全监察处", LE), ("稽查总队", LE), ("行政审批服务大厅", WS),
)
QTS_INSTITUTE_SECTIONS = ("计量检测所", "产品质量检验所", "综合管理部门")


def build_example() -> Directory:
    """The whole example organization (deterministic)."""
    return _build()


@lru_cache(maxsize=1)
def _build() -> Directory:
    b = DirectoryBuilder(EXAMPLE_SEED)
    t1, t2, t3 = Tier.HEADQUARTERS, Tier.LOCAL_BUREAU, Tier.AFFILIATED
    pg, pc, gb = UnitKind.PARTY_GROUP, UnitKind.PARTY_COMMITTEE, UnitKind.GENERAL_BRANCH

    # ---- tier 1: headquarters (reviewed by an authority outside the directory)
    hq = b.unit("U-HQ", "国家质检总局党组", parent=None, tier=t1, kind=pg)
    hq_team = b.team(hq, 6)
    # a party-group member is the secretary of the organs' party committee, as is usual
    organs = b.unit("U-HQ-ORG", "国家质检总局直属机关党委", parent=hq, tier=t1, kind=pc, leader=hq_team[0])
    b.team(organs, 4)

    for code, name, cat in (("CNCA", "国家认证认可监督管理委员会", LE), ("SAC", "国家标准化管理委员会", TI)):
        group = b.unit(f"U-{code}", f"{name}党组", parent=hq, tier=t2, kind=pg, category=cat)
        b.team(group, 3)
        committee = b.unit(f"U-{code}-ORG", f"{name}机关党委", parent=organs, tier=t3, kind=pc, category=cat)
        b.team(committee, 2)
        for i, dept in enumerate(("办公室", "业务一部", "业务二部", "综合部"), start=1):
            b.branch(f"U-{code}-ORG-B{i:02d}", f"{name}{dept}党支部", parent=committee, category=cat, members=(4, 9))

    for i, (dept, cat) in enumerate(HQ_DEPARTMENTS, start=1):
        b.branch(f"U-HQ-D{i:02d}", f"总局{dept}党支部", parent=organs, category=cat, members=(6, 14))

    for i, (name, cat, sections) in enumerate(AFFILIATED, start=1):
        kind = gb if i == len(AFFILIATED) else pc
        suffix = "党总支" if kind is gb else "党委"
        uid = b.unit(f"U-AF{i:02d}", f"{name}{suffix}", parent=organs, tier=t3, kind=kind, category=cat)
        b.team(uid, 2 if kind is gb else 4)
        for j, section in enumerate(sections, start=1):
            b.branch(f"{uid}-B{j:02d}", f"{name}{section}党支部", parent=uid, category=cat, members=(5, 12))

    # ---- the local bureaus, each owned by its local party committee and guided by headquarters
    committees: dict[str, str] = {}
    for code, _short, full in PROVINCES + CIQ_CITIES:
        committees[code] = b.unit(f"U-EXT-{code}", f"中共{full}委员会", parent=None, tier=t1, kind=pc, external=True)

    for code, short, _full in PROVINCES + CIQ_CITIES:
        _local_bureau(
            b, uid=f"U-CIQ-{code}", name=f"{short}出入境检验检疫局党组", parent=committees[code], guide=hq,
            departments=CIQ_DEPARTMENTS,
            institute=(f"{short}出入境检验检疫局技术中心", TI, CIQ_LABS),
            port=(f"{short}机场办事处", CIQ_PORT_SECTIONS),
        )
    for code, _short, full in PROVINCES:
        _local_bureau(
            b, uid=f"U-QTS-{code}", name=f"{full}质量技术监督局党组", parent=committees[code], guide=hq,
            departments=QTS_DEPARTMENTS,
            institute=(f"{full}质量技术监督检验研究院", TI, QTS_INSTITUTE_SECTIONS),
            port=None,
        )
    return b.build()


def _local_bureau(b: DirectoryBuilder, *, uid: str, name: str, parent: str, guide: str,
                  departments: tuple[tuple[str, C], ...], institute: tuple[str, C, tuple[str, ...]],
                  port: tuple[str, tuple[tuple[str, C], ...]] | None) -> None:
    """A local bureau's party group (tier 2): its members are in charge of the
    departments and units by division of duties and review them; the secretary
    reviews the party group's members."""
    bureau_short = name.removesuffix("党组")
    b.unit(uid, name, parent=parent, tier=Tier.LOCAL_BUREAU, kind=UnitKind.PARTY_GROUP, category=LE, guided_by=guide)
    team = b.team(uid, 4)
    duty = iter(range(10_000))

    def in_charge() -> str:
        return team[next(duty) % len(team)]

    for i, (dept, cat) in enumerate(departments, start=1):
        b.branch(f"{uid}-D{i:02d}", f"{bureau_short}{dept}党支部", parent=uid, category=cat, members=(4, 10), overseen_by=in_charge())

    inst_name, inst_cat, sections = institute
    inst = b.unit(f"{uid}-TC", f"{inst_name}党委", parent=uid, tier=Tier.AFFILIATED, kind=UnitKind.PARTY_COMMITTEE, category=inst_cat, overseen_by=in_charge())
    b.team(inst, 2)
    for j, section in enumerate(sections, start=1):
        b.branch(f"{inst}-B{j:02d}", f"{inst_name}{section}党支部", parent=inst, category=inst_cat, members=(5, 11))

    if port is not None:
        office, port_sections = port
        gen = b.unit(f"{uid}-PT", f"{office}党总支", parent=uid, tier=Tier.AFFILIATED, kind=UnitKind.GENERAL_BRANCH,
                     category=WS, overseen_by=in_charge())
        b.team(gen, 1)
        for j, (section, cat) in enumerate(port_sections, start=1):
            b.branch(f"{gen}-B{j:02d}", f"{office}{section}党支部", parent=gen, category=cat, members=(5, 10))
