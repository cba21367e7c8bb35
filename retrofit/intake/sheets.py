"""What each importable sheet holds: its Chinese name, the table it updates, its natural key,
and its columns (header with unit, accepted aliases, kind of value, required or not).

Kinds: text, int, yuan (whole yuan), wan (万元 in the file, whole yuan in the store), float,
date, choice (one of `choices`), phone (masked on import), bool (是/否), and place columns
(county / township / village names resolved against the store).
"""
from dataclasses import dataclass
from functools import cache

from sqlalchemy import Table

from .. import db
from ..vocab import (FUND_SOURCES, HEATING, HOUSEHOLD_STATUSES, MILESTONES, NODE_STEPS_BY_PROGRAM, PROGRAMS,
                     PROPERTY_TYPES, RENOVATION, RENOVATION_TYPES, ROUTES, STAGES)

TEMPLATE_VERSION = "RF-TPL-2026.1"
META_SHEET = "模板信息"        # hidden: version, program, county, year
LISTS_SHEET = "下拉选项"       # hidden: long dropdown lists (villages, townships)
INSTRUCTIONS_SHEET = "填表说明"
ID_NUMBER_HEADERS = ("身份证号", "身份证号码", "身份证", "证件号码", "公民身份号码")


@dataclass(frozen=True)
class Field:
    column: str                     # store column, or county / township / village
    header: str                     # as written in the template, unit included
    kind: str = "text"
    required: bool = False
    aliases: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    note: str = ""                  # one line for the instructions sheet

    @property
    def names(self) -> tuple[str, ...]:
        """Every header this column is recognised by (normalised: no spaces, no unit)."""
        return _names(self.header, self.aliases)


@dataclass(frozen=True)
class Reference:
    """A file column naming another row by its code (a 文号, a 项目编码), stored as that row's id.
    Resolved when the import is planned, after the sheets before it are written: a file may
    bring an allocation and the payments made from it."""
    field: str                      # the file's column: the referred row's code
    column: str                     # the store column: the referred row's id
    table: Table


@dataclass(frozen=True)
class SheetSpec:
    key: str
    program: str
    title: str                      # the worksheet's name
    table: Table
    fields: tuple[Field, ...]
    keys: tuple[str, ...] = ("code",)  # the natural key, store columns
    per_county: bool = True         # a county fills its own rows
    references: tuple[Reference, ...] = ()

    def field_of(self, column: str) -> Field:
        return next(f for f in self.fields if f.column == column)

    @property
    def stored_columns(self) -> list[str]:
        """The store columns a row of this sheet sets (place names resolved to codes)."""
        referring = {r.field: r.column for r in self.references}
        columns = [referring.get(f.column, f.column) for f in self.fields if f.column not in PLACE_COLUMNS]
        if self.per_county and "county_adcode" in self.table.c:
            columns.insert(1, "county_adcode")
        if self.key == HOUSEHOLDS:
            columns.insert(2, "village_code")
        return columns


PLACE_COLUMNS = ("county", "township", "village")


@cache
def _names(header: str, aliases: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(normalise_header(n) for n in (header, *aliases)))


def normalise_header(text: str) -> str:
    """A header without spaces, asterisks, line breaks or its unit in brackets: "设备费用(元)*"
    and "设备费用" match; full-width brackets count as brackets."""
    import re
    import unicodedata

    text = unicodedata.normalize("NFKC", str(text or ""))
    text = re.sub(r"[\s*※]", "", text)
    text = re.sub(r"\((元|万元|户|栋|部|㎡|m2|m²|平方米|年|元/采暖季|公里)\)$", "", text)
    return text


HOUSEHOLDS = "heating_household"
PROJECTS = "renovation_project"
ALLOCATIONS = "fund_allocation"
DISBURSEMENTS = "fund_disbursement"
HEATING_PLANS = "heating_plan"
BATCHES = "renovation_batch"
HEATING_YEARS = "heating_year"
TOWNSHIPS = "township"
VILLAGES = "village"
NODES = "plan_node"

_milestone_aliases = {"connected": ("通气(电)日期", "通气通电时间", "通电通气日期"),
                      "installed": ("户内改造完成日期", "安装日期"), "confirmed": ("确村确户日期",),
                      "tendered": ("招标日期",)}

HOUSEHOLD_SHEET = SheetSpec(
    HOUSEHOLDS, HEATING, "一户一档", db.heating_household, (
        Field("code", "户编码", required=True, aliases=("农户编码", "户号"), note="每户唯一,沿用已有编码"),
        Field("county", "县(市、区)", "place", True, aliases=("县区", "区县", "县")),
        Field("township", "乡镇", "place", True, aliases=("乡(镇)", "镇")),
        Field("village", "村", "place", True, aliases=("行政村", "村名")),
        Field("plan_year", "改造年度", "int", True, aliases=("计划年度", "年度")),
        Field("head_name", "户主姓名", required=True, aliases=("户主",)),
        Field("phone_masked", "联系电话", "phone", aliases=("电话", "手机号", "手机号码"),
              note="可填完整号码,导入时只保存 1xx****xxxx"),
        Field("route", "技术路线", "choice", True, aliases=("改造方式", "取暖方式"), choices=ROUTES),
        Field("equipment_cost_yuan", "设备费用(元)", "yuan", True, aliases=("设备价格",)),
        Field("subsidy_yuan", "补贴金额(元)", "yuan", True, aliases=("设备补贴", "补贴")),
        Field("running_cost_yuan", "预计运行费用(元/采暖季)", "yuan", True, aliases=("运行费用",)),
        Field("coal_cost_yuan", "原燃煤费用(元/采暖季)", "yuan", True, aliases=("燃煤费用",)),
        Field("status", "使用状态", "choice", True, choices=HOUSEHOLD_STATUSES),
        Field("status_on", "状态变更日期", "date", note="闲置或取消时填写"),
        *[Field(f"{m.key}_on", f"{m.label}日期", "date", aliases=_milestone_aliases.get(m.key, ()))
          for m in MILESTONES],
    ))

_yes_no = ("是", "否")
PROJECT_SHEET = SheetSpec(
    PROJECTS, RENOVATION, "小区台账", db.renovation_project, (
        Field("code", "项目编码", required=True, aliases=("小区编码",), note="每个小区唯一,沿用已有编码"),
        Field("county", "县(市、区)", "place", True, aliases=("县区", "区县")),
        Field("batch_year", "计划批次", "int", True, aliases=("批次年度", "年度")),
        Field("street", "街道", required=True, aliases=("街道(镇)", "所在街道")),
        Field("name", "小区名称", required=True, aliases=("小区",)),
        Field("lon", "经度", "float", True),
        Field("lat", "纬度", "float", True),
        Field("year_built", "建成年份", "int", True, aliases=("建成年代",)),
        Field("buildings", "楼栋数(栋)", "int", True, aliases=("楼栋数",)),
        Field("households", "户数(户)", "int", True),
        Field("floor_area_m2", "建筑面积(㎡)", "int", True),
        Field("property_type", "物业类型", "choice", True, choices=PROPERTY_TYPES),
        Field("renovation_type", "改造类型", "choice", True, choices=RENOVATION_TYPES),
        Field("content_basic", "基础类改造内容", aliases=("基础类",)),
        Field("content_improve", "完善类改造内容", aliases=("完善类",)),
        Field("content_upgrade", "提升类改造内容", aliases=("提升类",)),
        Field("is_demonstration", "示范样板", "bool", choices=_yes_no),
        Field("consultation_done", "已征求意见", "bool", choices=_yes_no),
        Field("pipelines_coordinated", "管线同步", "bool", choices=_yes_no),
        Field("elevators_added", "加装电梯(部)", "int"),
        Field("planned_investment_yuan", "计划投资(万元)", "wan", True, aliases=("预计投资",)),
        *[Field(f"{s.key}_{kind}", f"{s.label}{'计划' if kind == 'planned' else '实际'}日期", "date")
          for s in STAGES for kind in ("planned", "actual")],
    ))

ALLOCATION_SHEET = SheetSpec(
    ALLOCATIONS, "", "资金下达", db.fund_allocation, (
        Field("code", "文号", required=True, aliases=("下达文号", "资金文号"), note="下达文件的文号,每笔唯一"),
        Field("program", "工作", "choice", True, aliases=("项目类别",), choices=tuple(PROGRAMS.values())),
        Field("county", "县(市、区)", "place", True, aliases=("县区", "区县")),
        Field("plan_year", "年度", "int", True, aliases=("计划年度",)),
        Field("source", "资金来源", "choice", True, choices=FUND_SOURCES),
        Field("amount_yuan", "下达金额(万元)", "wan", True, aliases=("金额",)),
        Field("allocated_on", "下达日期", "date", True),
    ))

DISBURSEMENT_SHEET = SheetSpec(
    DISBURSEMENTS, "", "资金拨付", db.fund_disbursement, (
        Field("code", "支付凭证号", required=True, aliases=("凭证号", "拨付凭证号"), note="每笔拨付唯一"),
        Field("allocation_code", "下达文号", required=True, aliases=("文号", "资金文号"),
              note="拨付所用资金的下达文号,须为库中或本文件“资金下达”表中的文号"),
        Field("county", "县(市、区)", "place", True, aliases=("县区", "区县")),
        Field("project_code", "项目编码", aliases=("小区编码",), note="老旧小区改造资金填拨付到的小区;清洁取暖补贴不填"),
        Field("amount_yuan", "拨付金额(万元)", "wan", True, aliases=("金额",)),
        Field("paid_on", "拨付日期", "date", True),
    ), references=(Reference("allocation_code", "allocation_id", db.fund_allocation),
                   Reference("project_code", "project_id", db.renovation_project)))

PLAN_SHEET = SheetSpec(
    HEATING_PLANS, HEATING, "取暖任务", db.heating_plan, (
        Field("county", "县(市、区)", "place", True, aliases=("县区", "区县")),
        Field("year", "年度", "int", True),
        Field("target_households", "任务户数(户)", "int", True, note="含上年结转"),
        Field("carryover_households", "其中结转户数(户)", "int", aliases=("结转户数",)),
        Field("target_urban_m2", "城区任务面积(㎡)", "int"),
    ), keys=("county_adcode", "year"))

BATCH_SHEET = SheetSpec(
    BATCHES, RENOVATION, "改造批次", db.renovation_batch, (
        Field("year", "批次年度", "int", True),
        Field("period_start", "计划起始日期", "date", True),
        Field("start_deadline", "全部开工时限", "date", True),
        Field("finish_deadline", "全部完工时限", "date", True),
        Field("accept_deadline", "竣工验收时限", "date", True),
    ), keys=("year",), per_county=False)

HEATING_YEAR_SHEET = SheetSpec(
    HEATING_YEARS, HEATING, "取暖年度", db.heating_year, (
        Field("year", "计划年度", "int", True),
        Field("period_start", "计划起始日期", "date", True),
        *[Field(f"{m.key}_deadline", f"{m.label}时限", "date", True) for m in MILESTONES],
    ), keys=("year",), per_county=False)

TOWNSHIP_SHEET = SheetSpec(
    TOWNSHIPS, "places", "乡镇", db.township, (
        Field("code", "乡镇代码", required=True, aliases=("乡镇编码", "乡镇区划代码"), note="9位区划代码,每个乡镇唯一"),
        Field("county", "县(市、区)", "place", True, aliases=("县区", "区县")),
        Field("name", "乡镇名称", required=True, aliases=("乡镇",)),
    ))

VILLAGE_SHEET = SheetSpec(
    VILLAGES, "places", "村", db.village, (
        Field("code", "村代码", required=True, aliases=("村编码", "村区划代码"), note="12位区划代码,每个村唯一"),
        Field("township_code", "所属乡镇代码", required=True, note="见“乡镇”表"),
        Field("name", "村名称", required=True, aliases=("村名", "行政村")),
        Field("lon", "经度", "float", True, note="村委会位置,用于地图"),
        Field("lat", "纬度", "float", True),
    ), per_county=False)

# The plan's node steps as the plan words them; keys are plan_node.step values.
NODE_STEP_LABELS = {**{s.key: s.label for s in STAGES}, **{m.key: m.label for m in MILESTONES}, "urban": "城区工程"}
NODE_SHEET = SheetSpec(
    NODES, "", "计划节点", db.plan_node, (
        Field("program", "工作", "choice", True, aliases=("项目类别",), choices=tuple(PROGRAMS.values())),
        Field("plan_year", "年度", "int", True, aliases=("计划年度",)),
        Field("step", "环节", "choice", True, aliases=("节点环节",),
              choices=tuple(dict.fromkeys(NODE_STEP_LABELS[k] for keys in NODE_STEPS_BY_PROGRAM.values()
                                          for k in keys))),
        Field("county", "县(市、区)", "place", aliases=("县区", "区县"), note="空:全市统一节点;填县区:该县区单独的节点"),
        Field("due_on", "节点日期", "date", True, aliases=("截止日期",)),
        Field("required_share", "应完成比例(%)", "float", True, aliases=("应完成比例",),
              note="如“6月底前全部开工”填 100,“3月底前开工30%”填 30"),
    ), keys=("program", "plan_year", "step", "county_adcode", "due_on"))

# In the order they are checked and written: years and places before the rows that refer to them.
SHEETS = (BATCH_SHEET, HEATING_YEAR_SHEET, PLAN_SHEET, NODE_SHEET, TOWNSHIP_SHEET, VILLAGE_SHEET, ALLOCATION_SHEET,
          PROJECT_SHEET, DISBURSEMENT_SHEET, HOUSEHOLD_SHEET)
SHEETS_BY_KEY = {s.key: s for s in SHEETS}
PROGRAM_SHEETS = {HEATING: (HOUSEHOLD_SHEET,), RENOVATION: (PROJECT_SHEET,),
                  "funds": (ALLOCATION_SHEET, DISBURSEMENT_SHEET), "places": (TOWNSHIP_SHEET, VILLAGE_SHEET),
                  "plans": (BATCH_SHEET, HEATING_YEAR_SHEET, PLAN_SHEET, NODE_SHEET)}
PROGRAM_LABELS = {**PROGRAMS, "funds": "资金下达与拨付", "plans": "计划与任务", "places": "乡镇与村名单"}
