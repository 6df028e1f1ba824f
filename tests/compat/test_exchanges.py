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


def test_replay_rejects_wrong_expectation(mock_replay, tmp_path: Path):
    wrong = tmp_path / "wrong.http"
    wrong.write_text(
        "# An expectation the mock does not meet must fail the replay.\n"
        "###\n"
        "# @expect status 200\n"
        "# @expect xpath /SIMPLE_RETURN/RESPONSE/CODE = 1903\n"
        "GET {{base}}/api/2.0/fo/auth/vmware/?action=list HTTP/1.1\n"
        "X-Requested-With: curl\n"
    )

    with pytest.raises(AssertionError, match="status 401, expected 200"):
        httpreplay.replay(httpreplay.parse(wrong), mock_replay.http_url)


def test_replay_refuses_other_hosts(tmp_path: Path):
    remote = tmp_path / "remote.http"
    remote.write_text("###\n# @expect status 200\nGET https://qualysapi.qualys.com/msp/about.php HTTP/1.1\n")

    with pytest.raises(AssertionError, match="only the local mock is allowed"):
        httpreplay.replay(httpreplay.parse(remote), "http://127.0.0.1:9")
