"""Structured JSON logs for every process: one line per event, a correlation id, nothing that identifies a person.

Code everywhere logs with the standard library (``log.info("case opened", extra={...})``); this
module renders those records as JSON through structlog. Before rendering, whatever the level:

- fields that may carry names or free text are dropped (``SENSITIVE_KEYS``);
- phone numbers anywhere in a line are masked — found by libphonenumber's ``PhoneNumberMatcher``
  (``139 1234 5678``, ``(+86) 139-1234-5678``, ``0086 139…``, ``8613912345678``, full-width digits),
  not by a pattern of our own;
- 18-character resident ID numbers whose GB 11643 check digit is right are masked;
- an exception is logged as its type, a fingerprint of its text and where it was raised — never its
  text (a database error quotes the statement's parameters; a contract error quotes the value).

A log file is not a place for a child's or a reporter's identity.
"""

from __future__ import annotations

import hashlib
import logging
import logging.config
import re
import traceback
import unicodedata

import phonenumbers
import structlog

SENSITIVE_KEYS = frozenset({"name", "names", "reporter", "reporter_name", "phone", "to", "from_", "body",
                            "description", "summary", "children", "text", "location", "contact", "guardian"})
OURS = frozenset({"exception", "timestamp", "level", "logger"})  # written by this module, not by callers
REGION = "CN"  # numbers without a country code are read as mainland numbers
# a resident ID: 6 + 8 + 3 digits and a check character, optionally split by one space or hyphen per group
RESIDENT_ID = re.compile(r"(?<![0-9A-Za-z])(\d{6})[ -]?(\d{8})[ -]?(\d{3})(\d|[Xx])(?![0-9A-Za-z])")
ID_WEIGHTS = [2 ** (17 - i) % 11 for i in range(17)]
_MAX_SCAN = 20_000  # characters of one string scanned for numbers; beyond that the rest is cut, not scanned


def _digits_ascii(text: str) -> str:
    """The same text with every Unicode decimal digit (full-width ０-９, Arabic-Indic …) as ASCII, and
    full-width letters X/x as X: same length, so positions found here hold in the original."""
    out = []
    for ch in text:
        if ch.isascii():
            out.append(ch)
            continue
        digit = unicodedata.decimal(ch, None)
        out.append(str(digit) if digit is not None else ("X" if ch in "ＸｘⅩ" else ch))
    return "".join(out)


def id_check_character(first17: str) -> str:
    """GB 11643-1999 check character of a resident ID's first 17 digits (ISO 7064 MOD 11-2)."""
    return "10X98765432"[sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=False)) % 11]


def mask_resident_ids(text: str) -> str:
    ascii_text = _digits_ascii(text)
    spans = [m.span() for m in RESIDENT_ID.finditer(ascii_text)
             if id_check_character("".join(m.groups()[:3])) == m.group(4).upper()]
    for start, end in reversed(spans):
        text = text[:start] + "[resident-id]" + text[end:]
    return text


def _masked_number(digits: str) -> str:
    """`+8613912345678` → `+8***********78`: enough to tell two numbers apart in an incident, not to call one."""
    return "+" + digits[:1] + "*" * (len(digits) - 3) + digits[-2:]


def mask_phone(text: str) -> str:
    """Every phone number libphonenumber finds in free text, masked (international and mainland spellings)."""
    scan = _digits_ascii(text)
    # a stray "+" ("+ 130 0000 0000", "++139…", "+139…") makes the matcher read a country code and give up on the
    # number: scan once more with every plus blanked (same length, so the spans still fit the text)
    unplussed = scan.replace("+", " ")
    spans: list[tuple[int, int, str]] = []
    for candidate in dict.fromkeys((scan, unplussed)):
        for region in (REGION, None):  # None: only numbers written with their country code (+44 …, 0086 …)
            for match in phonenumbers.PhoneNumberMatcher(candidate, region or "ZZ",
                                                         leniency=phonenumbers.Leniency.VALID):
                if any(s < match.end and match.start < e for s, e, _ in spans):
                    continue
                n = match.number
                spans.append((match.start, match.end, f"{n.country_code}{n.national_number}"))
    for run in re.finditer(r"(?<!\d)(?:\+|00)?86(1[3-9]\d{9})(?!\d)", scan):  # 8613912345678: no separator at all
        if not any(s < run.end() and run.start() < e for s, e, _ in spans):
            spans.append((run.start(), run.end(), "86" + run.group(1)))
    for start, end, digits in sorted(spans, reverse=True):
        text = text[:start] + _masked_number(digits) + text[end:]
    return text


def mask_text(text: str) -> str:
    """Resident IDs first (their digits could look like a number), then phone numbers."""
    if len(text) > _MAX_SCAN:
        text = text[:_MAX_SCAN] + "…[cut]"
    return mask_phone(mask_resident_ids(text))


def exception_summary(exc: BaseException) -> dict:
    """What an operator needs from an exception without its text: type, a fingerprint to match repeats, where."""
    text = f"{type(exc).__module__}.{type(exc).__qualname__}: {exc}"
    frames = traceback.extract_tb(exc.__traceback__)[-5:]
    return {"type": f"{type(exc).__module__}.{type(exc).__qualname__}",
            "fingerprint": hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:16],
            "where": [f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} in {f.name}" for f in frames],
            **({"cause": exception_summary(exc.__cause__)["type"]} if exc.__cause__ is not None else {})}


def _scrub(value):
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, BaseException):
        return exception_summary(value)
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items() if k not in SENSITIVE_KEYS}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_scrub(v) for v in value]
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    return mask_text(str(value))


def masked(value):
    """A value for an operator's eyes: identifying fields shown as ``[redacted]``, numbers and IDs masked."""
    if isinstance(value, dict):
        return {k: "[redacted]" if k in SENSITIVE_KEYS and v is not None else masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v) for v in value]
    return _scrub(value)


def mask_exceptions(_logger, _method, event_dict: dict) -> dict:
    """structlog processor, in place of format_exc_info: the exception's type, fingerprint and frames only."""
    exc_info = event_dict.pop("exc_info", None)
    if exc_info:
        exc = exc_info[1] if isinstance(exc_info, tuple) else exc_info if isinstance(exc_info, BaseException) \
            else None
        if exc is None and exc_info is True:
            import sys

            exc = sys.exc_info()[1]
        if exc is not None:
            event_dict["exception"] = exception_summary(exc)
    event_dict.pop("stack_info", None)
    return event_dict


def redact(_logger, _method, event_dict: dict) -> dict:
    """structlog processor: drop identifying fields, mask numbers and IDs in everything else."""
    for key in [k for k in event_dict if k in SENSITIVE_KEYS]:
        event_dict[key] = "[redacted]"
    return {k: v if k in OURS else _scrub(v) for k, v in event_dict.items()}


def _formatter(fmt: str) -> structlog.stdlib.ProcessorFormatter:
    renderer = structlog.processors.JSONRenderer(ensure_ascii=False) if fmt == "json" else \
        structlog.dev.ConsoleRenderer(colors=False)
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.contextvars.merge_contextvars, structlog.stdlib.add_log_level,
                           structlog.stdlib.add_logger_name, structlog.stdlib.ExtraAdder(),
                           structlog.processors.TimeStamper(fmt="iso", utc=True)],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, mask_exceptions, redact, renderer])


def dict_config(level: int | str = "INFO", fmt: str = "json") -> dict:
    """A logging.config dict (also what the Faust worker is given): one stderr handler, JSON lines."""
    return {"version": 1, "disable_existing_loggers": False,
            "formatters": {"childsafe": {"()": _formatter, "fmt": fmt}},
            "handlers": {"default": {"class": "logging.StreamHandler", "formatter": "childsafe",
                                     "stream": "ext://sys.stderr"}},
            "root": {"level": level, "handlers": ["default"]}}


def configure(level: int | str = "INFO", fmt: str = "json") -> None:
    logging.config.dictConfig(dict_config(level, fmt))
    for noisy in ("aiokafka", "kafka", "faust", "mode"):
        logging.getLogger(noisy).setLevel(max(logging.getLevelName(level) if isinstance(level, str) else level,
                                              logging.WARNING))
