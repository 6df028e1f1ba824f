"""Run every ``compat-snippet`` of docs/clients.md against the main mock.

A snippet is the sh code block after a line ``<!-- compat-snippet: NAME
expect: TEXT -->``. Before it runs, the documented HTTPS address, HTTP
address and CA path are replaced with those of the mock this session
started. It runs in bash with a fresh home and working directory, and it
passes when it exits 0 and prints TEXT.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from compat_support import REPO_DIR, run, subprocess_env

CLIENTS_DOC = REPO_DIR / "docs" / "clients.md"
DOC_HTTPS_ADDRESS = "127.0.0.1:8443"
DOC_HTTP_ADDRESS = "127.0.0.1:8080"
DOC_CA_PATH = "/tmp/qualys-mock-ca.pem"
EXPECTED_SNIPPETS = {"qualysapi", "qualysapi-config", "qualys-cli", "qualys-cli-library", "qualys-cli-config", "qualysclient"}

_SNIPPET = re.compile(
    r"<!-- compat-snippet: (?P<name>[\w-]+) expect: (?P<expect>.+?) -->\n```sh\n(?P<code>.*?)\n```",
    re.DOTALL,
)


@dataclass(frozen=True)
class Snippet:
    name: str
    expect: str
    code: str


def read_snippets() -> list[Snippet]:
    text = CLIENTS_DOC.read_text(encoding="utf-8")
    return [Snippet(m["name"], m["expect"], m["code"]) for m in _SNIPPET.finditer(text)]


SNIPPETS = read_snippets()


def test_every_client_has_snippets():
    assert {snippet.name for snippet in SNIPPETS} == EXPECTED_SNIPPETS


@pytest.mark.parametrize("snippet", SNIPPETS, ids=[snippet.name for snippet in SNIPPETS])
def test_snippet_runs(snippet: Snippet, mock, tmp_path):
    assert DOC_HTTPS_ADDRESS in snippet.code or DOC_HTTP_ADDRESS in snippet.code
    code = (
        snippet.code.replace(DOC_HTTPS_ADDRESS, mock.https_address)
        .replace(DOC_HTTP_ADDRESS, mock.http_address)
        .replace(DOC_CA_PATH, str(mock.ca_path))
    )
    home = tmp_path / "home"
    home.mkdir()
    workdir = tmp_path / "work"
    workdir.mkdir()

    result = run(["bash", "-euo", "pipefail", "-c", code], subprocess_env(home), cwd=workdir)

    assert result.returncode == 0, f"{snippet.name} failed:\n{result.stdout}\n{result.stderr}"
    assert snippet.expect in result.stdout, result.stdout
