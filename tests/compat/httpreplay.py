"""Parse and replay the raw HTTP exchanges in tests/compat/exchanges/*.http.

The files follow the REST Client ``.http`` layout, so editors that know it can
send them by hand, and any language can replay them:

- ``###`` on a line of its own separates requests. Text before the first
  ``###`` describes the file and may hold ``# @server NAME`` to pick another
  mock fixture than ``replay``.
- In each request block, ``#`` lines come first. Plain ones are comments.
  ``# @name NAME`` labels the exchange, ``# @expect ...`` states a fact about
  the response and ``# @capture VAR = ...`` stores a value for ``{{VAR}}``
  in later requests of the same file.
- Then the request line (``METHOD URL``, an optional ``HTTP/1.1``), header
  lines, a blank line and the body, sent byte for byte with a Content-Length.
- ``{{base}}`` is the mock's ``http://127.0.0.1:PORT`` and ``{{host}}`` its
  ``127.0.0.1:PORT``.

Expectations, each checked in order:
    status CODE                     HTTP status
    header NAME: VALUE              header present with exactly this value
    header NAME ~ REGEX             header present, its value matches REGEX
    header NAME                     header present
    no-header NAME                  header absent
    xpath PATH = TEXT               text of the first element at PATH
    xpath PATH ~ REGEX              that text matches REGEX (re.search)
    xpath PATH                      at least one element at PATH
    no-xpath PATH                   no element at PATH
    count PATH = N                  number of elements at PATH
Captures:
    VAR = xpath PATH                text of the first element at PATH
    VAR = header NAME ~ REGEX       first group of REGEX in the header value
PATH is an ElementPath starting at the root element's name, such as
``/BATCH_RETURN/RESPONSE/BATCH_LIST/BATCH/TEXT``. Every response with an XML
body is also validated against its DTD (xmlcheck.validate).
"""

from __future__ import annotations

import http.client
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import xmlcheck

REQUEST_TIMEOUT_SECONDS = 10
_VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_REQUEST_LINE = re.compile(r"^(GET|POST|PUT|DELETE|HEAD|PATCH|OPTIONS)\s+(\S+)(?:\s+HTTP/1\.1)?$")


@dataclass
class Exchange:
    """One request of a .http file and the facts expected of its response."""

    name: str
    line: int
    method: str
    url: str
    headers: list[tuple[str, str]]
    body: str
    expectations: list[str] = field(default_factory=list)
    captures: list[str] = field(default_factory=list)


@dataclass
class ExchangeFile:
    path: Path
    server: str
    exchanges: list[Exchange]


def parse(path: Path) -> ExchangeFile:
    """Read a .http file into its exchanges; raise ValueError on bad syntax."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[tuple[int, list[str]]] = [(1, [])]
    for number, line in enumerate(lines, start=1):
        if line.strip().startswith("###"):
            blocks.append((number + 1, []))
        else:
            blocks[-1][1].append(line)

    server = "replay"
    for line in blocks[0][1]:
        match = re.match(r"#\s*@server\s+(\S+)\s*$", line.strip())
        if match:
            server = match.group(1)

    exchanges = [_parse_block(path, start, block) for start, block in blocks[1:] if any(line.strip() for line in block)]
    if not exchanges:
        raise ValueError(f"{path}: no requests")
    return ExchangeFile(path=path, server=server, exchanges=exchanges)


def _parse_block(path: Path, start: int, block: list[str]) -> Exchange:
    index = 0
    name = ""
    expectations: list[str] = []
    captures: list[str] = []
    while index < len(block) and (not block[index].strip() or block[index].lstrip().startswith("#")):
        directive = re.match(r"#\s*@(name|expect|capture)\s+(.*\S)\s*$", block[index].strip())
        if directive:
            kind, value = directive.groups()
            if kind == "name":
                name = value
            elif kind == "expect":
                expectations.append(value)
            else:
                captures.append(value)
        index += 1
    if index == len(block):
        raise ValueError(f"{path}:{start}: request block has no request line")

    request_line = _REQUEST_LINE.match(block[index].strip())
    if not request_line:
        raise ValueError(f"{path}:{start + index}: invalid request line {block[index]!r}")
    method, url = request_line.groups()
    index += 1

    headers = []
    while index < len(block) and block[index].strip():
        header_name, colon, value = block[index].partition(":")
        if not colon:
            raise ValueError(f"{path}:{start + index}: invalid header line {block[index]!r}")
        headers.append((header_name.strip(), value.strip()))
        index += 1

    body = "\n".join(block[index + 1 :]).strip("\n")
    return Exchange(
        name=name or f"{method} {url}",
        line=start,
        method=method,
        url=url,
        headers=headers,
        body=body,
        expectations=expectations,
        captures=captures,
    )


def _substitute(text: str, variables: dict[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in variables:
            raise AssertionError(f"variable {{{{{key}}}}} is not defined")
        return variables[key]

    return _VARIABLE.sub(replace, text)


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes


def send(exchange: Exchange, variables: dict[str, str]) -> Response:
    """Send the exchange's request over a new connection and read the response."""
    url = urlsplit(_substitute(exchange.url, variables))
    if url.scheme != "http" or url.hostname not in ("127.0.0.1", "::1", "localhost"):
        raise AssertionError(f"exchange {exchange.name!r} targets {url.geturl()}; only the local mock is allowed")
    target = url.path + (f"?{url.query}" if url.query else "")
    body = _substitute(exchange.body, variables).encode("utf-8")

    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=REQUEST_TIMEOUT_SECONDS)
    try:
        names = {name.lower() for name, _ in exchange.headers}
        connection.putrequest(exchange.method, target, skip_host="host" in names, skip_accept_encoding=True)
        for name, value in exchange.headers:
            connection.putheader(name, _substitute(value, variables))
        if body or exchange.method in ("POST", "PUT", "PATCH"):
            if "content-length" not in names:
                connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body or None)
        http_response = connection.getresponse()
        return Response(status=http_response.status, headers=http_response.headers, body=http_response.read())
    finally:
        connection.close()


def _element_path(path: str, root_tag: str) -> str:
    parts = path.strip().lstrip("/").split("/", 1)
    if parts[0] != root_tag:
        raise AssertionError(f"path {path} does not start at the root element {root_tag}")
    return parts[1] if len(parts) > 1 else "."


def check(exchange: Exchange, response: Response, variables: dict[str, str]) -> None:
    """Assert every expectation of ``exchange`` and store its captures."""
    where = f"exchange {exchange.name!r} (line {exchange.line})"
    body_text = response.body.decode("utf-8", "replace")
    root = None
    if response.body.lstrip().startswith(b"<?xml"):
        root = xmlcheck.validate(response.body)

    def need_root():
        if root is None:
            raise AssertionError(f"{where}: the response has no XML body:\n{body_text[:300]}")
        return root

    for raw in exchange.expectations:
        expectation = _substitute(raw, variables)
        kind, _, rest = expectation.partition(" ")
        rest = rest.strip()
        if kind == "status":
            assert response.status == int(rest), f"{where}: status {response.status}, expected {rest}\n{body_text}"
        elif kind == "header":
            match = re.match(r"([A-Za-z0-9-]+)\s*(?:(:|~)\s*(.*))?$", rest)
            if not match:
                raise AssertionError(f"{where}: invalid expectation {expectation!r}")
            name, operator, value = match.groups()
            actual = response.headers.get(name)
            assert actual is not None, f"{where}: header {name} missing"
            if operator == ":":
                assert actual == value, f"{where}: header {name} is {actual!r}, expected {value!r}"
            elif operator == "~":
                assert re.search(value, actual), f"{where}: header {name} is {actual!r}, expected to match {value!r}"
        elif kind == "no-header":
            assert response.headers.get(rest) is None, f"{where}: header {rest} present"
        elif kind in ("xpath", "no-xpath", "count"):
            element = need_root()
            match = re.match(r"(\S+)(?:\s+([=~])\s+(.*))?$", rest)
            if not match:
                raise AssertionError(f"{where}: invalid expectation {expectation!r}")
            path, operator, value = match.groups()
            found = element.findall(_element_path(path, element.tag))
            if kind == "no-xpath":
                assert not found, f"{where}: {path} present\n{body_text}"
            elif kind == "count":
                assert operator == "=", f"{where}: count needs '= N'"
                assert len(found) == int(value), f"{where}: {len(found)} elements at {path}, expected {value}\n{body_text}"
            else:
                assert found, f"{where}: nothing at {path}\n{body_text}"
                text = found[0].text or ""
                if operator == "=":
                    assert text == value, f"{where}: {path} is {text!r}, expected {value!r}"
                elif operator == "~":
                    assert re.search(value, text), f"{where}: {path} is {text!r}, expected to match {value!r}"
        else:
            raise AssertionError(f"{where}: unknown expectation {expectation!r}")

    for raw in exchange.captures:
        match = re.match(r"([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(xpath|header)\s+(.*\S)\s*$", raw)
        if not match:
            raise AssertionError(f"{where}: invalid capture {raw!r}")
        variable, source, spec = match.groups()
        if source == "xpath":
            element = need_root()
            value = element.findtext(_element_path(spec, element.tag))
            assert value is not None, f"{where}: nothing at {spec} to capture\n{body_text}"
        else:
            name, _, pattern = spec.partition("~")
            header = response.headers.get(name.strip()) or ""
            found = re.search(pattern.strip(), header)
            assert found, f"{where}: header {name.strip()} {header!r} does not match {pattern.strip()!r}"
            value = found.group(1)
        variables[variable] = value


def replay(exchange_file: ExchangeFile, base_url: str) -> int:
    """Send every exchange of the file in order; return how many ran."""
    variables = {"base": base_url, "host": urlsplit(base_url).netloc}
    for exchange in exchange_file.exchanges:
        check(exchange, send(exchange, variables), variables)
    return len(exchange_file.exchanges)
