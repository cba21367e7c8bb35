"""The programs' fixed vocabularies, in order. Chinese values are stored as-is in the database
(county ledgers use them), English keys name columns and CLI options."""
from dataclasses import dataclass

RENOVATION = "renovation"
HEATING = "heating"
PROGRAMS = {RENOVATION: "老旧小区改造", HEATING: "清洁取暖"}


@dataclass(frozen=True)
class Step:
    """One step of a lifecycle: `key` names the date columns (`<key>_planned`, `<key>_actual`
    for stages; `<key>_on` for milestones), `label` is what the user reads."""
    key: str
    label: str


# Old-community renovation: one project per community per yearly batch.
STAGES = (
    Step("reserve", "储备"),
    Step("prep", "前期手续"),
    Step("tender", "招投标"),
    Step("start", "开工"),
    Step("finish", "完工"),
    Step("accept", "竣工验收"),
)
# Where a community stands: it reached this stage and not yet the next one.
STAGE_STANDING = ("储备", "前期手续", "招投标", "在建", "已完工", "已验收")
NO_STAGE = "未入库"
# Clean heating: one rural household in a yearly plan.
MILESTONES = (
    Step("confirmed", "确村到户"),
    Step("tendered", "设备招标"),
    Step("installed", "户内改造"),
    Step("connected", "通气通电"),
)
# Where a household stands: it reached this milestone and not yet the next one.
MILESTONE_STANDING = ("已确村到户", "已招标待安装", "已改造待通气", "已通气通电")
NO_MILESTONE = "未确村到户"
# A county's equipment procurement for a plan year.
PROCUREMENT_STEPS = (
    Step("plan_issued", "实施方案下发"),
    Step("registration", "供应商报名"),
    Step("selected", "招标入库"),
    Step("delivering", "供货安装"),
)

# Steps a plan sets node requirements for (plan_node.step), by program: the stages a batch is
# judged on and every heating milestone. Keys are the stage / milestone keys above.
NODE_STEPS_BY_PROGRAM = {RENOVATION: ("start", "finish", "accept"),
                         HEATING: (*(m.key for m in MILESTONES), "urban")}
NODE_STEPS = tuple(dict.fromkeys(k for keys in NODE_STEPS_BY_PROGRAM.values() for k in keys))
# How the plan words a step being done: "6月底前全部开工", "10月15日前完成户内改造50%".
STEP_DONE_WORDS = {"start": "开工", "finish": "完工", "accept": "竣工验收", "confirmed": "确村到户",
                   "tendered": "完成设备招标", "installed": "完成户内改造", "connected": "通气通电",
                   "urban": "完成城区清洁取暖工程"}

RENOVATION_TYPES = ("基础完善型", "环境美化型", "功能提升型", "整合提升型")
CONTENT_ITEMS = {
    "基础类": ("供水", "排水", "供电", "通信", "道路", "供气", "消防", "安防", "垃圾分类"),
    "完善类": ("停车", "绿化", "照明", "加装电梯", "无障碍"),
    "提升类": ("养老", "托育", "健身", "便民服务中心"),
}
PROPERTY_TYPES = ("单位自管", "物业管理", "社区代管", "无物业")

ROUTES = ("生物质", "电蓄热", "太阳能+电辅助", "燃气壁挂炉", "液化石油气壁挂炉", "空气源热泵", "光伏+")
HOUSEHOLD_STATUSES = ("正常使用", "闲置", "取消")
URBAN_WORK_KINDS = ("燃煤锅炉替代", "集中供热管网")

FUND_SOURCES = ("中央预算内投资", "中央财政补助", "省级补助", "市县配套",
                "居民出资", "社会资本", "专营单位", "政策性银行贷款")
RESIDENT_SOURCE = "居民出资"

COUNTY_KINDS = ("区", "县", "县级市")
REPORT_KINDS = ("周调度", "月通报")

# Account roles (retrofit/accounts.py): English keys in the store and code, Chinese on screen.
ROLES = {"leader": "领导", "admin": "管理员", "clerk": "县区填报员"}
