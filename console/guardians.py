"""Guardians' self-service (no account): a phone confirmed by an SMS code, then their children's products.

- The code goes out through the same SMS gateway as every alert (`alerts.twilio_gateway.TwilioGateway`: the
  twilio SDK, the local sandbox in tests). Requests are limited per number and per client address, a code
  expires, is tried a few times at most, and is stored only as an argon2 hash (never the code itself).
- A registration is a `product_registrations` row of holder `guardian:<id>`; each change publishes the
  guardian's full holdings record (`consumers.directory.reference_topics.holder_record`) through the case
  outbox to `registrations.holdings.v1`, the path `childsafe directory publish` uses: the streams worker
  matches it against the recalls in force, and future recalls against it.
- Routine messages: the SMS opt-out list (`sms_opt_outs`, as a STOP reply would); emergencies ignore it.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import math
import secrets
from datetime import datetime

from aiohttp import web
from argon2.exceptions import InvalidHashError, VerificationError
from multidict import MultiDict
from pydantic import ValidationError
from sqlalchemy import Integer, String, delete, select, text, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from alerts.gateway import GatewayError
from console import i18n
from console.forms import FormError, form_field
from console.web import CONSOLE, PRE_COOKIE, CodePolicy, csrf_ok, lang_of, refuse_csrf, render, set_cookie
from consumers.cases.columns import UtcDateTime
from consumers.cases.tracking import OutboxMessage
from consumers.directory.phones import to_e164
from consumers.directory.reference_topics import holder_record
from consumers.store.db import Base, transaction
from consumers.store.directory import Guardian, OptOut, ProductRegistration
from contracts.registration import RegisteredProduct

COOKIE = "cs_guardian"
CODE_BODY = {"zh-CN": "【儿童安全】您的验证码是 {code}，{minutes} 分钟内有效。请勿告诉他人。",
             "en": "[ChildSafe] Your code is {code}, valid for {minutes} minutes. Do not share it."}



i18n.WORDS.update({
    "g.title": ("家长自助：登记儿童用品", "Guardians: register your children's products"),
    "g.intro": ("登记您孩子使用的产品（玩具、童床、安全座椅等）。如有召回，我们会发短信告诉您。登记信息只用于儿童安全。",
                "Register the products your children use (toys, cribs, car seats…). If one is recalled, we text you. "
                "What you register is used for child safety only."),
    "g.phone": ("手机号码", "Mobile number"), "g.send_code": ("发送验证码", "Send code"),
    "g.code": ("短信验证码（6 位数字）", "SMS code (6 digits)"), "g.confirm": ("确认", "Confirm"),
    "g.code_sent": ("验证码已发送到 {phone}，{minutes} 分钟内有效。", "A code was sent to {phone}; it is valid for {minutes} minutes."),
    "g.bad_phone": ("手机号码不正确：{why}", "Not a usable mobile number: {why}"),
    "g.too_many_number": ("该号码请求验证码过于频繁（每小时最多几次），请 {minutes} 分钟后再试。",
                          "Too many codes asked for this number (a few per hour at most); try again in {minutes} min."),
    "g.too_many_client": ("此设备（网络地址）请求验证码过于频繁，请 {minutes} 分钟后再试。",
                          "Too many codes asked from this device (network address); try again in {minutes} min."),
    "g.code_format": ("验证码为 6 位数字。", "The code is 6 digits."),
    "g.code_expired": ("验证码已过期或未申请，请重新获取。", "The code has expired or was never sent; ask for a new one."),
    "g.code_wrong": ("验证码不正确。", "Wrong code."),
    "g.code_dead": ("错误次数过多，请重新获取验证码。", "Too many wrong codes; ask for a new one."),
    "g.send_failed": ("短信暂时无法发送，请稍后再试。", "The SMS could not be sent now; try again later."),
    "g.mine": ("已登记的产品", "Your registered products"), "g.none": ("还没有登记产品。", "No product registered yet."),
    "g.add": ("登记产品", "Register a product"), "g.remove": ("删除", "Remove"),
    "g.name": ("产品名称", "Product name"), "g.kind": ("产品类别", "Product kind"),
    "g.gtin": ("商品条码（包装上的 8/12/13/14 位数字）", "Barcode (the 8/12/13/14 digits on the package)"),
    "g.brand": ("品牌", "Brand"), "g.model": ("型号", "Model"), "g.batch": ("批次（可不填）", "Batch (optional)"),
    "g.either": ("请填写商品条码，或同时填写品牌和型号。", "Give the barcode, or both brand and model."),
    "g.language": ("短信语言", "Language of your messages"), "g.save": ("保存", "Save"),
    "g.routine": ("常规短信（召回、提醒等）", "Routine messages (recalls, reminders…)"),
    "g.routine.on": ("您正在接收常规短信。", "You receive routine messages."),
    "g.routine.off": ("您已退订常规短信。", "You opted out of routine messages."),
    "g.opt_out": ("退订常规短信", "Opt out of routine messages"), "g.opt_in": ("重新接收常规短信", "Receive routine messages again"),
    "g.emergency": ("无论是否退订，紧急预警短信（如灾害、儿童走失）仍会发送给您。",
                    "Whatever you choose, emergency alerts (disasters, a missing child) still reach you."),
    "g.signed_in": ("已确认号码：{phone}", "Confirmed number: {phone}"), "g.leave": ("退出", "Leave"),
    "g.saved": ("已保存。", "Saved."),
})


class GuardianCode(Base):
    """One confirmation code sent: the number and client as SHA-256 digests, the code as an argon2 hash."""

    __tablename__ = "console_guardian_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    phone_digest: Mapped[str] = mapped_column(String(64), index=True)
    client_digest: Mapped[str] = mapped_column(String(64), index=True)
    code_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class GuardianSession(Base):
    """A confirmed phone in one browser: the cookie is stored as its SHA-256 digest."""

    __tablename__ = "console_guardian_sessions"

    token_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    guardian_id: Mapped[str] = mapped_column(String(64), index=True)
    phone: Mapped[str] = mapped_column(String(20))
    csrf: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Refused(Exception):
    def __init__(self, status: int, field: str, key: str, **kw):
        self.status, self.field, self.key, self.kw = status, field, key, kw
        super().__init__(f"{field}: {key}")


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def phone_of(raw: str) -> str:
    try:
        return to_e164((raw or "").strip()[:40])
    except ValueError as exc:
        raise Refused(422, "phone", "g.bad_phone", why=str(exc)) from None


def client_key(remote: str | None) -> str:
    """What the per-client limit counts: an IPv4 address as is, an IPv6 one by its /64 (one subscriber's usual
    allocation, so rotating addresses inside it does not escape the limit; an IPv4-mapped address as IPv4)."""
    try:
        address = ipaddress.ip_address((remote or "").split("%", 1)[0])
    except ValueError:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def _serialise(session: Session, *keys: str) -> None:
    """Concurrent requests for one number (or from one client) are counted one after another, so a burst cannot
    slip past a limit between the count and the insert: PostgreSQL takes a transaction advisory lock per key (in
    a fixed order), SQLite takes its single write lock before the transaction reads anything."""
    if session.get_bind().dialect.name == "postgresql":
        for key in sorted(keys):
            session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": int(key[:15], 16)})
    else:
        session.execute(update(GuardianCode).where(GuardianCode.id == -1).values(attempts=GuardianCode.attempts))


def issue_code(session: Session, phone: str, client: str, now: datetime, policy: CodePolicy, hasher) -> str:
    """A new code for ``phone`` (E.164, so every way of writing one number is one key) asked from ``client``
    (see ``client_key``), or Refused (429) over either limit, saying when to try again. Call it first in its
    transaction: it serialises the requests it counts."""
    since = now - policy.window
    C = GuardianCode
    by_phone, by_client = digest(phone), digest(client)
    _serialise(session, by_phone, by_client)
    for column, key, limit, word in ((C.phone_digest, by_phone, policy.per_number, "g.too_many_number"),
                                     (C.client_digest, by_client, policy.per_client, "g.too_many_client")):
        times = session.scalars(select(C.created_at).where(column == key, C.created_at > since)
                                .order_by(C.created_at).limit(limit)).all()
        if len(times) >= limit:
            wait = max(1, math.ceil((times[0] + policy.window - now).total_seconds()))
            raise Refused(429, "phone", word, retry_after=wait, minutes=math.ceil(wait / 60))
    code = f"{secrets.randbelow(10 ** 6):06d}"
    session.add(GuardianCode(phone_digest=by_phone, client_digest=by_client, code_hash=hasher.hash(code),
                             created_at=now, expires_at=now + policy.ttl, attempts=0))
    return code


def check_code(session: Session, phone: str, code: str, now: datetime, policy: CodePolicy, hasher) -> Refused | None:
    """The newest live code of ``phone`` must equal ``code``; it is used up by a match, weakened by a miss.
    A miss is returned (not raised) so the caller commits the counted attempt before refusing."""
    code = (code or "").strip()
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        raise Refused(422, "code", "g.code_format")
    row = session.scalars(select(GuardianCode).where(GuardianCode.phone_digest == digest(phone),
                                                     GuardianCode.used_at.is_(None))
                          .order_by(GuardianCode.created_at.desc(), GuardianCode.id.desc()).limit(1)).first()
    if row is None or row.expires_at <= now:
        raise Refused(422, "code", "g.code_expired")
    if row.attempts >= policy.max_attempts:
        raise Refused(429, "code", "g.code_dead")
    try:
        hasher.verify(row.code_hash, code)
    except (VerificationError, InvalidHashError):
        row.attempts += 1
        return Refused(422, "code", "g.code_wrong")
    row.used_at = now
    return None


def guardian_for(session: Session, phone: str, language: str) -> str:
    """The directory's guardian with this number (the first), or a new one that holds only registrations."""
    found = session.scalars(select(Guardian.id).where(Guardian.phone == phone).order_by(Guardian.id).limit(1)).first()
    if found:
        return found
    guardian_id = "self-" + digest(phone)[:20]
    session.add(Guardian(id=guardian_id, phone=phone, language=language))
    session.flush()
    return guardian_id


def product_from(form, registration_id: str) -> tuple[RegisteredProduct | None, list[FormError]]:
    """The registration form → the holdings contract's product (its GTIN check); barcode or brand + model."""
    text = {k: (form.get(k) or "").strip() for k in ("product_kind", "product_name", "barcode", "brand", "model",
                                                      "batch")}
    payload = {"registration_id": registration_id, **{k: v for k, v in text.items() if v}}
    errors = []
    try:
        product = RegisteredProduct.model_validate(payload)
    except ValidationError as exc:
        product = None
        errors = [FormError(form_field(tuple(e["loc"]), {}), i18n.field_reason(e["type"], e.get("ctx"), e["msg"], "zh-CN"))
                  for e in exc.errors()]
    if not text["barcode"] and not (text["brand"] and text["model"]):
        errors.append(FormError("barcode", i18n.word("g.either", "zh-CN")))
        product = None
    return product, errors


def publish_holdings(session: Session, guardian_id: str, topic: str, clock, now: datetime) -> None:
    """The guardian's full holdings, published through the case outbox (its relay sends it in order)."""
    session.flush()
    key, value = holder_record(session, "guardian", guardian_id, clock)
    session.add(OutboxMessage(id=f"holdings:{guardian_id}:{secrets.token_hex(8)}", topic=topic, key=key,
                              value=value, purpose="holdings", case_id=None, created_at=now))


# ---- pages ----

def _policy(request: web.Request) -> CodePolicy:
    return request.app[CONSOLE].guardian_codes


def _hasher(request: web.Request):
    return request.app[CONSOLE].signin.hasher


def _pre(request: web.Request) -> str:
    pre = request.cookies.get(PRE_COOKIE, "")
    return pre if len(pre) >= 32 else secrets.token_urlsafe(24)


def _page(request: web.Request, template: str, status: int = 200, **ctx) -> web.Response:
    pre = _pre(request)
    response = render(request, template, status=status, pre=pre, **ctx)
    set_cookie(response, request.app[CONSOLE], PRE_COOKIE, pre, max_age=3600)
    return response


def _session(request: web.Request) -> GuardianSession | None:
    cookie = request.cookies.get(COOKIE, "")
    if not cookie:
        return None
    console = request.app[CONSOLE]
    with console.factory() as session:
        row = session.get(GuardianSession, digest(cookie))
        if row is None or row.expires_at <= console.clock.now():
            return None
        session.expunge(row)
        return row


def _refusal(request: web.Request, exc: Refused, template: str, **ctx) -> web.Response:
    lang = lang_of(request)
    page = _page(request, template, status=exc.status, errors={exc.field: [i18n.word(exc.key, lang, **exc.kw)]}, **ctx)
    if exc.status == 429 and "retry_after" in exc.kw:
        page.headers["Retry-After"] = str(exc.kw["retry_after"])
    return page


async def home(request: web.Request) -> web.Response:
    me = await asyncio.to_thread(_session, request)
    if me is None:
        return _page(request, "my_phone.html", errors={}, phone="")
    return await _dashboard(request, me, saved=request.query.get("saved") == "1")


async def _dashboard(request: web.Request, me: GuardianSession, status: int = 200, errors: dict | None = None,
                     form=None, saved: bool = False) -> web.Response:
    console = request.app[CONSOLE]

    def load():
        with console.factory() as session:
            products = session.scalars(select(ProductRegistration).where(
                ProductRegistration.holder_kind == "guardian", ProductRegistration.holder_id == me.guardian_id)
                .order_by(ProductRegistration.id)).all()
            language = session.get(Guardian, me.guardian_id).language
            opted_out = session.get(OptOut, me.phone) is not None
            session.expunge_all()
            return products, language, opted_out
    products, language, opted_out = await asyncio.to_thread(load)
    from console.recalls import KIND
    return render(request, "my.html", status=status, g=me, products=products, language=language,
                  opted_out=opted_out, kinds=KIND, errors=errors or {}, form=form or MultiDict(), saved=saved,
                  masked=me.phone[:-8] + "****" + me.phone[-4:])


async def request_code(request: web.Request) -> web.Response:
    form = await request.post()
    if not csrf_ok(form.get("csrf"), request.cookies.get(PRE_COOKIE, "")):
        return refuse_csrf(request)
    console, lang = request.app[CONSOLE], lang_of(request)
    raw = str(form.get("phone", ""))
    try:
        phone = phone_of(raw)

        def issue() -> str:
            with transaction(console.factory) as session:
                return issue_code(session, phone, client_key(request.remote), console.clock.now(), _policy(request),
                                  _hasher(request))
        code = await asyncio.to_thread(issue)
    except Refused as exc:
        return _refusal(request, exc, "my_phone.html", phone=raw[:40])
    minutes = int(_policy(request).ttl.total_seconds() // 60)
    body = CODE_BODY["en" if lang == "en" else "zh-CN"].format(code=code, minutes=minutes)
    try:
        await asyncio.to_thread(console.code_gateway.send, to=phone, body=body, status_callback="")
    except GatewayError:
        return _page(request, "my_phone.html", status=503, errors={"phone": [i18n.word("g.send_failed", lang)]},
                     phone=raw[:40])
    return _page(request, "my_code.html", errors={}, phone=phone, minutes=minutes)


async def confirm(request: web.Request) -> web.Response:
    form = await request.post()
    if not csrf_ok(form.get("csrf"), request.cookies.get(PRE_COOKIE, "")):
        return refuse_csrf(request)
    console, lang = request.app[CONSOLE], lang_of(request)
    minutes = int(_policy(request).ttl.total_seconds() // 60)
    try:
        phone = phone_of(str(form.get("phone", "")))

        def check() -> str:
            now = console.clock.now()
            with transaction(console.factory) as session:
                miss = check_code(session, phone, str(form.get("code", ""))[:40], now, _policy(request),
                                  _hasher(request))
            if miss is not None:  # the attempt is committed, then refused
                raise miss
            with transaction(console.factory) as session:
                guardian_id = guardian_for(session, phone, lang)
                token = secrets.token_urlsafe(32)
                session.add(GuardianSession(token_digest=digest(token), guardian_id=guardian_id, phone=phone,
                                            csrf=secrets.token_urlsafe(32), expires_at=now + _policy(request).session))
                return token
        token = await asyncio.to_thread(check)
    except Refused as exc:
        return _refusal(request, exc, "my_code.html", phone=str(form.get("phone", ""))[:40], minutes=minutes)
    response = web.HTTPSeeOther("/my")
    set_cookie(response, console, COOKIE, token, max_age=None)
    raise response


async def _signed(request: web.Request) -> tuple[GuardianSession, MultiDict]:
    me = await asyncio.to_thread(_session, request)
    if me is None:
        raise web.HTTPSeeOther("/my")
    form = await request.post()
    if not csrf_ok(form.get("csrf"), me.csrf):
        raise web.HTTPForbidden(text=i18n.word("err.csrf", lang_of(request)))
    return me, form


async def add_product(request: web.Request) -> web.Response:
    me, form = await _signed(request)
    console = request.app[CONSOLE]
    product, errors = product_from(form, f"self-{secrets.token_hex(8)}")
    if product is None:
        by_field: dict[str, list[str]] = {}
        for e in errors:
            by_field.setdefault(e.field, []).append(e.reason)
        return await _dashboard(request, me, status=422, errors=by_field, form=form)

    def add() -> None:
        now = console.clock.now()
        with transaction(console.factory) as session:
            session.add(ProductRegistration(id=product.registration_id, holder_kind="guardian",
                                            holder_id=me.guardian_id, product_kind=product.product_kind.value,
                                            product_name=product.product_name, brand=product.brand,
                                            model=product.model, batch=product.batch, barcode=product.barcode))
            publish_holdings(session, me.guardian_id, console.recall_topics[0], console.clock, now)
    await asyncio.to_thread(add)
    raise web.HTTPSeeOther("/my?saved=1")


async def remove_product(request: web.Request) -> web.Response:
    me, _ = await _signed(request)
    console = request.app[CONSOLE]
    registration = request.match_info["id"]

    def remove() -> int:
        with transaction(console.factory) as session:
            gone = session.execute(delete(ProductRegistration).where(
                ProductRegistration.id == registration, ProductRegistration.holder_kind == "guardian",
                ProductRegistration.holder_id == me.guardian_id)).rowcount
            if gone:
                publish_holdings(session, me.guardian_id, console.recall_topics[0], console.clock, console.clock.now())
            return gone
    if not await asyncio.to_thread(remove):
        raise web.HTTPNotFound(text=f"registration {registration[:64]!r} not found among yours")
    raise web.HTTPSeeOther("/my?saved=1")


async def set_language(request: web.Request) -> web.Response:
    me, form = await _signed(request)
    language = str(form.get("language", ""))
    if language not in i18n.LANGS:
        return await _dashboard(request, me, status=422, errors={"language": [f"zh-CN / en; got {language[:20]!r}"]})
    console = request.app[CONSOLE]

    def save() -> None:
        with transaction(console.factory) as session:
            session.get(Guardian, me.guardian_id).language = language
    await asyncio.to_thread(save)
    raise web.HTTPSeeOther("/my?saved=1")


async def set_routine(request: web.Request) -> web.Response:
    """Opt out of routine messages (the SMS opt-out list) or back in; emergencies ignore the list."""
    me, form = await _signed(request)
    choice = str(form.get("routine", ""))
    if choice not in ("on", "off"):
        return await _dashboard(request, me, status=422, errors={"routine": [f"on / off; got {choice[:20]!r}"]})
    console = request.app[CONSOLE]

    def save() -> None:
        with transaction(console.factory) as session:
            if choice == "off" and session.get(OptOut, me.phone) is None:
                session.add(OptOut(phone=me.phone, source="console", opted_out_at=console.clock.now()))
            elif choice == "on":
                session.execute(delete(OptOut).where(OptOut.phone == me.phone))
    await asyncio.to_thread(save)
    raise web.HTTPSeeOther("/my?saved=1")


async def leave(request: web.Request) -> web.Response:
    me, _ = await _signed(request)
    console = request.app[CONSOLE]

    def end() -> None:
        with transaction(console.factory) as session:
            session.execute(delete(GuardianSession).where(GuardianSession.token_digest == me.token_digest))
    await asyncio.to_thread(end)
    response = web.HTTPSeeOther("/my")
    response.del_cookie(COOKIE, path="/")
    raise response


def routes() -> list:
    return [web.get("/my", home), web.post("/my/code", request_code), web.post("/my/confirm", confirm),
            web.post("/my/products", add_product), web.post("/my/products/{id}/remove", remove_product),
            web.post("/my/language", set_language), web.post("/my/routine", set_routine),
            web.post("/my/leave", leave)]
