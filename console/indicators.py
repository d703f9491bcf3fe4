"""The province's indicators page (plan item 28): figures from `consumers.indicators.queries`, rendered as tables,
ECharts charts and CSV / XLSX downloads. Drill-down province → city → district; a city's people see only their city.

Nothing is counted here: every figure, and whether it is shown at all (small cells), comes from the query module.
"""

from __future__ import annotations

import asyncio
import csv
import io

from aiohttp import web
from openpyxl import Workbook

from console import i18n
from console.web import CONSOLE, IDENTITY, lang_of, render
from consumers.cases.access import indicator_area_in_scope, require
from consumers.cases.errors import CaseNotFound, InvalidCaseInput
from consumers.indicators.facts import month_of
from consumers.indicators.queries import IndicatorInputError, IndicatorPage, Row, indicator_page
from consumers.indicators.suppression import Cell

HIDDEN = "*"  # a suppressed cell, explained under every table and in every export
WORDS: dict[str, tuple[str, str]] = {
    "title": ("儿童友好城市监测指标", "Child-friendly city indicators"),
    "month": ("月份", "Month"), "show": ("查看", "Show"), "trail": ("所在层级", "Where you are"),
    "area": ("地区", "Area"), "children": ("儿童人口", "Children (0-17)"),
    "incidents": ("事件数", "Incidents"), "per10k": ("每万名儿童", "per 10,000 children"),
    "cases": ("强制报告个案", "Mandatory cases"), "forwarded": ("15分钟内转送公安", "Forwarded within 15 min"),
    "acknowledged": ("1小时内确认接报", "Acknowledged within 1 h"), "breaches": ("超时", "Breaches"),
    "escalations": ("升级督办", "Escalations"), "recalls": ("召回", "Recalls"),
    "recall_reach": ("召回短信触达", "Recall SMS reach"), "recall_delivered": ("召回短信送达率", "Recall SMS delivered"),
    "drills": ("演练次数", "Drills held"), "overdue": ("逾期未疏散演练学校", "Schools overdue for a drill"),
    "sms": ("短信发送", "SMS sent"), "sms_delivered": ("短信送达率", "SMS delivered"),
    "total": ("合计", "Total"), "by_category": ("按类别的事件（每万名儿童）", "Incidents by category (per 10,000 children)"),
    "timeliness": ("强制报告时效与处置", "Mandatory reporting: timeliness and follow-up"),
    "recalls_drills": ("召回、演练与短信", "Recalls, drills and SMS"),
    "chart.incidents": ("各地区每万名儿童事件数", "Incidents per 10,000 children by area"),
    "chart.timeliness": ("各地区转送与确认及时率", "On-time forwarding and acknowledgement by area"),
    "chart.alt": ("图表内容见下方表格。", "The figures of this chart are in the table below."),
    "hidden": ("* 涉及儿童少于5人，或可由其他数字推算出此类数字，为保护儿童不予显示。",
               "* About fewer than 5 children, or could be worked out from the other figures: not shown, so that no "
               "child can be singled out."),
    "no_rate": ("— 无儿童人口数据，不计算比率；或无可计算的数据。", "— no child population on record for a rate, or nothing to compute."),
    "sms_unknown": ("另有 {sent} 条短信（送达 {delivered} 条）的接收人不在名录中，地区不明，未计入上表。",
                    "{sent} more SMS ({delivered} delivered) went to recipients the directory did not place: district "
                    "unknown, counted in no area above."),
    "export": ("导出", "Export"), "csv": ("CSV 表格", "CSV"), "xlsx": ("Excel 表格", "Excel (XLSX)"),
    "of_month": ("{area} · {month}", "{area} · {month}"),
}


def w(key: str, lang: str, **kw) -> str:
    text = i18n.pick(WORDS[key], lang)
    return text.format(**kw) if kw else text


def _scope(request: web.Request, area: str) -> None:
    principal = request[IDENTITY].principal
    require(principal, "indicators")  # 403 for every other role
    if not indicator_area_in_scope(principal, area):
        raise CaseNotFound(f"area {area[:12]!r} is not one of yours")  # another city's figures are "not found"


def _month(request: web.Request) -> str:
    return request.query.get("month") or month_of(request.app[CONSOLE].clock.now())


async def _page(request: web.Request) -> IndicatorPage:
    console, area = request.app[CONSOLE], request.match_info["area"]
    _scope(request, area)
    month, now = _month(request), console.clock.now()

    def read() -> IndicatorPage:
        with console.factory() as session:
            return indicator_page(session, area, month, now, console.drill_period_days)
    try:
        return await asyncio.to_thread(read)
    except IndicatorInputError as exc:
        raise InvalidCaseInput(exc.errors) from None  # 422 with the field named, like every refusal


async def home(request: web.Request) -> web.Response:
    principal = request[IDENTITY].principal
    require(principal, "indicators")
    raise web.HTTPSeeOther(f"/indicators/{principal.unit_id}")


def fmt(value, share: bool = False) -> str:
    if value is None:
        return "—"
    if share:
        return f"{value * 100:.1f}%"
    return f"{value:,.2f}" if isinstance(value, float) else f"{value:,}"


def cell(c: Cell, share: bool = False) -> str:
    return HIDDEN if c.hidden else fmt(c.value, share)


def rate(row: Row, c: Cell) -> str:
    return HIDDEN if c.hidden else fmt(row.per_10k(c))


def share(part: int, whole: int) -> str:
    return fmt(part / whole if whole else None, share=True)


def chart_data(page: IndicatorPage, lang: str) -> dict:
    """What the charts draw: only figures the tables show (a hidden cell is a gap, never a number)."""
    rows = page.rows
    return {
        "areas": [r.area.name for r in rows],
        "incidents_per_10k": [None if r.incidents_total.hidden else r.per_10k(r.incidents_total) for r in rows],
        "forwarded": [None if r.forwarded_in_time.shown is None else round(r.forwarded_in_time.shown * 100, 1)
                      for r in rows],
        "acknowledged": [None if r.acknowledged_in_time.shown is None else round(r.acknowledged_in_time.shown * 100, 1)
                         for r in rows],
        "labels": {"per10k": w("per10k", lang), "forwarded": w("forwarded", lang),
                   "acknowledged": w("acknowledged", lang)},
    }


async def page(request: web.Request) -> web.Response:
    result = await _page(request)
    lang = lang_of(request)
    return render(request, "indicators.html", page=result, w=lambda k, **kw: w(k, lang, **kw), cell=cell, rate=rate,
                  share=share, fmt=fmt, chart=chart_data(result, lang), hidden_mark=HIDDEN)


# --- exports ---------------------------------------------------------------------------------------------------

def export_rows(page: IndicatorPage, lang: str) -> tuple[list[str], list[list]]:
    """One table: a row per area and the total; suppressed cells are '*', exactly as on the page."""
    categories = page.categories
    head = [w("area", lang), "code", w("children", lang), w("incidents", lang), f'{w("incidents", lang)} {w("per10k", lang)}']
    head += [f"{i18n.label(i18n.CATEGORY, c, lang)}" for c in categories]
    head += [f"{i18n.label(i18n.CATEGORY, c, lang)} {w('per10k', lang)}" for c in categories]
    head += [w(k, lang) for k in ("cases", "forwarded", "acknowledged", "breaches", "escalations", "recalls",
                                  "recall_reach", "recall_delivered", "drills", "overdue", "sms", "sms_delivered")]
    body = []
    for r in [*page.rows, *([page.total] if page.area.level != "district" else [])]:
        name = r.area.name if r is not page.total else f'{w("total", lang)} {r.area.name}'
        line = [name, r.area.code, r.population, _raw(r.incidents_total), _raw_rate(r, r.incidents_total)]
        line += [_raw(r.incidents[c]) for c in categories] + [_raw_rate(r, r.incidents[c]) for c in categories]
        line += [_raw(r.cases), _ratio(_raw(r.forwarded_in_time)), _ratio(_raw(r.acknowledged_in_time)),
                 _raw(r.breaches), _raw(r.escalations), r.recalls, r.recall_recipients,
                 _ratio(r.recall_delivered_share), r.drills_done, r.drills_overdue, r.sms_sent,
                 _ratio(r.sms_delivered_share)]
        body.append(line)
    return head, body


def _raw(c: Cell):
    return HIDDEN if c.hidden else c.value


def _ratio(value):
    """Shares as fractions to 4 places (0.5294 = 52.94 %), the same in CSV and XLSX."""
    return round(value, 4) if isinstance(value, float) else value


def _raw_rate(r: Row, c: Cell):
    return HIDDEN if c.hidden else r.per_10k(c)


def _safe(value):
    """A spreadsheet must not run a name as a formula (=, +, -, @ at the start)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _filename(page: IndicatorPage, ext: str) -> str:
    return f"indicators-{page.area.code}-{page.month}.{ext}"


async def export_csv(request: web.Request) -> web.Response:
    result, lang = await _page(request), lang_of(request)
    head, body = export_rows(result, lang)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(head)
    writer.writerows([[_safe("" if v is None else v) for v in line] for line in body])
    writer.writerow([w("hidden", lang)])
    return web.Response(body=("\ufeff" + out.getvalue()).encode(), content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{_filename(result, "csv")}"'})


async def export_xlsx(request: web.Request) -> web.Response:
    result, lang = await _page(request), lang_of(request)
    head, body = export_rows(result, lang)
    book = Workbook()
    sheet = book.active
    sheet.title = result.month
    sheet.append(head)
    for line in body:
        sheet.append([_safe(v) for v in line])
    sheet.append([w("hidden", lang)])
    out = io.BytesIO()
    book.save(out)
    return web.Response(body=out.getvalue(),
                        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="{_filename(result, "xlsx")}"'})


def routes() -> list[web.RouteDef]:
    return [web.get("/indicators", home), web.get(r"/indicators/{area:[^/]+}", page),
            web.get(r"/indicators/{area:[^/]+}/export.csv", export_csv),
            web.get(r"/indicators/{area:[^/]+}/export.xlsx", export_xlsx)]


