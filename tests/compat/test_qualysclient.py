"""qualysclient 0.0.4.8.3 (PyPI) against the mock over HTTPS, with sessions.

How the client works, from its source in site-packages:
- The hosts are constants: _defaults.AUTH_URI
  (https://qualysapi.qualys.com/api/2.0/fo/session/) and _defaults.BASE_URI.
  __init__.py and _util.py copy them into their own namespaces at import, and
  there is no parameter, variable or file to change them, so the tests point
  the client at the mock by replacing qualysclient.AUTH_URI and
  qualysclient._util.BASE_URI (see docs/clients.md).
- QualysClient(username=, password=) logs in at once: POST action=login to
  AUTH_URI on a requests.Session that carries ``X-Requested-With: Qualys
  Client - Python``. The session then sends the QualysSession cookie; no
  Basic credentials are ever sent. logout() and the context manager's
  __exit__ POST action=logout. A failed login is only printed.
- The client has no VMware methods. _util._perform_request(client, url,
  params, method) is the request path every method ends in, so the tests
  call it with the VMware URL.
- _perform_request retries only timeouts. On any HTTPError it reads
  RESPONSE/CODE and RESPONSE/TEXT with _util.extract_qualys_error_codes,
  raises LoginError on 401, and returns the response for every other status,
  409 included (its 1960 and 1965 branches do nothing).
"""

from __future__ import annotations

import pytest
import qualysclient
import qualysclient._defaults
import qualysclient._util
import requests
from qualysclient.exceptions import LoginError

import xmlcheck
from compat_support import ACCOUNTS, SESSION_PATH, VMWARE_PATH

LOGIN = "qclient"
PASSWORD = ACCOUNTS[LOGIN]


@pytest.fixture
def point_at(monkeypatch, trust_mock_ca):
    """Return a function that aims qualysclient at one mock's HTTPS listener."""

    def point(server) -> None:
        trust_mock_ca(server)
        session_uri = f"{server.https_url}{SESSION_PATH}"
        monkeypatch.setattr(qualysclient, "AUTH_URI", session_uri)
        monkeypatch.setattr(qualysclient._defaults, "AUTH_URI", session_uri)
        monkeypatch.setattr(qualysclient._defaults, "BASE_URI", server.https_url)
        monkeypatch.setattr(qualysclient._util, "BASE_URI", server.https_url)

    return point


def call(client, server, **params) -> requests.Response:
    return qualysclient._util._perform_request(client, f"{server.https_url}{VMWARE_PATH}", params, "POST")


def create(client, server, title: str, ips: str) -> str:
    response = call(client, server, action="create", title=title, username="root", password="vmware-pass", ips=ips)
    assert response.status_code == 200
    root = xmlcheck.validate(response.text)
    assert root.findtext("RESPONSE/BATCH_LIST/BATCH/TEXT") == "Successfully Created"
    return root.findtext("RESPONSE/BATCH_LIST/BATCH/ID_SET/ID")


def test_login_sets_session_cookie(mock, point_at):
    point_at(mock)
    # Session calls are logged without a user, as "-".
    before = len(mock.requests("-"))

    client = qualysclient.QualysClient(username=LOGIN, password=PASSWORD)
    try:
        cookie = client.s.cookies.get("QualysSession")
    finally:
        client.logout()

    assert cookie
    logged = mock.wait_for_requests("-", before + 2)[before:]
    assert [(entry.method, entry.path, entry.status) for entry in logged] == [("POST", SESSION_PATH, 200)] * 2


def test_vmware_lifecycle_over_session(mock, point_at):
    point_at(mock)

    before = len(mock.requests(LOGIN))

    with qualysclient.QualysClient(username=LOGIN, password=PASSWORD) as client:
        assert "Authorization" not in client.s.headers
        record_id = create(client, mock, "qualysclient lifecycle", "10.3.0.1-10.3.0.2")

        listed = call(client, mock, action="list", ids=record_id)
        record = xmlcheck.validate(listed.text).find("RESPONSE/AUTH_VMWARE_LIST/AUTH_VMWARE")
        assert record.findtext("TITLE") == "qualysclient lifecycle"
        assert record.findtext("CREATED/BY") == LOGIN
        assert listed.request.headers["Cookie"].startswith("QualysSession=")
        assert "Authorization" not in listed.request.headers

        updated = call(client, mock, action="update", ids=record_id, remove_ips="10.3.0.2")
        root = xmlcheck.validate(updated.text)
        assert root.findtext("RESPONSE/BATCH_LIST/BATCH/TEXT") == "Successfully Updated"
        listed = call(client, mock, action="list", ids=record_id)
        ips = xmlcheck.validate(listed.text).find("RESPONSE/AUTH_VMWARE_LIST/AUTH_VMWARE/IP_SET")
        assert [ip.text for ip in ips] == ["10.3.0.1"]

        deleted = call(client, mock, action="delete", ids=record_id)
        assert xmlcheck.validate(deleted.text).findtext("RESPONSE/BATCH_LIST/BATCH/TEXT") == "Successfully Deleted"
        after_delete = call(client, mock, action="list", ids=record_id)
        assert xmlcheck.validate(after_delete.text).find("RESPONSE/AUTH_VMWARE_LIST") is None

    logged = mock.wait_for_requests(LOGIN, before + 6)[before:]
    assert [entry.action for entry in logged] == ["create", "list", "update", "list", "delete", "list"]


def test_logout_ends_session(mock, point_at):
    point_at(mock)
    client = qualysclient.QualysClient(username=LOGIN, password=PASSWORD)
    token = client.s.cookies.get("QualysSession")

    client.logout()

    assert client.s.cookies.get("QualysSession") is None
    with pytest.raises(LoginError):
        call(client, mock, action="list")
    # The mock ended the session too, not only the client's cookie jar.
    replayed = requests.post(
        f"{mock.https_url}{VMWARE_PATH}",
        data={"action": "list"},
        headers={"X-Requested-With": "compat suite", "Cookie": f"QualysSession={token}"},
        timeout=10,
    )
    assert replayed.status_code == 401
    assert xmlcheck.validate(replayed.text).findtext("RESPONSE/CODE") == "2000"


def test_update_unknown_id_reports_1905(mock, point_at):
    point_at(mock)

    with qualysclient.QualysClient(username=LOGIN, password=PASSWORD) as client:
        response = call(client, mock, action="update", ids="999999", comments="nobody")

    assert response.status_code == 200
    batch = xmlcheck.validate(response.text).find("RESPONSE/BATCH_LIST/BATCH")
    assert batch.findtext("CODE") == "1905"
    assert batch.findtext("ID_SET/ID") == "999999"


def test_duplicate_title_is_reported(mock, point_at):
    point_at(mock)

    with qualysclient.QualysClient(username=LOGIN, password=PASSWORD) as client:
        create(client, mock, "qualysclient duplicate", "10.3.1.1")
        response = call(client, mock, action="create", title="qualysclient duplicate", username="root", password="pw", ips="10.3.1.2")

    root = xmlcheck.validate(response.text)
    assert root.findtext(".//CODE") == "1920"


def test_wrong_password_raises_login_error(mock, point_at, capsys):
    point_at(mock)

    client = qualysclient.QualysClient(username=LOGIN, password="wrong")
    printed = capsys.readouterr().out
    with pytest.raises(LoginError):
        call(client, mock, action="list")

    assert "Status: 401" in printed
    assert client.s.cookies.get("QualysSession") is None


def test_rate_limit_409_is_returned_without_retry(mock_rate_long, point_at):
    login = "qclient-rate"
    point_at(mock_rate_long)

    with qualysclient.QualysClient(username=login, password="any") as client:
        first = call(client, mock_rate_long, action="list")
        second = call(client, mock_rate_long, action="list")

    assert first.status_code == 200
    assert second.status_code == 409
    xmlcheck.validate(second.text)
    code, text = qualysclient._util.extract_qualys_error_codes(second)
    assert code == "1965"
    assert text.startswith("This API cannot be run again for another ")
    assert int(second.headers["X-RateLimit-ToWait-Sec"]) > 0
    api_calls = [entry for entry in mock_rate_long.wait_for_requests(login, 2) if entry.path == VMWARE_PATH]
    assert [(entry.status, entry.code) for entry in api_calls] == [(200, None), (409, 1965)]


def test_builtin_action_goes_to_mock(mock, point_at):
    # A built-in method builds its URL from _util.BASE_URI; the mock does not
    # serve reports, so it returns 404, which the client returns as is.
    point_at(mock)

    with qualysclient.QualysClient(username=LOGIN, password=PASSWORD) as client:
        response = client.list_reports()

    assert response.url.startswith(f"{mock.https_url}/api/2.0/fo/report/")
    assert response.status_code == 404
    assert xmlcheck.validate(response.text).tag == "SIMPLE_RETURN"
