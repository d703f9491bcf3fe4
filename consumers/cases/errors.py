"""The case workflow's errors; each says what the caller or operator should do."""

from __future__ import annotations

from contracts.errors import ChildSafeError, FieldError


class CaseError(ChildSafeError):
    """A case action could not be done; the message says why."""


class CaseNotFound(CaseError):
    """No such case in the caller's scope: check the case id, or ask the unit that owns the case."""


class IllegalTransition(CaseError):
    """The case is not in a state that allows this step: read the case's state and take the allowed step."""


class ReferralError(CaseError):
    """The referral cannot be answered this way: check its id, its state and who it was sent to."""


class InvalidCaseInput(CaseError):
    """A field of the request is missing or wrong: fix the field named."""

    def __init__(self, errors: list[FieldError]):
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors))


class NotAuthenticated(CaseError):
    """No valid access token was given: issue one with `childsafe tokens create`."""


class Forbidden(CaseError):
    """The token's role may not do this: use a token of a role that may (see docs/cases.md)."""
