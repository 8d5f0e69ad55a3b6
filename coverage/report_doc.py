"""The content of the report, in order, as plain blocks shared by ``report.html`` and ``report.docx``.

The story an official can hand upward: what was measured, the headline,
straight-line circle against the walking area, the tables by area, the
gaps and where they are, the proposed sites and where they are, the
coverage curve, and the caveats (estimates, stand-ins). Every table cell is
already formatted text (people as whole numbers, shares as percentages,
coordinates in WGS-84 and GCJ-02), so both renderers show the same thing;
they escape the text for their own format.
"""

from __future__ import annotations

import datetime as dt
import io as _io
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._format import fmt_people, fmt_share, group_name, labels
from ._report_tables import area_table, circle_table, gap_table, site_table
from ._text import display

if TYPE_CHECKING:
    from .pipeline import RunResult

__all__ = ["MAX_ROWS", "Block", "ReportDoc", "build_report", "curve_chart"]

#: Most rows of each report table; a longer table (a whole city's halls,
#: communities or gaps) shows its first rows in a stated order and names the
#: CSV that has them all, so report.html and report.docx stay readable.
MAX_ROWS = {"halls": 30, "areas": 100, "communities": 100, "gaps": 30, "sites": 100}

TEXT = {
    "zh": {
        "measured": "分析方法与范围",
        "measured_p": (
            "本报告按真实步行路网计算居民到{halls}的步行距离：沿{network_km} 公里可步行道路，"
            "{radius} 米以内即视为“覆盖”。居民共 {total} 人。{source}"
        ),
        "headline": "主要结论",
        "headline_p": (
            "{covered} 人（{share}）住在{halls}{radius} 米步行范围内；{uncovered} 人未覆盖{unreachable_text}。"
        ),
        "unreachable_text": "，另有 {n} 人距步行路网过远（未接入路网）",
        "circle_p": (
            "若按传统做法以站点为圆心画 {radius} 米直线圆，会算作覆盖 {circle} 人（{circle_share}），"
            "高估 {pp} 个百分点：直线圆忽略了河流、围墙、快速路和绕行。"
        ),
        "plan_p": "在建议的 {n} 个位置新增站点后，覆盖将提高到 {after} 人（{after_share}），增加 {gain} 人。",
        "circle": "直线圆与步行范围",
        "circle_intro": "各站点的步行可达范围与同半径直线圆的比较（面积比越小，直线圆高估越多）。",
        "map_caption": (
            "图 1　覆盖情况总图（蓝色：步行可达范围；虚线圆：直线圆；橙色：未覆盖居民；紫色数字：建议新增站点）"
        ),
        "by_area": "各片区覆盖情况",
        "by_community": "各社区覆盖情况",
        "gaps": "服务空白区",
        "gaps_intro": "未覆盖居民集中的区域，按人口从多到少排列；坐标为空白区中心点。",
        "sites": "建议新增站点",
        "sites_intro": "按建设顺序排列；每个站点的“新增覆盖居民”已扣除前面站点覆盖的人。",
        "curve": "覆盖曲线",
        "curve_caption": "图 2　新增站点数与覆盖率（每个点为该站点数下的最优或近似最优方案）",
        "caveats": "说明与局限",
        "estimate": "人口为估算值：{note}",
        "stand_in": "站点为替代点，并非真实服务站点：{label}。",
        "unsnapped": "{n} 个站点距最近步行路网超过 {limit} 米，本次分析中不服务任何居民，请核对其坐标。",
        "osm": "步行路网来自 OpenStreetMap，可能缺少小区内部道路或新建道路；步行距离因此可能偏长。",
        "coords": "坐标给出 WGS-84（GPS、天地图）与 GCJ-02（高德、腾讯地图）两种；在高德地图中请使用 GCJ-02。",
        "made": "制作日期：{date}。地图数据 © OpenStreetMap 贡献者（ODbL）。",
        "no_gaps": "没有未覆盖居民集中的区域。",
        "no_plan": "本次未规划新增站点。",
        "none": "无",
        "capped": "仅列出{order}前 {n} 行（共 {total} 行）；完整数据见 tables.xlsx 与 tables/{csv}.csv。",
        "order_uncovered": "未覆盖居民最多的",
        "order_ratio": "面积比最小的",
        "order_people": "人口最多的",
    },
    "en": {
        "measured": "What was measured",
        "measured_p": (
            "This report measures the walk from each resident to the nearest of the {halls} along the real "
            "street network ({network_km} km of walkable streets); within {radius} m counts as covered. "
            "Residents: {total}. {source}"
        ),
        "headline": "Headline",
        "headline_p": "{covered} residents ({share}) live within a {radius} m walk of the {halls}; "
        "{uncovered} are not covered{unreachable_text}.",
        "unreachable_text": ", and {n} live too far from any walkable street",
        "circle_p": (
            "A straight-line {radius} m circle around each site would claim {circle} ({circle_share}), "
            "overstating coverage by {pp} percentage points: circles ignore rivers, walls, expressways and detours."
        ),
        "plan_p": "New sites at the {n} proposed places would raise coverage to {after} ({after_share}), +{gain}.",
        "circle": "Straight-line circle against the walking area",
        "circle_intro": "Each site's walking area against the circle of the same radius (the smaller the ratio, "
        "the more the circle overstates).",
        "map_caption": "Figure 1. Overview (blue: walking area; dotted circles: straight-line circles; "
        "orange: residents not covered; purple numbers: proposed sites)",
        "by_area": "Coverage by area",
        "by_community": "Coverage by community",
        "gaps": "Gap areas",
        "gaps_intro": "Where residents who are not covered cluster, largest first; coordinates are each gap's centre.",
        "sites": "Proposed new sites",
        "sites_intro": "In build order; each site's added residents exclude those covered by the sites before it.",
        "curve": "Coverage curve",
        "curve_caption": "Figure 2. New sites against coverage (optimal or near-optimal plan for each number)",
        "caveats": "Notes and limits",
        "estimate": "Population figures are estimates: {note}",
        "stand_in": "The sites are stand-ins, not the real halls: {label}.",
        "unsnapped": "{n} site(s) lie more than {limit} m from any walkable street and serve nobody in this "
        "analysis; check their coordinates.",
        "osm": "The walking network comes from OpenStreetMap and may miss paths inside compounds or new streets; "
        "walks may therefore be overestimated.",
        "coords": "Coordinates are given in WGS-84 (GPS, Tianditu) and GCJ-02 (Amap, Tencent); use GCJ-02 in Amap.",
        "made": "Made {date}. Map data © OpenStreetMap contributors (ODbL).",
        "no_gaps": "No clusters of residents without coverage.",
        "no_plan": "No new sites were planned in this run.",
        "none": "none",
        "capped": "The first {n} of {total} rows{order}; every row is in tables.xlsx and tables/{csv}.csv.",
        "order_uncovered": " (most residents not covered first)",
        "order_ratio": " (smallest ratio first)",
        "order_people": " (most residents first)",
    },
}


@dataclass
class Block:
    """One piece of the report: ``h1``, ``h2``, ``p``, ``note``, ``table`` or ``figure``."""

    kind: str
    text: str = ""
    table: pd.DataFrame | None = None
    image: bytes | None = None


@dataclass
class ReportDoc:
    """The report as blocks, with its language and title."""

    lang: str
    title: str
    blocks: list[Block] = field(default_factory=list)

    def add(self, kind: str, text: str = "", **kw: Any) -> None:
        """Append a block."""
        self.blocks.append(Block(kind, text, **kw))


def curve_chart(curve: pd.DataFrame, *, lang: str, k_chosen: int | None = None) -> bytes:
    """Return a PNG of covered share against the number of new sites."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from ._static_parts import quiet_font_fallback
    from .static_map import cjk_font

    font = cjk_font()
    rc: dict[Any, Any] = {"font.family": [font, "DejaVu Sans"] if font else ["DejaVu Sans"]}
    with plt.rc_context(rc), quiet_font_fallback():
        fig, ax = plt.subplots(figsize=(6.4, 3.4))
        share = curve["covered_share"].to_numpy(dtype=float) * 100
        ax.plot(curve["k"], share, marker="o", color="#ae3ec9")
        if k_chosen is not None and (curve["k"] == k_chosen).any():
            y = float(share[np.flatnonzero(curve["k"].to_numpy() == k_chosen)[0]])
            ax.annotate(f"{y:.1f}%", (k_chosen, y), textcoords="offset points", xytext=(6, -14), fontsize=9)
        ax.set_xlabel("新增站点数" if lang == "zh" else "new sites")
        ax.set_ylabel("覆盖率（%）" if lang == "zh" else "covered (%)")
        ax.grid(alpha=0.3)
        ax.set_xticks(curve["k"].to_numpy())
        fig.tight_layout()
        buf = _io.BytesIO()
        fig.savefig(buf, format="png", dpi=130, metadata={"Software": None})
        plt.close(fig)
    return buf.getvalue()


def _main(summary: pd.DataFrame) -> str:
    groups = summary["group"].astype(str).tolist()
    return "residents" if "residents" in groups else groups[0]


def build_report(
    result: RunResult,
    *,
    lang: str,
    title: str,
    halls_label: str,
    source_note: str,
    stand_in: bool,
    map_png: bytes | None,
    street_of: Any = None,
    estimate_note: str | None = None,
    date: dt.date | None = None,
) -> ReportDoc:
    """Build the report's blocks from a run; see the module notes.

    ``street_of`` maps projected points (n x 2) to the nearest named street
    (a list of str), if street names are known. ``estimate_note`` replaces
    the coverage result's own (English) note on estimates, e.g. with the
    scenario's source note in the report's language.
    """
    L = labels(lang)
    T = TEXT[lang]
    doc = ReportDoc(lang=lang, title=display(title, 300))
    doc.add("h1", doc.title)
    cov = result.coverage
    net = result.network
    plan = result.plan
    halls_text = display(halls_label, 200) or L["halls"]
    if cov is not None:
        s = cov.summary.set_index("group")
        main = _main(cov.summary)
        row = s.loc[main]
        r = f"{cov.radius_m:g}"
        doc.add("h2", T["measured"])
        doc.add(
            "p",
            T["measured_p"].format(
                halls=halls_text,
                network_km=f"{net.edge_length_m.sum() / 1000:,.1f}" if net is not None else "?",
                radius=r,
                total=fmt_people(row.total),
                source=display(source_note, 600),
            ),
        )
        doc.add("h2", T["headline"])
        unreachable = T["unreachable_text"].format(n=fmt_people(row.unreachable)) if row.unreachable >= 0.5 else ""
        doc.add(
            "p",
            T["headline_p"].format(
                covered=fmt_people(row.covered),
                share=fmt_share(row.covered_share),
                halls=halls_text,
                radius=r,
                uncovered=fmt_people(row.uncovered),
                unreachable_text=unreachable,
            ),
        )
        doc.add(
            "p",
            T["circle_p"].format(
                radius=r,
                circle=fmt_people(row.circle_covered),
                circle_share=fmt_share(row.circle_share),
                pp=f"{row.circle_overstatement_pp:.1f}",
            ),
        )
        if plan is not None and len(plan.sites):
            a = plan.after.summary.set_index("group").loc[main]
            doc.add(
                "p",
                T["plan_p"].format(
                    n=len(plan.sites),
                    after=fmt_people(a.covered),
                    after_share=fmt_share(a.covered_share),
                    gain=fmt_people(a.covered - row.covered),
                ),
            )
        for group in s.index:
            if group == main:
                continue
            g = s.loc[group]
            doc.add(
                "p",
                f"{group_name(str(group), lang)}{L['colon']}"
                f"{fmt_people(g.covered)} / {fmt_people(g.total)}（{fmt_share(g.covered_share)}）",
            )
    if map_png is not None:
        doc.add("figure", T["map_caption"], image=map_png)
    if result.areas is not None:
        doc.add("h2", T["circle"])
        doc.add("p", T["circle_intro"])
        _add_table(doc, circle_table(result, L, lang), "halls", "service_areas", T["order_ratio"])
    if cov is not None and cov.areas is not None and len(cov.areas):
        doc.add("h2", T["by_area"])
        _add_table(
            doc,
            area_table(_most_uncovered(cov.areas, "areas"), L, lang),
            "areas",
            "coverage_by_area",
            T["order_uncovered"],
            total=len(cov.areas),
        )
    communities = getattr(cov, "communities", None) if cov is not None else None
    if communities is not None and len(communities) and "area" in communities.columns:
        doc.add("h2", T["by_community"])
        _add_table(
            doc,
            area_table(_most_uncovered(communities, "communities"), L, lang),
            "communities",
            "coverage_by_community",
            T["order_uncovered"],
            total=len(communities),
        )
    if cov is not None:
        doc.add("h2", T["gaps"])
        gaps = cov.gaps[cov.gaps["group"].astype(str) == _main(cov.summary)]
        if len(gaps):
            doc.add("p", T["gaps_intro"])
            shown = gaps.sort_values("population", ascending=False, kind="stable").head(MAX_ROWS["gaps"])
            _add_table(doc, gap_table(shown, L, lang, street_of), "gaps", "gaps", T["order_people"], total=len(gaps))
        else:
            doc.add("p", T["no_gaps"])
    doc.add("h2", T["sites"])
    if plan is not None and len(plan.sites):
        doc.add("p", T["sites_intro"])
        _add_table(
            doc,
            site_table(plan.sites.head(MAX_ROWS["sites"]), L, lang, street_of),
            "sites",
            "proposed_sites",
            "",
            total=len(plan.sites),
        )
        if len(plan.curve) > 1:
            doc.add("h2", T["curve"])
            doc.add("figure", T["curve_caption"], image=curve_chart(plan.curve, lang=lang, k_chosen=len(plan.sites)))
    else:
        doc.add("p", T["no_plan"])
    life = getattr(result, "life_circle", None)
    if life is not None:
        from ._life_report import life_circle_blocks

        for kind, text, table in life_circle_blocks(life, lang):
            doc.add(kind, text, table=table)
    doc.add("h2", T["caveats"])
    for note in _caveats(result, T, halls_text, stand_in, estimate_note):
        doc.add("note", note)
    doc.add("p", T["made"].format(date=(date or dt.date.today()).isoformat()))
    return doc


def _most_uncovered(areas: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Return the areas, or (when more than the table shows) those with most residents not covered first."""
    if len(areas) <= MAX_ROWS[kind]:
        return areas
    missing = areas["total"].astype(float) - areas["covered"].astype(float)
    order = np.argsort(-missing.to_numpy(), kind="stable")[: MAX_ROWS[kind]]
    return areas.iloc[order]


def _add_table(
    doc: ReportDoc, table: pd.DataFrame, kind: str, csv: str, order: str, *, total: int | None = None
) -> None:
    """Add a table of at most ``MAX_ROWS[kind]`` rows, with a note naming the CSV when rows were left out."""
    total = len(table) if total is None else total
    limit = MAX_ROWS[kind]
    doc.add("table", table=table.head(limit))
    if total > limit:
        T = TEXT[doc.lang]
        doc.add("note", T["capped"].format(n=limit, total=f"{total:,}", csv=csv, order=order))


def _caveats(
    result: RunResult, T: dict[str, str], halls_text: str, stand_in: bool, estimate_note: str | None
) -> list[str]:
    out = []
    cov = result.coverage
    if cov is not None and cov.estimate:
        out.append(T["estimate"].format(note=display(estimate_note or cov.estimate_note, 600)))
    if stand_in:
        out.append(T["stand_in"].format(label=halls_text))
    if result.areas is not None and "snapped" in result.areas.sites.columns:
        n = int((~result.areas.sites["snapped"].astype(bool)).sum())
        if n:
            limit = f"{float(result.scenario['']['max_snap_m']):g}"
            out.append(T["unsnapped"].format(n=n, limit=limit))
    out += [T["osm"], T["coords"]]
    return out
