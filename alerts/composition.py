"""Compose one recipient's SMS for an alert: template, exercise marking, acknowledgement line, body rules;
and the last line of defence when an emergency's own template cannot be composed."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

from alerts.body_rules import CHINA_GUIDANCE, BodyRules, check_body
from alerts.segments import SegmentCount
from alerts.templates import ACK_SUFFIX, EMERGENCY_FALLBACK, EXERCISE_PREFIX, FALLBACK_PLACE, template_for
from contracts.alert_request import AlertRequested
from contracts.alert_slots import SlotKind, normalise_text
from contracts.common import Language


@dataclass(frozen=True)
class Recipient:
    """Who the SMS is for: number, language, and recipient-specific slot values (e.g. their school's name)."""

    to: str
    language: Language = Language.ZH_CN
    context: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ComposedSms:
    body: str
    language: Language
    segments: SegmentCount
    alert_ref: str


def alert_ref(alert_id: str) -> str:
    """A short opaque reference printed in every body: quoted in replies and calls, and it makes two
    alerts' bodies to one recipient differ (reconciliation after an ambiguous send matches on the body)."""
    return hashlib.sha256(alert_id.encode()).hexdigest()[:8].upper()


def localised(params: dict[str, str], lang: Language) -> dict[str, str]:
    """``slot@<language>`` parameters (another CAP info block's wording) replace ``slot`` for that language."""
    suffix = f"@{lang.value}"
    plain = {k: v for k, v in params.items() if "@" not in k}
    return {**plain, **{k.removesuffix(suffix): v for k, v in params.items() if k.endswith(suffix)}}


def _language(recipient: Recipient) -> Language:
    return recipient.language if recipient.language in (Language.ZH_CN, Language.EN) else Language.ZH_CN


def _marked(request: AlertRequested, body: str, lang: Language) -> str:
    if request.exercise:
        body = EXERCISE_PREFIX[lang] + body
    if request.requires_ack:
        body += ACK_SUFFIX[lang]
    return body


def compose(request: AlertRequested, recipient: Recipient, rules: BodyRules = CHINA_GUIDANCE) -> ComposedSms:
    """The body for ``recipient``, or a TemplateParamError / BodyRuleViolation naming what is wrong.

    For sensitive kinds the template only ever sees its own slots (where, deadline); every other value of
    the parameters and of the recipient context is withheld and checked to be absent from the body, unless the
    template says it anyway (its own words and labels, the reference, the deadline it printed).
    """
    template = template_for(request.kind)
    lang = _language(recipient)
    values = {**localised(request.params, lang), **recipient.context}
    withheld: list[str] = []
    if request.sensitive:
        withheld = [v for k, v in values.items() if k not in template.slot_names]
        values = {k: v for k, v in values.items() if k in template.slot_names}
    ref = alert_ref(request.alert_id)
    body = _marked(request, template.render(values, lang, ref, template.variant_for(request)), lang)
    said = [template.said_anyway(lang), EXERCISE_PREFIX[lang], ACK_SUFFIX[lang], ref]
    said += [template.fill(s, values.get(s.name), lang) for s in template.slots if s.kind is SlotKind.DEADLINE]
    segments = check_body(body, recipient.to, rules, withheld=withheld, fixed_text="\n".join(said))
    return ComposedSms(body=body, language=lang, segments=segments, alert_ref=ref)


def compose_emergency_fallback(request: AlertRequested, recipient: Recipient,
                               rules: BodyRules = CHINA_GUIDANCE) -> ComposedSms:
    """The minimal safe body of an emergency whose template failed: the school's name from the recipient's
    directory context (never the alert's free text), what to do, and the reference."""
    lang = _language(recipient)
    place = normalise_text(recipient.context.get("school", ""), 30) or FALLBACK_PLACE[lang]
    ref = alert_ref(request.alert_id)
    body = _marked(request, EMERGENCY_FALLBACK[lang].format(school=place, ref=ref), lang)
    return ComposedSms(body=body, language=lang, segments=check_body(body, recipient.to, rules), alert_ref=ref)
