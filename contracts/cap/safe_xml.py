"""Parse untrusted XML safely: size limit first, no DTD (so no entities, no expansion bombs), no network.

The bytes are first read by defusedxml with ``forbid_dtd``: a DOCTYPE stops the parse before any entity is
declared, let alone expanded. Only then does lxml build the tree used for XSD validation, itself with
entity resolution, DTD loading and network access off.
"""

from __future__ import annotations

from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree as defused
from defusedxml import DefusedXmlException
from lxml import etree

from contracts.errors import ContractError, FieldError

DEFAULT_MAX_BYTES = 1024 * 1024


class CapRejected(ContractError):
    """The CAP message was refused (too large, unsafe or invalid XML, or not CAP 1.2): ask the sender to fix
    the field named; nothing of it was accepted."""


def parse_untrusted(raw: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> etree._Element:
    if not isinstance(raw, (bytes, bytearray)):
        raise CapRejected([FieldError("(body)", "CAP XML must be given as bytes", type(raw).__name__)])
    if len(raw) > max_bytes:
        raise CapRejected([FieldError("(body)", f"larger than the {max_bytes}-byte limit for CAP XML",
                                      f"{len(raw)} bytes")])
    try:
        defused.fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise CapRejected([FieldError("(body)", "DTDs, entity declarations and external references are not "
                                      f"accepted in CAP XML ({type(exc).__name__})")]) from None
    except ParseError as exc:
        raise CapRejected([FieldError("(body)", f"not well-formed XML: {exc}")]) from None
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                             huge_tree=False, remove_comments=True, remove_pis=True)
    try:
        root = etree.fromstring(bytes(raw), parser)
    except etree.XMLSyntaxError as exc:
        raise CapRejected([FieldError("(body)", f"not well-formed XML: {exc}")]) from None
    if root.getroottree().docinfo.doctype:
        raise CapRejected([FieldError("(body)", "DTDs are not accepted in CAP XML")])
    return root
