"""Request limits per instance: per minute and concurrent, 429 per §9, sign-outs exempt."""
import threading
import time

import pytest

from tests.sandbox.acumatica_helpers import Client, admin, site_seed

TEXT = "The custom error module does not recognize this error."


@pytest.fixture
def seed():
    return site_seed(licence={"max_api_users": 5, "max_requests_per_minute": 4,
                              "max_concurrent_requests": 1})


def test_per_minute_limit_then_window_slides_on_the_sandbox_clock(sandbox):
    client = admin(sandbox)                               # request 1
    for _ in range(3):                                    # requests 2-4
        assert client.get("entity").status_code == 200
    refused = client.get("entity")
    assert refused.status_code == 429
    assert refused.headers["Content-Type"].startswith("text/plain") and refused.text == TEXT
    assert "Retry-After" not in refused.headers
    sandbox.clock.advance(61)
    assert client.get("entity").status_code == 200


def test_sign_out_is_never_throttled(sandbox):
    client = admin(sandbox)
    for _ in range(3):
        client.get("entity")
    assert client.get("entity").status_code == 429
    assert client.logout().status_code == 204
    assert sandbox.erp.counters()["acme/Company"]["sessions_open"] == 0


def test_json429_and_retry_after_switches(sandbox):
    sandbox.erp.set_switches({"throttle_response": "json429", "retry_after": 7})
    client = admin(sandbox)
    for _ in range(3):
        client.get("entity")
    refused = client.get("entity")
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "7"
    assert refused.json()["exceptionMessage"]


def in_flight(sandbox):
    return sandbox.erp.state()["instances"][0]["requests_in_flight"]


def test_concurrent_limit(sandbox):
    sandbox.reset(seed=site_seed(licence={"max_api_users": 5, "max_concurrent_requests": 1}))
    client = admin(sandbox)
    sandbox.erp.begin_request("acme", "/acme/entity")       # another request in flight
    try:
        assert client.get("entity").status_code == 429
    finally:
        sandbox.erp.end_request("acme")
    assert client.get("entity").status_code == 200 and in_flight(sandbox) == 0


def test_a_slow_request_holds_its_slot(sandbox):
    client = admin(sandbox)
    sandbox.erp.faults.add("latency", path="/acme/entity$", method="GET", seconds=1)
    slow = {}
    thread = threading.Thread(target=lambda: slow.update(answer=client.get("entity")))
    thread.start()
    deadline = time.monotonic() + 5
    while in_flight(sandbox) == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert in_flight(sandbox) == 1
    thread.join()
    assert slow["answer"].status_code == 200 and in_flight(sandbox) == 0


def test_unlimited_by_default(sandbox):
    sandbox.reset(seed=site_seed())
    client = admin(sandbox)
    assert all(client.get("entity").status_code == 200 for _ in range(30))


def test_unknown_instance_is_404_not_throttled(sandbox):
    assert Client(sandbox, "nope").get("entity").status_code == 404
