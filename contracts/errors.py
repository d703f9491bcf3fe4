"""The project's one exception root and the contract errors that name the field at fault."""

from __future__ import annotations

from dataclasses import dataclass


class ChildSafeError(Exception):
    """Root of every error ChildSafe raises on purpose."""


@dataclass(frozen=True)
class FieldError:
    """One problem with one field: where it is, what was expected, and what came."""

    field: str
    reason: str
    got: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {"field": self.field, "reason": self.reason, "got": self.got}

    def __str__(self) -> str:
        tail = f" (got {self.got})" if self.got is not None else ""
        return f"{self.field}: {self.reason}{tail}"


class ContractError(ChildSafeError):
    """A message does not satisfy its contract; fix the sender named by the fields listed."""

    def __init__(self, errors: list[FieldError]):
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors))

    @property
    def reason(self) -> str:
        return str(self)
