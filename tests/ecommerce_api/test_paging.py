"""Page walks over the change feed: every stored version exactly once, in order."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.ecommerce_api.conftest import feed_order, walk
from tests.support.ecommerce_estate import PLATFORMS, order, write_jsonl


@pytest.mark.parametrize("page_size", [1, 2, 3, 7, 50, 500])
def test_order_walk_returns_every_version_once_in_order(server, client, small_estate, page_size):
    for platform in PLATFORMS:
        stored = small_estate.records[f"orders/{platform}"]
        rows, pages = walk(
            client, f"{server.url}/v1/orders", {"platform": platform, "page_size": page_size}
        )
        assert rows == feed_order(stored, "order_id")
        assert pages == max(1, -(-len(stored) // page_size))


def test_the_estate_has_ties_that_straddle_page_boundaries(small_estate):
    # Guards the walk test above: it only proves tie handling if ties cross boundaries.
    feed = feed_order(small_estate.records["orders/MALL"], "order_id")
    keys = [(datetime.fromisoformat(row["updated_at"]), row["order_id"]) for row in feed]
    for page_size in (2, 3, 7, 50):
        boundaries = range(page_size, len(keys), page_size)
        assert any(keys[i - 1][0] == keys[i][0] for i in boundaries), page_size
    assert any(keys[i - 1] == keys[i] for i in range(1, len(keys)))


def test_updated_since_is_inclusive_and_reads_any_offset(server, client, small_estate):
    stored = small_estate.records["orders/TMALL"]
    boundary = feed_order(stored, "order_id")[len(stored) // 2]["updated_at"]
    expected = feed_order(stored, "order_id", since=boundary)
    assert any(row["updated_at"] == boundary for row in expected)
    assert len(expected) < len(stored)
    for since in (boundary, "2025-03-01T11:00:00+08:00", "2025-03-01T03:00:00.000000Z"):
        rows, _ = walk(
            client,
            f"{server.url}/v1/orders",
            {"platform": "TMALL", "updated_since": since, "page_size": 4},
        )
        assert rows == feed_order(stored, "order_id", since=since)


def test_an_unencoded_plus_in_the_offset_still_parses(server, client, small_estate):
    stored = small_estate.records["orders/JD"]
    response = client.get(
        f"{server.url}/v1/orders?platform=JD&page_size=500&updated_since=2025-03-01T11:00:00+08:00"
    )
    assert response.status_code == 200
    assert response.json()["data"] == feed_order(stored, "order_id", since="2025-03-01T03:00:00Z")


def test_customers_coupons_and_listings_walk(server, client, small_estate):
    for platform in PLATFORMS:
        rows, _ = walk(
            client,
            f"{server.url}/v1/customers",
            {"platform": platform, "updated_since": "2025-03-01T02:00:00Z", "page_size": 3},
        )
        stored = small_estate.records[f"customers/{platform}"]
        assert rows == feed_order(stored, "buyer_id", since="2025-03-01T02:00:00Z")

        rows, _ = walk(client, f"{server.url}/v1/listings", {"platform": platform})
        assert rows == feed_order(small_estate.records[f"listings/{platform}"], "platform_sku")

    rows, pages = walk(client, f"{server.url}/v1/coupons", {"page_size": 4})
    assert rows == feed_order(small_estate.records["coupons"], "coupon_code")
    assert pages == 8


def test_listings_take_no_updated_since_and_coupons_no_platform(server, client):
    listings = client.get(
        f"{server.url}/v1/listings", params={"platform": "MALL", "updated_since": "2025-01-01"}
    )
    coupons = client.get(f"{server.url}/v1/coupons", params={"platform": "MALL"})
    for response in (listings, coupons):
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_parameter"


def test_objects_are_served_byte_for_byte(tmp_path, client):
    from ronghe.ecommerce_api import start_server

    unusual = (
        '{"updated_at":"2025-03-01T00:00:00Z",  "order_id" : "X1", "name": "\\u5f20三",'
        ' "paid_amount": 1998.000, "extra": {"b": 1, "a": [ ]}}'
    )
    write_jsonl(tmp_path / "ecommerce" / "MALL" / "orders.jsonl", [unusual])
    with start_server(tmp_path, token="t") as server:
        client.headers["Authorization"] = "Bearer t"
        response = client.get(f"{server.url}/v1/orders", params={"platform": "MALL"})
    assert response.status_code == 200
    assert response.content == b'{"data":[' + unusual.encode() + b'],"next_cursor":null}'


def test_crlf_bom_and_blank_lines_are_read(tmp_path, client):
    from ronghe.ecommerce_api import start_server

    first = order("MO001", "MALL", "2025-03-01T01:00:00Z")
    second = order("MO002", "MALL", "2025-03-01T00:00:00Z")
    path = tmp_path / "ecommerce" / "MALL" / "orders.jsonl"
    write_jsonl(path, [first, "", "   ", second])
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n"))
    with start_server(tmp_path, token="t") as server:
        client.headers["Authorization"] = "Bearer t"
        rows, _ = walk(client, f"{server.url}/v1/orders", {"platform": "MALL", "page_size": 1})
    assert rows == [second, first]


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ({"platform": "MALL", "page_size": 501}, "page_size must be an integer from 1 to 500"),
        ({"platform": "MALL", "page_size": 0}, "page_size"),
        ({"platform": "MALL", "page_size": "ten"}, "page_size"),
        ({"platform": "EBAY"}, "unknown platform 'EBAY'"),
        ({}, "platform is required"),
        ({"platform": "MALL", "updated_since": "yesterday"}, "updated_since"),
        ({"platform": "MALL", "updated_since": "2025-13-01T00:00:00Z"}, "updated_since"),
        ({"platform": "MALL", "since": "2025-01-01"}, "unknown parameter(s) since"),
        ({"platform": "MALL", "cursor": "not-a-cursor"}, "malformed cursor"),
    ],
)
def test_bad_requests_get_400_with_a_clear_json_error(server, client, query, fragment):
    response = client.get(f"{server.url}/v1/orders", params=query)
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("application/json")
    assert fragment in response.json()["message"]


def test_page_size_500_is_accepted(server, client):
    response = client.get(f"{server.url}/v1/orders", params={"platform": "MALL", "page_size": 500})
    assert response.status_code == 200


def test_a_cursor_only_continues_its_own_query(server, client):
    first = client.get(f"{server.url}/v1/orders", params={"platform": "MALL", "page_size": 2})
    cursor = first.json()["next_cursor"]
    for query in (
        {"platform": "JD", "cursor": cursor},
        {"platform": "MALL", "updated_since": "2025-03-01T00:00:00Z", "cursor": cursor},
    ):
        response = client.get(f"{server.url}/v1/orders", params=query)
        assert response.status_code == 400
        assert "another query" in response.json()["message"]
    on_customers = client.get(f"{server.url}/v1/customers", params={"cursor": cursor})
    assert on_customers.status_code == 400
    tampered = cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")
    response = client.get(
        f"{server.url}/v1/orders", params={"platform": "MALL", "cursor": tampered}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_cursor"
    alone = client.get(f"{server.url}/v1/orders", params={"cursor": cursor})
    assert alone.status_code == 200


def test_missing_or_wrong_token_gets_401(server):
    import requests

    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "test-token"}):
        response = requests.get(
            f"{server.url}/v1/orders", params={"platform": "MALL"}, headers=headers
        )
        assert response.status_code == 401
        assert response.json()["error"] == "unauthorized"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_health_needs_no_token_and_counts_versions(server, small_estate):
    import requests

    response = requests.get(f"{server.url}/health")
    assert response.status_code == 200
    versions = response.json()["versions"]
    assert versions["orders/MALL"] == len(small_estate.records["orders/MALL"])
    assert versions["coupons"] == len(small_estate.records["coupons"])


def test_unknown_path_is_404(server, client):
    assert client.get(f"{server.url}/v1/refunds").status_code == 404
