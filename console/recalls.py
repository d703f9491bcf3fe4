"""The market regulator's recall desk (市场监管): publish a recall after a preview of exactly what will happen,
review weak matches, update or withdraw, and see each recall's reach and delivery.

- Publishing goes through the intake's `POST /v1/recalls` (the console's intake token), like any recall: the
  streams worker matches, alerts and discloses it; the console never writes the recall to Kafka itself.
- The preview composes the SMS with the alerts library's own template (`consumers.sms.compose.AlertBodies`,
  the fan-out's composer) from the parameters the stream will send (`contracts.recall_match.recall_alert_params`),
  and counts the reach with the stream's own grading (`contracts.recall_match.holder_grade`) over the
  registrations in the database.
- Weak matches (never alerted by the stream) are listed for review; confirming one sends that holder the
  recall alert through the case outbox (the relay in the case consumer publishes it to alerts.requested).
"""

from __future__ import annotations

import asyncio
import hashlib
from datetime import datetime
from itertools import groupby

from aiohttp import web
from multidict import MultiDict, MultiMapping
from sqlalchemy import ForeignKey, Integer, String, Text, and_, case, func, literal, null, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

import console.accounts  # noqa: F401  (console_users, which recalls refer to)
from alerts.body_rules import BodyRules
from alerts.composition import alert_ref
from alerts.errors import AlertsError
from console import i18n
from console.forms import FormError, intake_errors, validate
from console.web import CONSOLE, IDENTITY, lang_of, new_key, redirect, render
from consumers.cases.access import Role
from consumers.cases.columns import UtcDateTime
from consumers.cases.errors import CaseNotFound as NotFound
from consumers.cases.errors import Forbidden
from consumers.cases.errors import IllegalTransition as Conflict
from consumers.cases.tracking import OutboxMessage
from consumers.sms.compose import AlertBodies
from consumers.store.core import Agency
from consumers.store.db import Base, transaction
from consumers.store.directory import ProductRegistration
from consumers.store.sms_ledger import SmsLedgerEntry
from contracts.alert_request import AlertKind, AlertRequested, RecallHolders
from contracts.common import Priority
from contracts.errors import ContractError
from contracts.events import AlertRequestedEvent
from contracts.recall import ProductKind, RecallAction, RecallPublished, RiskLevel
from contracts.recall_match import (
    Grade,
    Product,
    RecallKeys,
    holder_grade,
    recall_alert_params,
)

REGULATOR = "market_regulation"
FIELDS = ("recall_number", "producer", "product_name", "product_kind", "brand", "model", "barcode", "batch",
          "production_from", "production_to", "hazard_type", "hazard_description", "remedy", "risk_level",
          "sales_regions")
REF_SHOWN = "XXXXXXXX"  # the alert reference: 8 characters, assigned when the stream issues the alert
SOURCE = "/childsafe/console/recalls"

i18n.WORDS.update({
    "nav.recalls": ("召回发布", "Recalls"),
    "rc.title": ("产品召回", "Product recalls"), "rc.new": ("发布新的召回", "Publish a new recall"),
    "rc.mine": ("本单位发布的召回", "Recalls published by your unit"), "rc.none": ("尚未发布召回。", "No recalls yet."),
    "rc.number": ("召回编号", "Recall number"), "rc.producer": ("生产者", "Producer"),
    "rc.product": ("产品名称", "Product"), "rc.kind": ("产品类别", "Product kind"), "rc.brand": ("品牌", "Brand"),
    "rc.model": ("型号", "Model"), "rc.gtin": ("商品条码（GTIN，8/12/13/14 位）", "Barcode (GTIN, 8/12/13/14 digits)"),
    "rc.batch": ("批次", "Batch"), "rc.from": ("生产日期自", "Produced from"), "rc.to": ("生产日期至", "Produced to"),
    "rc.hazard": ("危害类型", "Hazard"), "rc.hazard_description": ("危害描述", "Hazard description"),
    "rc.remedy": ("补救措施", "Remedy"), "rc.risk": ("风险等级", "Risk level"),
    "rc.regions": ("销售地区（行政区划代码，逗号分隔）", "Sales regions (district codes, comma-separated)"),
    "rc.preview": ("预览", "Preview"), "rc.publish": ("确认发布", "Publish"), "rc.edit": ("返回修改", "Back to edit"),
    "rc.preview.title": ("发布前预览", "Preview before publishing"),
    "rc.sms": ("短信正文（中文）", "SMS body (Chinese)"), "rc.sms.en": ("短信正文（英文）", "SMS body (English)"),
    "rc.segments": ("{n} 条短信计费段", "{n} SMS segment(s)"),
    "rc.ref_note": ("XXXXXXXX 处为发送时分配的 8 位编号。", "XXXXXXXX is the 8-character reference assigned when it is sent."),
    "rc.reach": ("预计触达", "Expected reach"), "rc.exact": ("完全匹配（条码+批次）", "Exact (barcode + batch)"),
    "rc.strong": ("强匹配（条码，或品牌+型号）", "Strong (barcode, or brand + model)"),
    "rc.weak": ("弱匹配（待人工审核，不自动通知）", "Weak (held for review, not notified)"),
    "rc.holders": ("{n} 个持有者", "{n} holder(s)"), "rc.notified": ("将收到短信：{n} 个持有者", "Will be told by SMS: {n} holder(s)"),
    "rc.sms.refused": ("短信无法组成：{msg}", "The SMS cannot be composed: {msg}"),
    "rc.published": ("召回 {n} 已提交发布。", "Recall {n} submitted for publication."),
    "rc.updated": ("召回 {n} 的更新已提交。", "Update of recall {n} submitted."),
    "rc.withdrawn": ("召回 {n} 已撤回，尚未发出的短信已取消。", "Recall {n} withdrawn; messages not yet sent are cancelled."),
    "rc.taken": ("召回编号 {n} 已被使用。", "Recall number {n} is already in use."),
    "rc.status": ("状态", "Status"), "rc.delivery": ("送达情况", "Delivery"),
    "rc.delivery.line": ("短信 {total} 条：已提交 {accepted}，已送达 {delivered}，失败 {failed}，等待 {waiting}，取消 {cancelled}，退订跳过 {skipped}",
                         "{total} SMS: accepted {accepted}, delivered {delivered}, failed {failed}, waiting {waiting}, cancelled {cancelled}, skipped (opted out) {skipped}"),
    "rc.review": ("弱匹配审核", "Weak-match review"), "rc.review.none": ("没有待审核的弱匹配。", "No weak match to review."),
    "rc.confirm": ("确认并通知", "Confirm and notify"), "rc.dismiss": ("排除", "Dismiss"),
    "rc.review.confirmed": ("已确认并通知", "confirmed, notified"), "rc.review.dismissed": ("已排除", "dismissed"),
    "rc.holder": ("持有者", "Holder"), "rc.reason": ("匹配依据", "Why"),
    "rc.update": ("更新召回", "Update the recall"), "rc.withdraw": ("撤回召回", "Withdraw the recall"),
    "rc.withdraw.note": ("撤回后，尚未发出的召回短信将被取消；已发出的不会收回。",
                         "Withdrawing cancels the recall's messages not yet sent; sent ones stay sent."),
    "rc.not_regulator": ("只有市场监管部门的值班人员可以发布召回。", "Only market-regulation duty officers publish recalls."),
    "rc.withdrawn.state": ("已撤回", "withdrawn"), "rc.published.state": ("已发布", "published"),
    "rc.updated.state": ("已更新", "updated"),
})
ACTION = {"published": ("已发布", "published"), "updated": ("已更新", "updated"), "withdrawn": ("已撤回", "withdrawn")}
KIND = {"toy": ("玩具", "Toy"), "crib": ("婴儿床", "Crib"), "child_car_seat": ("儿童安全座椅", "Child car seat"),
        "stationery": ("文具", "Stationery"), "clothing": ("童装", "Clothing"), "food": ("食品", "Food"),
        "school_bus": ("校车", "School bus"), "playground_equipment": ("游乐设施", "Playground equipment"),
        "canteen_supply": ("食堂用品", "Canteen supply"), "other": ("其他", "Other")}
RISK = {"low": ("低", "low"), "medium": ("中", "medium"), "high": ("高", "high"), "serious": ("严重", "serious")}
assert set(KIND) == {k.value for k in ProductKind} and set(RISK) == {r.value for r in RiskLevel}


class ConsoleRecall(Base):
    """A recall a regulator published from the console: its owner, the notice last sent, the reach counted."""

    __tablename__ = "console_recalls"

    recall_number: Mapped[str] = mapped_column(String(64), primary_key=True)
    unit_id: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("console_users.id"))
    action: Mapped[str] = mapped_column(String(16))
    notice_json: Mapped[str] = mapped_column(Text)
    event_id: Mapped[str] = mapped_column(String(128))
    exact: Mapped[int] = mapped_column(Integer)
    strong: Mapped[int] = mapped_column(Integer)
    weak: Mapped[int] = mapped_column(Integer)
    published_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class RecallReview(Base):
    """A weak match held for the regulator's decision: confirm (the holder is notified) or dismiss."""

    __tablename__ = "console_recall_reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    recall_number: Mapped[str] = mapped_column(ForeignKey("console_recalls.recall_number"), index=True)
    holder_kind: Mapped[str] = mapped_column(String(16))
    holder_id: Mapped[str] = mapped_column(String(64))
    registrations: Mapped[str] = mapped_column(String(300))
    reason: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(16))  # pending | confirmed | dismissed
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    decided_by: Mapped[int | None] = mapped_column(Integer, nullable=True)


# ---- the desk's rules (no web): who may publish, what a form means, what a recall will do ----

def check_regulator(session: Session, role: Role, unit_id: str) -> None:
    agency = session.get(Agency, unit_id) if role == Role.AGENCY_DUTY_OFFICER else None
    if agency is None or agency.kind != REGULATOR:
        raise Forbidden(f"role {role.value!r} of unit {unit_id!r} may not publish recalls; allowed: "
                        "agency_duty_officer of a market_regulation agency")


def recall_payload(form: MultiMapping, action: str, published_on: str) -> dict:
    """The form's fields → a RecallPublished payload; blank optional fields are left out for the contract."""
    text = {name: (form.get(name) or "").strip() for name in FIELDS}
    payload: dict = {"action": action, "published_on": published_on,
                     "sales_regions": [r for r in text.pop("sales_regions").replace("，", ",").replace(" ", ",")
                                       .split(",") if r]}
    for name, value in text.items():
        if value:
            payload[name] = value
    return payload


def _candidates(keys: RecallKeys):
    """The index look-ups of the recall's keys (``RecallKeys.index_keys``, the stream's index entries), as WHERE
    clauses on the registrations' indexed match-key columns."""
    R = ProductRegistration
    for key in keys.index_keys():
        kind, value = key.split(":", 1)
        if kind == "b":
            yield R.barcode_key == value
        elif kind == "m":
            yield R.model_key == value
        elif kind == "n":
            yield R.name_key == value
        else:  # "n0": the name, for products without a model
            yield (R.name_key == value) & R.model_key.is_(None)


def _grade_sql(r: RecallKeys):
    """``contracts.recall_match.grade`` as one SQL CASE over the match-key columns (the recall's values are
    constants, so each of its branches is a WHEN in the same order): the grade's number, or NULL."""
    R = ProductRegistration

    def conflict(column, value):
        return [and_(column.is_not(None), column != value)] if value else []

    whens = []
    ruled_out = conflict(R.barcode_key, r.barcode) + conflict(R.batch_key, r.batch) + conflict(R.brand_key, r.brand)
    if ruled_out:
        whens.append((or_(*ruled_out), null()))
    if r.barcode:
        if r.batch:
            whens.append(((R.barcode_key == r.barcode) & (R.batch_key == r.batch), literal(int(Grade.EXACT))))
        whens.append((R.barcode_key == r.barcode, literal(int(Grade.STRONG))))
    if r.model:
        if r.brand:
            whens.append(((R.model_key == r.model) & (R.brand_key == r.brand), literal(int(Grade.STRONG))))
        whens.append((R.model_key == r.model, literal(int(Grade.WEAK))))
    if r.name:
        same = R.name_key == r.name
        whens.append(((same & R.model_key.is_(None)) if r.model else same, literal(int(Grade.WEAK))))
    return case(*whens, else_=null()) if whens else null()


def reach(session: Session, recall: RecallPublished) -> tuple[dict[str, int], list[tuple[str, str, tuple[str, ...], str]]]:
    """Holders by grade, graded as the stream grades them; and the weak matches (holder kind, holder id,
    registration ids, reason). Only registrations sharing an index key with the recall are read (GTIN, model and
    name look-ups on their indexes: the candidates the stream's ``HoldingsIndex.match`` looks up); each holder's
    best grade is computed in the database (``_grade_sql``, the rules of ``contracts.recall_match.grade``), and
    only the weak holders' registrations come back, graded by ``holder_grade`` for their reasons."""
    keys = RecallKeys.of(recall)
    counts = {g.name.lower(): 0 for g in Grade}
    wheres = list(_candidates(keys))
    if not wheres:
        return counts, []
    R = ProductRegistration
    grade = _grade_sql(keys).label("g")
    graded = select(R.holder_kind, R.holder_id, R.id, grade).where(or_(*wheres)).subquery()
    best = (select(graded.c.holder_kind, graded.c.holder_id, func.max(graded.c.g).label("best"))
            .group_by(graded.c.holder_kind, graded.c.holder_id).subquery())
    conn = session.connection()
    for number, n in conn.execute(select(best.c.best, func.count()).where(best.c.best.is_not(None))
                                  .group_by(best.c.best)):
        counts[Grade(number).name.lower()] = n
    weak_holders = select(best.c.holder_kind, best.c.holder_id).where(best.c.best == int(Grade.WEAK)).subquery()
    rows = conn.execute(
        select(R.holder_kind, R.holder_id, R.id, R.name_key, R.brand_key, R.model_key, R.batch_key, R.barcode_key)
        .join(weak_holders, and_(R.holder_kind == weak_holders.c.holder_kind, R.holder_id == weak_holders.c.holder_id))
        .where(or_(*wheres)).order_by(R.holder_kind, R.holder_id, R.id))
    weak: list[tuple[str, str, tuple[str, ...], str]] = []
    for holder, group in groupby(rows, key=lambda row: (row[0], row[1])):
        products = [Product(r.id, r.name_key, r.brand_key, r.model_key, r.batch_key, r.barcode_key, None) for r in group]
        if (matched := holder_grade(keys, products)) is not None:
            weak.append((holder[0], holder[1], matched[2], matched[1]))
    return counts, weak


def alert_for(recall: RecallPublished, alert_id: str, source_event_id: str, **holders) -> AlertRequested:
    """The recall alert as the stream issues it (streams/recalls/plan.py): same kind, priority and parameters."""
    priority = Priority.URGENT if recall.risk_level in (RiskLevel.HIGH, RiskLevel.SERIOUS) else Priority.NORMAL
    return AlertRequested(alert_id=alert_id, kind=AlertKind.RECALL, priority=priority,
                          audience=RecallHolders(recall_number=recall.recall_number, **holders),
                          params=recall_alert_params(recall), source_event_id=source_event_id,
                          reason=f"recall {recall.recall_number} ({recall.action.value})")


def sms_preview(recall: RecallPublished) -> dict:
    """The SMS exactly as the fan-out composes it, per language, with its segment count."""
    alert = alert_for(recall, f"recall:{recall.recall_number}:preview:p0:g0", "preview", guardian_ids=["preview"])
    bodies = AlertBodies(alert, BodyRules())
    out = {}
    for lang in ("zh-CN", "en"):
        body, segments = bodies.body_for(lang, "+8613900000000")
        out[lang] = {"body": body.replace(alert_ref(alert.alert_id), REF_SHOWN), "segments": segments}
    return out


def delivery(session: Session, recall_number: str) -> dict[str, int]:
    """The recall's SMS in the ledger, by what became of them."""
    rows = session.execute(select(SmsLedgerEntry.state, SmsLedgerEntry.provider_status, func.count())
                           .where(SmsLedgerEntry.alert_id.like(f"recall:{recall_number}:%"))
                           .group_by(SmsLedgerEntry.state, SmsLedgerEntry.provider_status)).all()
    out = dict.fromkeys(("total", "accepted", "delivered", "failed", "waiting", "cancelled", "skipped"), 0)
    for state, provider, n in rows:
        out["total"] += n
        if provider == "delivered":
            out["delivered"] += n
        if state == "accepted":
            out["accepted"] += n
        elif state in ("failed", "refused", "expired") or provider in ("failed", "undelivered"):
            out["failed"] += n
        elif state == "cancelled":
            out["cancelled"] += n
        elif state == "skipped":
            out["skipped"] += n
        else:
            out["waiting"] += n
    return out


def confirm_review(session: Session, review: RecallReview, recall: RecallPublished, source_event_id: str,
                   alerts_topic: str, user_id: int, now: datetime) -> None:
    """Tell one weakly matched holder: the recall alert for that holder alone, through the case outbox."""
    holder = hashlib.sha256(f"{review.holder_kind}:{review.holder_id}".encode()).hexdigest()[:10]
    field = "school_ids" if review.holder_kind == "school" else "guardian_ids"
    alert = alert_for(recall, f"recall:{recall.recall_number}:review:{holder}", source_event_id,
                      **{field: [review.holder_id]})
    event = AlertRequestedEvent.new(alert, source=SOURCE, subject=alert.alert_id, time=now)
    session.add(OutboxMessage(id=f"recall-review:{recall.recall_number}:{holder}", topic=alerts_topic,
                              key=alert.alert_id.encode(), value=event.to_bytes(), purpose="recall_review",
                              case_id=None, created_at=now))
    review.state, review.decided_at, review.decided_by = "confirmed", now, user_id


# ---- pages ----

def _regulator(request: web.Request) -> None:
    identity = request[IDENTITY]
    with request.app[CONSOLE].factory() as session:
        check_regulator(session, identity.principal.role, identity.principal.unit_id)


def _today(request: web.Request) -> str:
    return request.app[CONSOLE].clock.now().astimezone(i18n.ZONE).date().isoformat()


def _errors_by_field(errors: list[FormError]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for e in errors:
        out.setdefault(e.field, []).append(e.reason)
    return out


def _check(request: web.Request, form: MultiMapping, action: str) -> tuple[RecallPublished | None, dict]:
    payload = recall_payload(form, action, _today(request))
    model, errors = validate(RecallPublished, payload, {}, lang_of(request))
    if model is not None:
        try:
            recall_alert_params(model)
        except ContractError as exc:  # a field the SMS template cannot carry (the stream would refuse it too)
            errors = [FormError(e.field.removeprefix("data."), e.reason) for e in exc.errors]
            model = None
    return model, _errors_by_field(errors)


def _ctx(request: web.Request, form, errors: dict, key: str, number: str = "") -> dict:
    return dict(form=form, errors=errors, key=key, kinds=KIND, risks=RISK, number=number)


def _mine(session: Session, unit_id: str) -> list[dict]:
    rows = session.scalars(select(ConsoleRecall).where(ConsoleRecall.unit_id == unit_id)
                           .order_by(ConsoleRecall.updated_at.desc())).all()
    return [{"row": r, "notice": RecallPublished.model_validate_json(r.notice_json),
             "delivery": delivery(session, r.recall_number)} for r in rows]


async def desk(request: web.Request) -> web.Response:
    await asyncio.to_thread(_regulator, request)
    console = request.app[CONSOLE]

    def load():
        with console.factory() as session:
            return _mine(session, request[IDENTITY].principal.unit_id)
    recalls = await asyncio.to_thread(load)
    return render(request, "recalls.html", recalls=recalls, actions=ACTION, done=request.query.get("done", ""),
                  done_n=request.query.get("n", "")[:64], **_ctx(request, MultiDict(risk_level="high"), {}, new_key()))


async def _checked_form(request: web.Request) -> tuple[MultiMapping, str, RecallPublished | None, dict]:
    """(form, recall number when updating, the checked notice or None, errors by field)."""
    await asyncio.to_thread(_regulator, request)
    form = await request.post()
    number = request.match_info.get("number", "")
    if number:
        form = MultiDict(form)
        form["recall_number"] = number
    model, errors = _check(request, form, "updated" if number else "published")
    return form, number, model, errors


def _refused_form(request: web.Request, form, number: str, errors: dict, key: str) -> web.Response:
    """The form again with its refusals beside the fields (the list page for a new recall, else its page)."""
    extra = {} if number else {"recalls": [], "actions": ACTION, "done": "", "done_n": ""}
    return render(request, "recall_edit.html" if number else "recalls.html", status=422, **extra,
                  **_ctx(request, form, errors, key, number))


async def preview(request: web.Request) -> web.Response:
    """The form checked by the contract, then what publishing it would do; nothing is sent."""
    form, number, model, errors = await _checked_form(request)
    key = str(form.get("idempotency_key", "")) or new_key()
    if model is None:
        return _refused_form(request, form, number, errors, key)

    def compute():
        with request.app[CONSOLE].factory() as session:
            return reach(session, model)
    counts, weak = await asyncio.to_thread(compute)
    try:
        sms = sms_preview(model)
    except AlertsError as exc:
        return render(request, "message.html", status=422,
                      message=i18n.word("rc.sms.refused", lang_of(request), msg=str(exc)))
    hidden = [(name, form.get(name) or "") for name in FIELDS]
    return render(request, "recall_preview.html", sms=sms, counts=counts, weak=len(weak), hidden=hidden, key=key,
                  number=number, model=model)


async def publish(request: web.Request) -> web.Response:
    """Send the previewed recall to the intake (`POST /v1/recalls`), remember it with its reach."""
    console, identity = request.app[CONSOLE], request[IDENTITY]
    form, number, model, errors = await _checked_form(request)
    key = str(form.get("idempotency_key", ""))
    if model is None or not key:
        return _refused_form(request, form, number, errors or {"(form)": [i18n.word("err.csrf", lang_of(request))]},
                             key or new_key())
    await asyncio.to_thread(_owner_check, console, identity, model.recall_number, number)
    return await _send(request, model, key, "rc.updated" if number else "rc.published")


def _owner_check(console, identity, recall_number: str, editing: str) -> None:
    with console.factory() as session:
        row = session.get(ConsoleRecall, recall_number)
    if row is None and editing:
        raise NotFound(f"recall {recall_number!r} not found")
    if row is not None and row.unit_id != identity.principal.unit_id:
        raise NotFound(f"recall {recall_number!r} not found") if editing else Conflict(
            i18n.word("rc.taken", "en", n=recall_number))
    if row is not None and not editing:
        raise Conflict(i18n.word("rc.taken", "en", n=recall_number))
    if row is not None and row.action == "withdrawn":
        raise Conflict(f"recall {recall_number} was withdrawn")


async def _send(request: web.Request, model: RecallPublished, key: str, done: str) -> web.Response:
    console, identity = request.app[CONSOLE], request[IDENTITY]
    payload = model.model_dump(mode="json", exclude_none=True)
    answer = await console.intake.send("/v1/recalls", payload, key)
    lang = lang_of(request)
    if answer.status == "refused":
        errors = _errors_by_field(intake_errors(answer.errors, {}, lang))
        return render(request, "message.html", status=422,
                      message="；".join(f"{k}: {'，'.join(v)}" for k, v in errors.items()))
    if answer.status != "accepted":
        return render(request, "message.html", status=503, message=i18n.word("send.failed", lang))

    def remember() -> None:
        with transaction(console.factory) as session:
            counts, weak = reach(session, model) if model.action is not RecallAction.WITHDRAWN else ({}, [])
            now = console.clock.now()
            row = session.get(ConsoleRecall, model.recall_number)
            if row is None:
                row = ConsoleRecall(recall_number=model.recall_number, unit_id=identity.principal.unit_id,
                                    user_id=identity.user_id, published_at=now)
                session.add(row)
            row.action, row.notice_json, row.event_id, row.updated_at = (
                model.action.value, model.model_dump_json(exclude_none=True), answer.event_id, now)
            if model.action is not RecallAction.WITHDRAWN:
                row.exact, row.strong, row.weak = counts["exact"], counts["strong"], counts["weak"]
                session.flush()
                known = {(r.holder_kind, r.holder_id) for r in session.scalars(
                    select(RecallReview).where(RecallReview.recall_number == model.recall_number))}
                for kind, holder, regs, reason in weak:
                    if (kind, holder) not in known:
                        session.add(RecallReview(recall_number=model.recall_number, holder_kind=kind,
                                                 holder_id=holder, registrations=",".join(regs)[:300],
                                                 reason=reason[:100], state="pending"))
            else:
                for review in session.scalars(select(RecallReview).where(
                        RecallReview.recall_number == model.recall_number, RecallReview.state == "pending")):
                    review.state, review.decided_at, review.decided_by = "dismissed", now, identity.user_id
    await asyncio.to_thread(remember)
    return redirect(request, f"/recall-desk?done={done.removeprefix('rc.')}&n={model.recall_number}")


def _own(request: web.Request, number: str) -> tuple[ConsoleRecall, RecallPublished, list[RecallReview], dict]:
    console, identity = request.app[CONSOLE], request[IDENTITY]
    with console.factory() as session:
        row = session.get(ConsoleRecall, number)
        if row is None or row.unit_id != identity.principal.unit_id:
            raise NotFound(f"recall {number!r} not found")
        reviews = list(session.scalars(select(RecallReview).where(RecallReview.recall_number == number)
                                       .order_by(RecallReview.id)))
        session.expunge_all()
        return row, RecallPublished.model_validate_json(row.notice_json), reviews, delivery(session, number)


async def detail(request: web.Request) -> web.Response:
    await asyncio.to_thread(_regulator, request)
    number = request.match_info["number"]
    row, notice, reviews, sent = await asyncio.to_thread(_own, request, number)
    form = MultiDict({name: _form_value(notice, name) for name in FIELDS})
    return render(request, "recall_edit.html", row=row, notice=notice, reviews=reviews, delivery=sent,
                  actions=ACTION, **_ctx(request, form, {}, new_key(), number))


def _form_value(notice: RecallPublished, name: str) -> str:
    value = getattr(notice, name)
    if name == "sales_regions":
        return ",".join(value)
    return "" if value is None else str(getattr(value, "value", value))


async def withdraw(request: web.Request) -> web.Response:
    await asyncio.to_thread(_regulator, request)
    number = request.match_info["number"]
    form = await request.post()
    row, notice, _, _ = await asyncio.to_thread(_own, request, number)
    if row.action == "withdrawn":
        raise Conflict(f"recall {number} was withdrawn already")
    withdrawn = RecallPublished.model_validate({**notice.model_dump(), "action": RecallAction.WITHDRAWN,
                                                "published_on": _today(request)})
    key = str(form.get("idempotency_key", "")) or new_key()
    return await _send(request, withdrawn, key, "rc.withdrawn")


async def decide(request: web.Request) -> web.Response:
    """Confirm (notify that holder) or dismiss one weak match."""
    await asyncio.to_thread(_regulator, request)
    console, identity = request.app[CONSOLE], request[IDENTITY]
    number, review_id = request.match_info["number"], request.match_info["review"]
    decision = str((await request.post()).get("decision", ""))
    if decision not in ("confirm", "dismiss") or not review_id.isdecimal():
        raise web.HTTPUnprocessableEntity(text=f"decision: confirm or dismiss; got {decision[:20]!r}")
    row, notice, _, _ = await asyncio.to_thread(_own, request, number)

    def apply() -> None:
        with transaction(console.factory) as session:
            review = session.get(RecallReview, int(review_id))
            if review is None or review.recall_number != number:
                raise NotFound(f"review {review_id} of recall {number} not found")
            if review.state != "pending" or row.action == "withdrawn":
                raise Conflict(f"review {review_id} is {review.state}" if review.state != "pending"
                               else f"recall {number} was withdrawn")
            now = console.clock.now()
            if decision == "confirm":
                confirm_review(session, review, notice, row.event_id, console.recall_topics[1], identity.user_id, now)
            else:
                review.state, review.decided_at, review.decided_by = "dismissed", now, identity.user_id
    await asyncio.to_thread(apply)
    return redirect(request, f"/recall-desk/{number}")


def routes() -> list:
    return [web.get("/recall-desk", desk), web.post("/recall-desk/preview", preview),
            web.post("/recall-desk", publish), web.get("/recall-desk/{number}", detail),
            web.post("/recall-desk/{number}/preview", preview), web.post("/recall-desk/{number}", publish),
            web.post("/recall-desk/{number}/withdraw", withdraw),
            web.post("/recall-desk/{number}/review/{review}", decide)]
