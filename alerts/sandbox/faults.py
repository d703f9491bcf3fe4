"""Failure injection for the sandbox: which requests fail, and how, per number pattern or at a rate.

A rule is written ``kind[:pattern][@rate][~delay]`` (``invalid:^\\+4477009000``, ``server_error@0.1``,
``slow@0.2~0.5``) or as a JSON object. Rules are tried in order for each request; the first whose pattern
matches the ``To`` number and whose rate draw succeeds applies. The draws come from one seeded RNG, so a
run with the same seed and the same request order fails the same requests.
"""

from __future__ import annotations

import random
import re
import threading
from dataclasses import asdict, dataclass

REFUSALS = {
    "invalid": (400, 21211, "The 'To' number {to} is not a valid phone number."),
    "unsubscribed": (400, 21610, "Attempt to send to unsubscribed recipient"),
    "not_mobile": (400, 21614, "'To' number is not a valid mobile number"),
    "rate_limited": (429, 20429, "Too Many Requests"),
    "server_error": (500, 20500, "Internal Server Error"),
}
"""Refused before acceptance: nothing is stored. kind -> (HTTP status, Twilio code, message)."""

ACCEPTED = {
    "slow": 0.5,               # stored, answered after ``delay`` seconds
    "response_lost": 0.0,      # stored, then the connection is dropped without an answer
    "response_timeout": 30.0,  # stored, the answer never comes within ``delay`` seconds, then dropped
    "undelivered": 0.0,        # stored and sent, then the handset does not take it (callback 30003 or ``code``)
    "queued_long": 60.0,       # stays queued ``delay`` s; past its ValidityPeriod it fails with 30036
}
"""Accepted by the sandbox (the message exists) but something goes wrong afterwards."""

_SPEC = re.compile(r"^(?P<kind>[a-z_]+)(?::(?P<pattern>[^@~]+))?(?:@(?P<rate>[0-9.]+))?(?:~(?P<delay>[0-9.]+))?$")


class FaultSpecError(ValueError):
    """A fault rule could not be parsed: the message names the rule and the accepted form."""


@dataclass(frozen=True)
class FaultRule:
    kind: str
    pattern: str | None = None
    rate: float = 1.0
    delay: float | None = None
    code: int | None = None
    on: str = "create"  # create | all (also GET look-ups; refusals and slow only)

    def __post_init__(self):
        if self.kind not in REFUSALS and self.kind not in ACCEPTED:
            raise FaultSpecError(f"fault kind {self.kind!r}: expected one of {sorted({**REFUSALS, **ACCEPTED})}")
        if not 0 <= self.rate <= 1:
            raise FaultSpecError(f"fault {self.kind} rate: expected 0..1, got {self.rate}")
        if self.pattern is not None:
            re.compile(self.pattern)

    @property
    def seconds(self) -> float:
        return self.delay if self.delay is not None else ACCEPTED.get(self.kind, 0.0)

    @classmethod
    def parse(cls, spec: str) -> FaultRule:
        m = _SPEC.match(spec.strip())
        if not m:
            raise FaultSpecError(f"fault {spec!r}: expected kind[:pattern][@rate][~delay], e.g. server_error@0.1")
        return cls(kind=m["kind"], pattern=m["pattern"], rate=float(m["rate"] or 1.0),
                   delay=float(m["delay"]) if m["delay"] else None)


class FaultPlan:
    """The ordered rules and the seeded RNG that draws against them."""

    def __init__(self, rules: list[FaultRule] | None = None, seed: int = 0):
        self.rules = list(rules or [])
        self.seed = seed
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    @classmethod
    def from_json(cls, data: dict) -> FaultPlan:
        rules = [FaultRule.parse(r) if isinstance(r, str) else FaultRule(**r) for r in data.get("rules", [])]
        return cls(rules, int(data.get("seed", 0)))

    def as_json(self) -> dict:
        return {"seed": self.seed, "rules": [asdict(r) for r in self.rules]}

    def pick(self, to: str, *, creating: bool) -> FaultRule | None:
        with self._lock:
            for rule in self.rules:
                if not creating and (rule.on != "all" or rule.kind not in (*REFUSALS, "slow")):
                    continue
                if rule.pattern and not re.search(rule.pattern, to):
                    continue
                if rule.rate >= 1 or self._rng.random() < rule.rate:
                    return rule
        return None
