"""Replay every exchanges/*.http file against a fresh login on its mock."""

from __future__ import annotations

from pathlib import Path

import pytest

import httpreplay

EXCHANGE_DIR = Path(__file__).resolve().parent / "exchanges"
EXCHANGE_FILES = sorted(EXCHANGE_DIR.glob("*.http"))
SERVER_FIXTURES = {"replay": "mock_replay", "rate-long": "mock_rate_long", "paged": "mock_paged"}


def test_exchange_files_exist():
    assert EXCHANGE_FILES, f"no .http files in {EXCHANGE_DIR}"


@pytest.mark.parametrize("path", EXCHANGE_FILES, ids=[path.stem for path in EXCHANGE_FILES])
def test_exchange_file_replays(path: Path, request: pytest.FixtureRequest):
    exchange_file = httpreplay.parse(path)
    fixture = SERVER_FIXTURES.get(exchange_file.server)
    assert fixture, f"{path.name}: unknown @server {exchange_file.server}; known: {sorted(SERVER_FIXTURES)}"
    server = request.getfixturevalue(fixture)

    count = httpreplay.replay(exchange_file, server.http_url)

    assert count == len(exchange_file.exchanges)
