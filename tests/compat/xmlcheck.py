"""Validate the XML documents clients receive against the DTDs in dtd/.

Each document must start with a UTF-8 XML declaration and an external DOCTYPE
whose root name matches the root element, and it must be valid against the
repository's DTD with the same file name as the DOCTYPE's system URL. The DTD
is read from disk, never fetched, so validation works whatever URL the
DOCTYPE names; test_tls_urls.py checks those URLs separately.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from lxml import etree

DTD_DIR = Path(__file__).resolve().parents[2] / "dtd"
_EXTERNAL_DOCTYPE = re.compile(rb'<!DOCTYPE [A-Z_]+ SYSTEM "[^"]+">')


@lru_cache(maxsize=None)
def _dtd(file_name: str) -> etree.DTD:
    path = DTD_DIR / file_name
    if not path.is_file():
        raise AssertionError(f"DOCTYPE names {file_name}, which is not in {DTD_DIR}")
    return etree.DTD(str(path))


def parse(document: str | bytes) -> etree._Element:
    """Parse without loading any DTD or entity, and return the root element."""
    if isinstance(document, str):
        document = document.encode("utf-8")
    parser = etree.XMLParser(load_dtd=False, no_network=True, resolve_entities=False)
    return etree.fromstring(document, parser)


def validate(document: str | bytes) -> etree._Element:
    """Check declaration, DOCTYPE and DTD validity; return the root element."""
    raw = document.encode("utf-8") if isinstance(document, str) else document
    assert raw.startswith(b'<?xml version="1.0" encoding="UTF-8"'), raw[:80]
    root = parse(raw)
    docinfo = root.getroottree().docinfo
    # An external DOCTYPE and nothing else: no internal subset in brackets.
    assert _EXTERNAL_DOCTYPE.search(raw), f"DOCTYPE is not external-only in {raw[:200]!r}"
    assert docinfo.system_url, f"no external DOCTYPE in {raw[:200]!r}"
    assert docinfo.root_name == root.tag, (docinfo.root_name, root.tag)

    dtd_name = PurePosixPath(urlsplit(docinfo.system_url).path).name
    dtd = _dtd(dtd_name)
    if not dtd.validate(root):
        errors = "\n".join(str(error) for error in dtd.error_log.filter_from_errors())
        raise AssertionError(f"{root.tag} is not valid against {dtd_name}:\n{errors}\n{raw.decode()}")
    return root


def doctype_url(document: str | bytes) -> str:
    """Return the system URL of the document's DOCTYPE."""
    return parse(document).getroottree().docinfo.system_url or ""


def text_of(root: etree._Element, path: str) -> str | None:
    """Return the text of the first element at ``path`` (ElementPath syntax)."""
    return root.findtext(path)
