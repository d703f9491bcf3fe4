"""The public recall page (no sign-in): the disclosure feed (item 22, 及时向社会公示) as a searchable page and
as Atom, beside the worker's JSON feed (`GET /v1/recalls/published`), which both are read from.

Only the notice's own public fields are shown (a whitelist): the feed carries no holder data, and nothing
here reads the registrations or the directory.
"""

from __future__ import annotations

import unicodedata
from xml.etree import ElementTree as ET

import httpx
from aiohttp import web

from console import i18n
from console.web import CONSOLE, render

PUBLIC = ("recall_number", "status", "published_on", "producer", "product_name", "product_kind", "brand", "model",
          "batch", "barcode", "production_from", "production_to", "hazard_type", "hazard_description", "remedy",
          "risk_level", "sales_regions", "received_at")
SEARCHED = ("recall_number", "producer", "product_name", "brand", "model", "batch", "barcode", "hazard_type")
MAX_PAGES = 50  # 5,000 notices at 100 a page
ATOM = "http://www.w3.org/2005/Atom"

i18n.WORDS.update({
    "pub.title": ("儿童用品召回公示", "Children's product recalls"),
    "pub.intro": ("市场监管部门发布的儿童用品召回信息。", "Recalls of children's products published by market regulators."),
    "pub.search": ("搜索（产品、品牌、型号、条码、编号）", "Search (product, brand, model, barcode, number)"),
    "pub.go": ("搜索", "Search"), "pub.none": ("没有符合的召回。", "No recall matches."),
    "pub.count": ("共 {n} 条", "{n} recall(s)"), "pub.atom": ("订阅（Atom）", "Subscribe (Atom)"),
    "pub.unavailable": ("召回信息暂时无法读取，请稍后再试。", "The recall list cannot be read now; try again later."),
    "pub.register": ("家长：登记您孩子的用品，召回时短信通知您", "Guardians: register your children's products to be told of recalls"),
})


class FeedUnavailable(Exception):
    pass


def fold(text: str) -> str:
    """Full-width → half-width, case-folded, zero-width and format characters dropped (for searching)."""
    folded = unicodedata.normalize("NFKC", text or "").casefold()
    return "".join(c for c in folded if unicodedata.category(c) != "Cf").strip()


def public_entry(entry: dict) -> dict:
    return {k: entry.get(k) for k in PUBLIC}


def search(entries: list[dict], query: str) -> list[dict]:
    q = fold(query)[:100]
    if not q:
        return entries
    return [e for e in entries if any(q in fold(str(e.get(k) or "")) for k in SEARCHED)]


async def feed(request: web.Request) -> list[dict]:
    """Every notice of the disclosure feed, newest first, public fields only."""
    intake = request.app[CONSOLE].intake
    out: list[dict] = []
    try:
        async with intake.client() as client:
            for page in range(1, MAX_PAGES + 1):
                resp = await client.get(f"{intake.base_url}/v1/recalls/published", params={"page": page, "per_page": 100})
                resp.raise_for_status()
                data = resp.json()
                out += [public_entry(e) for e in data["items"]]
                if len(out) >= data["total"] or not data["items"]:
                    break
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        raise FeedUnavailable(str(exc)) from exc
    return out


async def page(request: web.Request) -> web.Response:
    query = request.query.get("q", "")[:100]
    try:
        entries = search(await feed(request), query)
    except FeedUnavailable:
        return render(request, "public_recalls.html", status=503, entries=[], q=query, unavailable=True)
    from console.recalls import ACTION, KIND, RISK
    return render(request, "public_recalls.html", entries=entries, q=query, unavailable=False, actions=ACTION,
                  kinds=KIND, risks=RISK)


def atom(entries: list[dict], self_url: str, updated: str) -> bytes:
    ET.register_namespace("", ATOM)
    root = ET.Element(f"{{{ATOM}}}feed")
    for tag, text in (("title", "儿童用品召回公示 · Children's product recalls"), ("id", "urn:childsafe:recalls"),
                      ("updated", updated)):
        ET.SubElement(root, f"{{{ATOM}}}{tag}").text = text
    ET.SubElement(root, f"{{{ATOM}}}link", rel="self", href=self_url)
    ET.SubElement(ET.SubElement(root, f"{{{ATOM}}}author"), f"{{{ATOM}}}name").text = "ChildSafe"
    for e in entries:
        item = ET.SubElement(root, f"{{{ATOM}}}entry")
        status = {"updated": "【更新】", "withdrawn": "【撤回】"}.get(e["status"], "")
        ET.SubElement(item, f"{{{ATOM}}}title").text = f"{status}{e['product_name']}（{e['recall_number']}）"
        ET.SubElement(item, f"{{{ATOM}}}id").text = f"urn:childsafe:recall:{e['recall_number']}"
        ET.SubElement(item, f"{{{ATOM}}}updated").text = e.get("received_at") or f"{e['published_on']}T00:00:00+08:00"
        ET.SubElement(item, f"{{{ATOM}}}published").text = f"{e['published_on']}T00:00:00+08:00"
        ET.SubElement(item, f"{{{ATOM}}}link", rel="alternate",
                      href=f"/public/recalls?q={e['recall_number']}")
        ET.SubElement(item, f"{{{ATOM}}}summary").text = (
            f"{e['producer']} {e.get('brand') or ''} {e.get('model') or ''}：{e['hazard_type']}。"
            f"{e['hazard_description']} 措施：{e['remedy']}")
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="utf-8")


async def atom_feed(request: web.Request) -> web.Response:
    try:
        entries = search(await feed(request), request.query.get("q", "")[:100])
    except FeedUnavailable:
        return web.Response(status=503, text="the recall feed cannot be read now")
    updated = max((e.get("received_at") or "" for e in entries), default="") or \
        request.app[CONSOLE].clock.now().isoformat()
    return web.Response(body=atom(entries, str(request.url), updated), content_type="application/atom+xml",
                        charset="utf-8")


def routes() -> list:
    return [web.get("/public/recalls", page), web.get("/public/recalls.atom", atom_feed)]
