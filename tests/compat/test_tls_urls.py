"""URLs the mock writes into documents, as a client on either listener receives them.

qualysapi can only reach the mock over HTTPS, so the DOCTYPE and paging URLs
it receives must name the HTTPS listener to be usable. A validating parser
fetches the DOCTYPE URL, and a client that follows a paging WARNING requests
its URL as given.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import qualysapi
import requests

import xmlcheck
from compat_support import VMWARE_PATH, basic_header


def fetch_dtd(url: str) -> bytes:
    response = requests.get(url, timeout=10)
    assert response.status_code == 200, url
    return response.content


def test_dtds_served_at_doctype_urls_over_http(mock_replay):
    headers = {"Authorization": basic_header("dtd-check", "any"), "X-Requested-With": "compat suite"}
    url = f"{mock_replay.http_url}{VMWARE_PATH}"
    created = requests.post(
        url,
        data={"action": "create", "title": "dtd check", "username": "root", "password": "pw", "ips": "10.9.0.1"},
        headers=headers,
        timeout=10,
    )
    documents = [
        created.text,
        requests.get(url, params={"action": "list"}, headers=headers, timeout=10).text,
        requests.get(url, params={"action": "bogus"}, headers=headers, timeout=10).text,
        requests.get(f"{mock_replay.http_url}/api/2.0/fo/auth/", params={"action": "list"}, headers=headers, timeout=10).text,
    ]

    for document in documents:
        xmlcheck.validate(document)
        doctype = xmlcheck.doctype_url(document)
        assert doctype.startswith(f"{mock_replay.http_url}/")
        local = xmlcheck.DTD_DIR / doctype.rsplit("/", 1)[1]
        assert fetch_dtd(doctype) == local.read_bytes()


def test_doctype_url_over_https_names_https(mock, trust_mock_ca):
    trust_mock_ca(mock)
    connection = qualysapi.connect(username="qapi", password="qapi-pass", hostname=mock.https_address)

    document = connection.request(VMWARE_PATH, {"action": "list"})

    doctype = xmlcheck.doctype_url(document)
    assert urlsplit(doctype).scheme == "https", doctype
    assert fetch_dtd(doctype)


def test_paging_url_over_https_names_https(mock_paged, trust_mock_ca):
    trust_mock_ca(mock_paged)
    connection = qualysapi.connect(username="qapi-pages", password="any", hostname=mock_paged.https_address)
    for n in range(1, 4):
        connection.request(
            VMWARE_PATH,
            {"action": "create", "title": f"https page {n}", "username": "root", "password": "pw", "ips": f"10.9.1.{n}"},
        )

    first_page = xmlcheck.validate(connection.request(VMWARE_PATH, {"action": "list"}))
    next_url = first_page.findtext("RESPONSE/WARNING/URL")

    assert first_page.findtext("RESPONSE/WARNING/CODE") == "1980"
    assert urlsplit(next_url).scheme == "https", next_url
    # Follow the URL as given, with the same credentials and header.
    response = connection.session.get(
        next_url,
        auth=("qapi-pages", "any"),
        headers={"X-Requested-With": "compat suite"},
        timeout=10,
    )
    assert response.status_code == 200
