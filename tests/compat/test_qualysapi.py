"""qualysapi 8.1.0 (PyPI) against the mock over HTTPS.

How the client works, from its source in site-packages:
- qualysapi.connect(username=, password=, hostname=) builds a QGConnector;
  connector.url_api_version always prefixes ``https://{hostname}/``, so the
  mock is reached through its TLS listener and REQUESTS_CA_BUNDLE.
- Every /api/2.0/ call is a POST of a form body with HTTP Basic credentials
  and ``X-Requested-With: Parag Baxi QualysAPI (python) v8.1.0``; a trailing
  slash is added to the path.
- QGConnector.request reads ``x-ratelimit-remaining`` on every response. When
  the body contains CODE 1965 and "This API cannot be run again for another",
  it sleeps ``x-ratelimit-towait-sec`` seconds and sends the call again (up to
  10 times); on CODE 1960 and "This API cannot be run again until" it sleeps
  a fixed 30 seconds. Then raise_for_status() turns any 4xx into HTTPError.
- Responses are returned as text; the client's own helpers parse them with
  lxml.objectify, as these tests do.
"""

from __future__ import annotations

import os
import stat
import threading
import time

import pytest
import qualysapi
import requests
from lxml import objectify

import xmlcheck
from compat_support import ACCOUNTS, VMWARE_PATH, HeldCall, basic_header

LOGIN = "qapi"
PASSWORD = ACCOUNTS[LOGIN]


@pytest.fixture
def qgc(mock, trust_mock_ca):
    trust_mock_ca(mock)
    connection = qualysapi.connect(username=LOGIN, password=PASSWORD, hostname=mock.https_address)
    yield connection
    connection.session.close()


def create(qgc, title: str, ips: str, **extra) -> str:
    document = qgc.request(
        VMWARE_PATH,
        {"action": "create", "title": title, "username": "root", "password": "vmware-pass", "ips": ips, **extra},
    )
    root = xmlcheck.validate(document)
    assert root.findtext("RESPONSE/BATCH_LIST/BATCH/TEXT") == "Successfully Created"
    record_id = root.findtext("RESPONSE/BATCH_LIST/BATCH/ID_SET/ID")
    assert record_id is not None
    return record_id


def list_records(qgc, **filters) -> objectify.ObjectifiedElement:
    document = qgc.request(VMWARE_PATH, {"action": "list", **filters})
    xmlcheck.validate(document)
    return objectify.fromstring(document.encode("utf-8"))


def test_requests_are_aimed_at_mock(qgc, mock):
    url, data, headers, method = qgc.build_request(VMWARE_PATH, {"action": "list"})

    assert url == f"{mock.https_url}{VMWARE_PATH}"
    assert method == "post"
    assert headers["X-Requested-With"].startswith("Parag Baxi QualysAPI")


def test_vmware_record_lifecycle(qgc):
    record_id = create(qgc, "qualysapi lifecycle", "10.1.0.1-10.1.0.4", comments="made by qualysapi")

    listed = list_records(qgc, ids=record_id)
    record = listed.RESPONSE.AUTH_VMWARE_LIST.AUTH_VMWARE
    assert str(record.ID) == record_id
    assert str(record.TITLE) == "qualysapi lifecycle"
    assert str(record.USERNAME) == "root"
    assert str(record.IP_SET.IP_RANGE) == "10.1.0.1-10.1.0.4"
    assert str(record.COMMENTS) == "made by qualysapi"
    assert str(record.CREATED.BY) == LOGIN

    updated = qgc.request(VMWARE_PATH, {"action": "update", "ids": record_id, "add_ips": "10.1.0.9", "comments": "edited"})
    root = xmlcheck.validate(updated)
    assert root.findtext("RESPONSE/BATCH_LIST/BATCH/TEXT") == "Successfully Updated"
    assert root.findtext("RESPONSE/BATCH_LIST/BATCH/ID_SET/ID") == record_id

    record = list_records(qgc, ids=record_id).RESPONSE.AUTH_VMWARE_LIST.AUTH_VMWARE
    assert [str(ip) for ip in record.IP_SET.getchildren()] == ["10.1.0.1-10.1.0.4", "10.1.0.9"]
    assert str(record.COMMENTS) == "edited"

    deleted = qgc.request(VMWARE_PATH, {"action": "delete", "ids": record_id})
    root = xmlcheck.validate(deleted)
    assert root.findtext("RESPONSE/BATCH_LIST/BATCH/TEXT") == "Successfully Deleted"
    assert root.findtext("RESPONSE/BATCH_LIST/BATCH/ID_SET/ID") == record_id

    remaining = list_records(qgc, ids=record_id)
    assert not hasattr(remaining.RESPONSE, "AUTH_VMWARE_LIST")


def test_generic_list_groups_vmware_ids(qgc):
    record_id = create(qgc, "qualysapi generic list", "10.1.1.1")

    document = qgc.request("/api/2.0/fo/auth/", {"action": "list", "type": "vmware"})

    root = xmlcheck.validate(document)
    assert root.tag == "AUTH_RECORDS_OUTPUT"
    assert record_id in [e.text for e in root.iterfind("RESPONSE/AUTH_RECORDS/AUTH_VMWARE_IDS/ID_SET/ID")]


def test_about_page_over_api_v1(qgc):
    document = qgc.request("about.php")

    root = xmlcheck.validate(document)
    assert root.tag == "ABOUT"
    assert qgc.rate_limit_remaining["about.php"] > 0


def test_rate_limit_remaining_is_recorded(qgc):
    qgc.request(VMWARE_PATH, {"action": "list"})

    # QGConnector keys the counter by the call exactly as the caller passed it.
    assert qgc.rate_limit_remaining[VMWARE_PATH] > 0


def test_duplicate_title_reports_1920(qgc):
    create(qgc, "qualysapi duplicate", "10.1.2.1")

    # qualysapi raises HTTPError for any 4xx response and returns 2xx bodies, so
    # either form carries the failure; the client needs CODE 1920 in the body.
    try:
        body = qgc.request(
            VMWARE_PATH,
            {"action": "create", "title": "qualysapi duplicate", "username": "root", "password": "pw", "ips": "10.1.2.2"},
        )
        status = 200
    except requests.HTTPError as error:
        body = error.response.text
        status = error.response.status_code

    root = xmlcheck.validate(body)
    assert status in (200, 409)
    assert root.findtext(".//CODE") == "1920"
    assert "qualysapi duplicate" in root.findtext(".//TEXT")


def test_update_unknown_id_reports_1905(qgc):
    document = qgc.request(VMWARE_PATH, {"action": "update", "ids": "999999", "comments": "nobody"})

    root = xmlcheck.validate(document)
    batch = root.find("RESPONSE/BATCH_LIST/BATCH")
    assert batch.findtext("CODE") == "1905"
    assert "not found" in batch.findtext("TEXT")
    assert batch.findtext("ID_SET/ID") == "999999"


def test_delete_unknown_id_reports_1905(qgc):
    document = qgc.request(VMWARE_PATH, {"action": "delete", "ids": "999998"})

    root = xmlcheck.validate(document)
    assert root.findtext("RESPONSE/BATCH_LIST/BATCH/CODE") == "1905"


def test_wrong_password_raises_401(mock, trust_mock_ca):
    trust_mock_ca(mock)
    connection = qualysapi.connect(username=LOGIN, password="wrong", hostname=mock.https_address)

    with pytest.raises(requests.HTTPError) as raised:
        connection.request(VMWARE_PATH, {"action": "list"})

    response = raised.value.response
    assert response.status_code == 401
    root = xmlcheck.validate(response.text)
    assert root.findtext("RESPONSE/CODE") == "2000"


def test_config_file_points_at_mock(mock, trust_mock_ca, tmp_path):
    trust_mock_ca(mock)
    config = tmp_path / "qualys-mock.qcrc"
    config.write_text(f"[info]\nhostname = {mock.https_address}\nusername = {LOGIN}\npassword = {PASSWORD}\n")
    config.chmod(stat.S_IRUSR | stat.S_IWUSR)

    connection = qualysapi.connect(config_file=str(config))
    document = connection.request(VMWARE_PATH, {"action": "list"})

    assert connection.server == mock.https_address
    assert xmlcheck.validate(document).tag == "AUTH_VMWARE_LIST_OUTPUT"


def test_rate_limit_409_is_retried_after_wait(mock_rate_short, trust_mock_ca):
    login = "qapi-rate"
    trust_mock_ca(mock_rate_short)
    connection = qualysapi.connect(username=login, password="any", hostname=mock_rate_short.https_address)

    connection.request(VMWARE_PATH, {"action": "list"})
    connection.request(VMWARE_PATH, {"action": "list"})
    started = time.monotonic()
    document = connection.request(VMWARE_PATH, {"action": "list"})
    waited = time.monotonic() - started

    assert xmlcheck.validate(document).tag == "AUTH_VMWARE_LIST_OUTPUT"
    logged = mock_rate_short.wait_for_requests(login, 4)
    assert [(entry.status, entry.code) for entry in logged] == [(200, None), (200, None), (409, 1965), (200, None)]
    # The client slept X-RateLimit-ToWait-Sec (at least 1 s) before the retry.
    assert waited >= 1.0


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_concurrency_409_is_retried_after_30_seconds(mock_concurrency, trust_mock_ca):
    login = "qapi-running"
    trust_mock_ca(mock_concurrency)
    held_call = HeldCall(mock_concurrency.http_address, login, "any")
    releaser = threading.Timer(2.0, held_call.finish)
    try:
        # Wait until the mock counts the held call as running. A probe sent
        # earlier could take the slot and get the held call turned away.
        held_call.wait_until_running(mock_concurrency.http_url)
        probe_url = f"{mock_concurrency.http_url}{VMWARE_PATH}"
        probe_headers = {"Authorization": basic_header(login, "any"), "X-Requested-With": "compat probe"}
        probes = 0
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            probe = requests.post(probe_url, data={"action": "list"}, headers=probe_headers, timeout=5)
            probes += 1
            if probe.status_code == 409:
                break
            time.sleep(0.1)
        assert probe.status_code == 409
        assert xmlcheck.validate(probe.text).findtext("RESPONSE/CODE") == "1960"
        # Every probe is logged before the held_call call, which is still running.
        logged_before = len(mock_concurrency.wait_for_requests(login, probes))

        releaser.start()
        connection = qualysapi.connect(username=login, password="any", hostname=mock_concurrency.https_address)
        started = time.monotonic()
        document = connection.request(VMWARE_PATH, {"action": "list"})
        waited = time.monotonic() - started
        releaser.join(10)
    finally:
        releaser.cancel()
        held_call.sock.close()

    assert xmlcheck.validate(document).tag == "AUTH_VMWARE_LIST_OUTPUT"
    logged = mock_concurrency.wait_for_requests(login, logged_before + 3)[logged_before:]
    # The client's first try was turned away with 1960, the held_call call
    # finished, and the client's retry after its fixed 30 s sleep succeeded.
    assert [(entry.status, entry.code) for entry in logged] == [(409, 1960), (200, None), (200, None)]
    assert waited >= 29.0


def test_client_default_host_is_not_used(mock, trust_mock_ca):
    # qualysapi.connect() defaults hostname to qualysapi.qualys.com; passing
    # the mock's address must replace it everywhere, retries included.
    trust_mock_ca(mock)
    connection = qualysapi.connect(username=LOGIN, password=PASSWORD, hostname=mock.https_address)

    assert connection.url_api_version(1) == f"{mock.https_url}/msp/"
    assert connection.url_api_version(2) == f"{mock.https_url}/"
    assert os.environ["REQUESTS_CA_BUNDLE"] == str(mock.ca_path)
