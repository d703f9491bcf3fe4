"""The slots each alert kind's SMS template fills, and the normalisation of what goes into them.

Pure and dependency-free, so that both ends reach the same code: every producer (streams, the case workflow)
builds its parameters with ``alert_params`` and is refused there, naming its own input field, when they cannot
fill the template; the alerts library renders through ``normalise_slot`` too. A parameter that passes here
composes for every audience and language (the segment budget holds at every slot's limit: tested).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from contracts.alert_request import AlertKind
from contracts.errors import ContractError, FieldError
from contracts.incident import IncidentCategory
from contracts.safety import DrillKind

DEADLINE_TZ = ZoneInfo("Asia/Shanghai")
"""Deadlines given as timestamps are shown in Beijing time, as recipients read them."""

_TLD = r"(?:com|cn|net|org|gov|edu|info|io|me|co|cc|top|xyz|ly|app|site|link|tv)"
URL_PATTERN = re.compile(
    r"(?:https?://|www\.)\S+"  # an explicit link
    rf"|(?<![A-Za-z0-9@.-])[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.{_TLD}(?![A-Za-z0-9-])(?:[/:?#]\S*)?",  # bare domain
    re.IGNORECASE,
)
"""A link or bare domain: refused in bodies to +86 numbers (Twilio China guidance), so removed from free text."""

ELLIPSIS = "…"
_EDGE_PUNCTUATION = " .。．,，、;；:：!！?？"
# CJK punctuation Chinese text uses as written: NFKC would turn it into ASCII punctuation (and "…" into "...")
_KEEP_WIDE = frozenset("…、。〈〉《》「」『』【】〔〕〖〗〘〙〚〛〜〝〞〟！＂＃＄％＆＇（）＊＋，－．／：；＜＝＞？＠［＼］＾＿｀｛｜｝～｟｠｡｢｣､･")
_FULL_STOPS = re.compile(r"[.．。]*。[.．。]*")  # "。。" or ".。" inside a text: one full stop
_DEADLINE = re.compile(  # [0-9], not \d: Python's \d also matches full-width and Arabic-Indic digits
    r"^(?:([0-9]{4}-[0-9]{2}-[0-9]{2})(?:[ T]([01][0-9]|2[0-3]):([0-5][0-9]))?|([01][0-9]|2[0-3]):([0-5][0-9]))$")


class SlotKind(StrEnum):
    TEXT = "text"          # free text: normalised, cut at ``limit`` characters with "…"
    CHOICE = "choice"      # one word of a closed vocabulary (``options``); the template holds its labels
    DEADLINE = "deadline"  # HH:MM, YYYY-MM-DD, YYYY-MM-DD HH:MM, or an ISO timestamp (shown in Beijing time)
    DISTRICT = "district"  # a GB/T 2260 six-digit code
    COUNT = "count"        # a whole number of children, 1-999999


class Where(StrEnum):
    """Where a sensitive-case recipient must act: the only information a sensitive SMS may carry."""

    PLATFORM = "platform"
    DUTY_DESK = "duty_desk"
    POLICE_STATION = "police_station"
    SCHOOL_OFFICE = "school_office"


@dataclass(frozen=True)
class SlotSpec:
    name: str
    kind: SlotKind = SlotKind.TEXT
    required: bool = True
    limit: int = 40
    options: tuple[str, ...] = ()


def _where() -> SlotSpec:
    return SlotSpec("where", SlotKind.CHOICE, required=False, options=tuple(Where))


def _deadline() -> SlotSpec:
    return SlotSpec("deadline", SlotKind.DEADLINE, required=False)


_CATEGORY = SlotSpec("category", SlotKind.CHOICE, options=tuple(IncidentCategory))
_SCHOOL = SlotSpec("school", required=False, limit=30)  # the fan-out fills the directory's name for ``school_id``
_DISTRICT = SlotSpec("district_code", SlotKind.DISTRICT, required=False)

SLOTS: dict[AlertKind, tuple[SlotSpec, ...]] = {
    AlertKind.INCIDENT_EMERGENCY: (_SCHOOL, _CATEGORY, _DISTRICT, SlotSpec("action", required=False, limit=60)),
    AlertKind.MANDATORY_REPORT_DUTY: (_where(), _deadline()),
    AlertKind.RECALL: (SlotSpec("product"), SlotSpec("model", required=False, limit=30), SlotSpec("hazard"),
                       SlotSpec("recall_number", limit=64), SlotSpec("remedy", required=False, limit=60)),
    AlertKind.HAZARD_FOLLOWUP: (_SCHOOL, SlotSpec("hazard", limit=60), _deadline()),
    AlertKind.DRILL_OVERDUE: (_SCHOOL, SlotSpec("drill", SlotKind.CHOICE, options=tuple(DrillKind)), _deadline()),
    AlertKind.OUTBREAK: (_SCHOOL, _CATEGORY, _DISTRICT, SlotSpec("scope", SlotKind.CHOICE, options=("school", "district")),
                         SlotSpec("children", SlotKind.COUNT, required=False)),
    AlertKind.CAP_EMERGENCY: (SlotSpec("area", required=False, limit=30), SlotSpec("event"),
                              SlotSpec("instruction", required=False, limit=60)),
    AlertKind.MISSING_CHILD: (_where(),),
    AlertKind.CASE_ESCALATION: (_where(), _deadline()),
}
"""Every kind's slots. Other parameters (ids, codes) travel as context: sensitive kinds withhold them."""


class SlotError(ValueError):
    def __init__(self, reason: str, got: str | None = None):
        self.reason, self.got = reason, got
        super().__init__(reason)


def _nfkc_where_safe(text: str) -> str:
    """NFKC (full-width letters and digits to ASCII, compatibility forms to their plain letters) on every run of
    characters except the CJK punctuation Chinese is written with, which NFKC would turn into ASCII."""
    runs = re.split(f"([{re.escape(''.join(sorted(_KEEP_WIDE)))}]+)", text)
    return "".join(run if i % 2 else unicodedata.normalize("NFKC", run) for i, run in enumerate(runs))


def _visible(ch: str) -> str:
    """Controls become spaces; format characters (zero-width, bidi marks and embeddings, BOM, soft hyphen),
    lone surrogates and private-use characters are removed."""
    cat = unicodedata.category(ch)
    if cat == "Cc":
        return " "
    return "" if cat in ("Cf", "Cs", "Co") else ch


def _boundary(text: str, end: int) -> int:
    """The largest cut ≤ ``end`` that does not separate a character from its combining marks, variation
    selectors or emoji modifiers, nor split a pair of regional indicators (a flag)."""
    while end > 0 and end < len(text) and (unicodedata.combining(text[end]) or unicodedata.category(text[end])
                                           in ("Mn", "Me", "Mc", "Sk") and ord(text[end]) > 0x2FF):
        end -= 1
    regional = 0
    while end - regional - 1 >= 0 and 0x1F1E6 <= ord(text[end - regional - 1]) <= 0x1F1FF:
        regional += 1
    return end - 1 if regional % 2 else end


def normalise_text(value: str, limit: int) -> str:
    """One line of at most ``limit`` characters: controls removed, whitespace (line breaks included) collapsed,
    NFKC where safe, links removed, no punctuation at either end (the template adds its own), cut with "…"."""
    text = "".join(_visible(ch) for ch in _nfkc_where_safe(value))
    for _ in range(4):  # removing a link or cutting can only shorten; a cut can expose a new bare domain
        text = " ".join(URL_PATTERN.sub(" ", " ".join(text.split())).split())
        text = _FULL_STOPS.sub("。", text).strip(_EDGE_PUNCTUATION)
        if len(text) > limit:
            text = text[:_boundary(text, limit - 1)].rstrip(_EDGE_PUNCTUATION) + ELLIPSIS
        if not URL_PATTERN.search(text):
            return text
    return ""


def normalise_deadline(value: str) -> str:
    """``HH:MM``, ``YYYY-MM-DD`` or ``YYYY-MM-DD HH:MM``; an ISO timestamp with an offset becomes Beijing time."""
    value = value.strip()
    if not _DEADLINE.match(value):
        try:
            at = datetime.fromisoformat(value)
        except ValueError:
            raise SlotError("a time HH:MM, a date YYYY-MM-DD, 'YYYY-MM-DD HH:MM' or an ISO timestamp", value) from None
        if at.tzinfo is None:
            raise SlotError("an ISO timestamp must carry its offset", value)
        return at.astimezone(DEADLINE_TZ).strftime("%Y-%m-%d %H:%M")
    day = _DEADLINE.match(value).group(1)
    if day:
        try:
            datetime.strptime(day, "%Y-%m-%d")
        except ValueError:
            raise SlotError("not a calendar date", value) from None
    return value.replace("T", " ")


def normalise_slot(spec: SlotSpec, raw: str) -> str:
    """The value a template may print for ``spec``, or SlotError; "" for an optional slot left empty."""
    if not isinstance(raw, str):
        raise SlotError("must be text", repr(raw)[:80])
    if spec.kind is SlotKind.TEXT:
        value = normalise_text(raw, spec.limit)
    else:
        value = raw.strip()
        if value and spec.kind is SlotKind.CHOICE and value not in spec.options:
            raise SlotError(f"one of {sorted(spec.options)}", value[:80])
        if value and spec.kind is SlotKind.DEADLINE:
            value = normalise_deadline(value)
        if value and spec.kind is SlotKind.DISTRICT and not re.fullmatch(r"[0-9]{6}", value):
            raise SlotError("a six-digit GB/T 2260 code", value[:80])
        if value and spec.kind is SlotKind.COUNT and not re.fullmatch(r"[1-9][0-9]{0,5}", value):
            raise SlotError("a whole number from 1 to 999999", value[:80])
    if not value and spec.required:
        reason = "no text left after removing controls, links and punctuation" if raw.strip() else "required"
        raise SlotError(reason, raw[:80] if raw.strip() else None)
    return value


def slot_specs(kind: AlertKind) -> dict[str, SlotSpec]:
    return {s.name: s for s in SLOTS[kind]}


def alert_params(kind: AlertKind, values: Mapping[str, str | None], *,
                 sources: Mapping[str, str] | None = None) -> dict[str, str]:
    """The parameters of a ``kind`` alert: slot values normalised and checked, context values (ids, codes) kept,
    ``None`` left out. Raises ContractError naming ``sources[slot]`` (the producer's input field) or
    ``params.<slot>``, so an intake can refuse the input that would cause an alert that cannot be composed."""
    specs = slot_specs(kind)
    sources = sources or {}
    params: dict[str, str] = {}
    errors: list[FieldError] = []
    for name, raw in values.items():
        if raw is None:
            continue
        if name not in specs:
            params[name] = raw
            continue
        try:
            value = normalise_slot(specs[name], raw)
        except SlotError as exc:
            errors.append(FieldError(sources.get(name, f"params.{name}"), f"{exc.reason} (the {kind.value} alert's "
                                     f"'{name}')", exc.got))
            continue
        if value:
            params[name] = value
    for name, spec in specs.items():
        if spec.required and name not in params and not any(e.field == sources.get(name, f"params.{name}")
                                                            for e in errors):
            errors.append(FieldError(sources.get(name, f"params.{name}"), f"required by the {kind.value} alert"))
    if errors:
        raise ContractError(errors)
    return params
