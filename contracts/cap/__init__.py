"""CAP 1.2 (OASIS Common Alerting Protocol) in and out: safe parsing, XSD validation, mapping to contracts."""

from contracts.cap.reader import from_cap
from contracts.cap.safe_xml import CapRejected
from contracts.cap.writer import to_cap

__all__ = ["CapRejected", "from_cap", "to_cap"]
