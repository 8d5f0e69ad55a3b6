"""The life-circle section of ``report.html`` / ``report.docx``: blocks of already formatted text.

:func:`life_circle_blocks` turns a :class:`coverage.life_circle_run.LifeCircleResult`
into ``(kind, text, table)`` blocks for :mod:`coverage.report_doc`: the
standard and how it was applied, the checklist per sub-district (and per
community when there is no sub-district level), the same for other groups
(the elderly at their own walking speed), the shares reaching each facility
type, the busiest sites against their capacity, and fairness before/after.
Every cell is text; user text (area and site names) goes through
:func:`coverage._text.display`, and the renderers escape it for their format.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from ._format import fmt_people, fmt_share, group_name
from ._text import display
from .life_circle import FAIL, NO_DATA, PASS

if TYPE_CHECKING:
    from .life_circle import LifeCircleCheck
    from .life_circle_run import LifeCircleResult

__all__ = ["life_circle_blocks"]

Block = tuple[str, str, "pd.DataFrame | None"]

TEXT: dict[str, dict[str, Any]] = {
    "zh": {
        "title": "生活圈达标核查",
        "standard": "依据 {code}《{title}》：某类设施在片区内有 {target} 的居民可步行到达即判为达标；"
        "上一级生活圈须同时具备下级各圈的设施。{unverified}",
        "unverified": "其中 {n} 类设施的标准条目尚未与原文核对，结论仅供参考。",
        "judge_services": "步行距离按各服务设定的步行时间计算，老年人按其自身步速（可达范围更小）。",
        "judge_standard": "步行距离按标准给出的服务半径计算。",
        "sources": "各类设施所用的点位：{pairs}。",
        "checklist": "各{level}达标情况（{group}）",
        "shares": "各{level}可步行到达各类设施的居民比例",
        "loads": "负荷最重的站点（按容量分配居民后，周边仍超出容量的居民）",
        "fairness": "公平性指标（现状与新增站点后）",
        "fairness_p": "基尼系数、帕尔马比值和泰尔指数越小越均衡；“各片区”按片区平均值计算。",
        "subdistrict": "街道",
        "community": "社区",
        "area": "片区",
        "site": "站点",
        "capacity": "容量（人）",
        "load": "分配居民",
        "within": "步行范围内居民",
        "unserved": "范围内超出容量",
        "population": "人口",
        "measure": "指标",
        "across": "比较对象",
        "before": "现状",
        "after": "新增后",
        "status": {PASS: PASS, FAIL: FAIL, NO_DATA: NO_DATA},
        "measures": {"coverage": "覆盖率", "distance_m": "步行距离"},
        "acrosses": {"residents": "居民个体", "communities": "各片区", "groups": "各人群"},
    },
    "en": {
        "title": "Life-circle check",
        "standard": "Checked against {code} ({title}): a facility type passes in an area when {target} of its "
        "residents reach it on foot; a tier also needs every lower tier's facilities. {unverified}",
        "unverified": "{n} facility type(s) rest on standard rows not verified against the text: read the "
        "verdicts as provisional.",
        "judge_services": "Walks are judged at each service's own walking time, the elderly at their own speed "
        "(they reach less far).",
        "judge_standard": "Walks are judged at the standard's service radii.",
        "sources": "Sites used for each facility type: {pairs}.",
        "checklist": "Checklist by {level} ({group})",
        "shares": "Share of residents reaching each facility type, by {level}",
        "loads": "Busiest sites (residents allocated within capacity; residents within reach left over capacity)",
        "fairness": "Fairness before and after the proposed sites",
        "fairness_p": "Lower Gini, Palma and Theil values are more even; 'areas' compares area means.",
        "subdistrict": "sub-district",
        "community": "community",
        "area": "area",
        "site": "site",
        "capacity": "capacity (residents)",
        "load": "allocated",
        "within": "within reach",
        "unserved": "over capacity within reach",
        "population": "residents",
        "measure": "measure",
        "across": "across",
        "before": "before",
        "after": "after",
        "status": {PASS: "met", FAIL: "not met", NO_DATA: "no data"},
        "measures": {"coverage": "coverage", "distance_m": "walking distance"},
        "acrosses": {"residents": "residents", "communities": "areas", "groups": "groups"},
    },
}


def life_circle_blocks(life: LifeCircleResult, lang: str, *, max_rows: int = 40) -> list[Block]:
    """Return the report blocks of the life-circle step (``h2``, ``p``, ``note``, ``table``)."""
    T = TEXT.get(lang, TEXT["en"])
    blocks: list[Block] = [("h2", T["title"], None)]
    check = life.check
    if check is not None:
        std = check.standard
        unverified = int((~check.facilities.drop_duplicates("facility")["verified"]).sum())
        title = std.title_zh if lang == "zh" else (std.title_en or std.title_zh)
        blocks.append(("p", T["standard"].format(
            code=display(std.code, 100), title=display(title, 200), target=fmt_share(check.target_share, 0),
            unverified=T["unverified"].format(n=unverified) if unverified else "",
        ), None))
        names = dict(zip(std.facilities["key"], std.facilities["name_zh"], strict=True))
        mapped = life.facilities[life.facilities["standard_key"] != ""]
        pairs = [f"{display(names.get(k, k), 60)} ← {display(n, 120)}"
                 for k, n in zip(mapped["standard_key"], mapped["name"], strict=True)]
        blocks.append(("p", T["sources"].format(pairs="; ".join(pairs)), None))
        judge = life.options.get("judge", "standard")
        blocks.append(("p", T["judge_services" if judge == "services" else "judge_standard"], None))
        level = "subdistrict" if (check.tiers["level"] == "subdistrict").any() else "community"
        groups = ["all", *sorted(set(check.tiers["group"]) - {"all", life.main_group})]
        for group in groups:
            if not (check.tiers["level"] == level).any():
                break
            who = group_name(life.main_group if group == "all" else group, lang)
            blocks.append(("p", T["checklist"].format(level=T[level], group=who), None))
            blocks.append(("table", "", _checklist(check, level, group, T, max_rows)))
        if (check.facilities["level"] == level).any():
            blocks.append(("p", T["shares"].format(level=T[level]), None))
            blocks.append(("table", "", _shares(check, level, T, max_rows)))
    if len(life.loads):
        blocks.append(("p", T["loads"], None))
        blocks.append(("table", "", _loads(life.loads, T)))
    if (life.fairness["facility"] == "halls").any():
        blocks.append(("p", T["fairness"], None))
        blocks.append(("note", T["fairness_p"], None))
        blocks.append(("table", "", _fairness(life, T)))
    return blocks


def _checklist(check: LifeCircleCheck, level: str, group: str, T: dict[str, Any], max_rows: int) -> pd.DataFrame:
    wide = check.checklist(level, group).head(max_rows)
    names = dict(zip(check.standard.tiers["key"], check.standard.tiers["name_zh"], strict=True))
    out = pd.DataFrame({T["area"]: [display(a, 60) for a in wide["area"]]})
    for tier in wide.columns[1:]:
        out[display(names.get(tier, tier), 40)] = [T["status"].get(v, str(v)) for v in wide[tier]]
    return out


def _shares(check: LifeCircleCheck, level: str, T: dict[str, Any], max_rows: int) -> pd.DataFrame:
    wide = check.shares(level).head(max_rows)
    names = dict(zip(check.standard.facilities["key"], check.standard.facilities["name_zh"], strict=True))
    out = pd.DataFrame({T["area"]: [display(a, 60) for a in wide["area"]],
                        T["population"]: [fmt_people(v) for v in wide["population"]]})
    for key in wide.columns[2:]:
        out[display(names.get(key, key), 40)] = [fmt_share(v) for v in wide[key]]
    return out


def _loads(loads: pd.DataFrame, T: dict[str, Any]) -> pd.DataFrame:
    top = loads.sort_values(["unserved_within", "population_within"], ascending=False).head(10)
    return pd.DataFrame(
        {
            T["site"]: [display(n, 60) for n in top["name"]],
            T["capacity"]: [fmt_people(v) for v in top["capacity_residents"]],
            T["load"]: [fmt_people(v) for v in top["load"]],
            T["within"]: [fmt_people(v) for v in top["population_within"]],
            T["unserved"]: [fmt_people(v) for v in top["unserved_within"]],
        }
    )


def _fairness(life: LifeCircleResult, T: dict[str, Any]) -> pd.DataFrame:
    wide = life.fairness_table("halls")
    out = pd.DataFrame(
        {
            T["measure"]: [T["measures"].get(m, m) for m in wide["measure"]],
            T["across"]: [T["acrosses"].get(a, a) for a in wide["across"]],
        }
    )
    for col in wide.columns[2:]:
        index, when = col.rsplit("_", 1)
        out[f"{index.capitalize()} ({T[when]})"] = [f"{v:.3f}" for v in wide[col]]
    return out
