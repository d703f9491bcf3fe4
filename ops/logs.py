"""Structured JSON logs for every process: one line per event, a correlation id, nothing that identifies a person.

Code everywhere logs with the standard library (``log.info("case opened", extra={...})``); this
module renders those records as JSON through structlog. Before rendering, phone numbers anywhere
in a line are masked and fields that may carry names or free text are dropped, whatever the level:
a log file is not a place for a child's or a reporter's identity.
"""

from __future__ import annotations

import logging
import logging.config
import re

import structlog

PHONE = re.compile(r"\+\d[\d \-]{6,18}\d|(?<!\d)1[3-9]\d{9}(?!\d)")  # E.164 (any spacing); bare CN mobile
SENSITIVE_KEYS = frozenset({"name", "names", "reporter", "reporter_name", "phone", "to", "from_", "body",
                            "description", "summary", "children", "text", "location", "contact", "guardian"})


def mask_phone(text: str) -> str:
    """`+12025550142` → `+1*******42`: enough to tell two numbers apart in an incident, not to call one."""
    def masked(m: re.Match) -> str:
        digits = re.sub(r"\D", "", m.group())
        if len(digits) < 8:
            return m.group()
        return ("+" if m.group().startswith("+") else "") + digits[:1] + "*" * (len(digits) - 3) + digits[-2:]
    return PHONE.sub(masked, text)


def _scrub(value):
    if isinstance(value, str):
        return mask_phone(value)
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items() if k not in SENSITIVE_KEYS}
    if isinstance(value, (list, tuple)):
        return [_scrub(v) for v in value]
    return value


def redact(_logger, _method, event_dict: dict) -> dict:
    """structlog processor: drop identifying fields, mask phone numbers in everything else."""
    for key in [k for k in event_dict if k in SENSITIVE_KEYS]:
        event_dict[key] = "[redacted]"
    return {k: _scrub(v) if k != "exc_info" else v for k, v in event_dict.items()}


def _formatter(fmt: str) -> structlog.stdlib.ProcessorFormatter:
    renderer = structlog.processors.JSONRenderer(ensure_ascii=False) if fmt == "json" else \
        structlog.dev.ConsoleRenderer(colors=False)
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.contextvars.merge_contextvars, structlog.stdlib.add_log_level,
                           structlog.stdlib.add_logger_name, structlog.stdlib.ExtraAdder(),
                           structlog.processors.TimeStamper(fmt="iso", utc=True)],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, redact,
                    structlog.processors.format_exc_info, renderer])


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
