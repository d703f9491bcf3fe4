"""The operations layer's errors; each says what the operator should do."""

from contracts.errors import ChildSafeError


class ChildSafeOpsError(ChildSafeError):
    """Running the system failed: the message names the command or file to check."""
