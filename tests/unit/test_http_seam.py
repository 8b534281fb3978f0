"""The shared HTTP seam: retries, Retry-After, check-mode guard, no secrets in errors."""
import pytest

from ansible_collections.ocerra.acumatica.plugins.module_utils.errors import (
    CheckModeViolation, RateLimited, TransportError)
from ansible_collections.ocerra.acumatica.plugins.module_utils.http import HttpSeam, retry_after_seconds


def seam(server, **kw):
    slept = []
    s = HttpSeam(f"http://127.0.0.1:{server.server_port}", service="Test", sleep=slept.append, **kw)
    return s, slept


def test_safe_request_retries_503_then_succeeds(server):
    server.script = [(503, None), (503, None), (200, None)]
    s, slept = seam(server)
    assert s.request("GET", "/x", safe=True).status_code == 200
    assert len(server.seen) == 3 and len(slept) == 2


def test_unsafe_request_is_not_retried_on_503(server):
    server.script = [(503, None), (200, None)]
    s, _ = seam(server)
    assert s.request("POST", "/action").status_code == 503
    assert len(server.seen) == 1


def test_429_honours_retry_after_for_any_method(server):
    server.script = [(429, None, {"retry-after": "7"}), (204, None)]
    s, slept = seam(server)
    assert s.request("POST", "/login", read_only=True).status_code == 204
    assert slept[0] >= 7


def test_429_gives_up_within_budget_and_reports_wait(server):
    server.script = [(429, None, {"Retry-After": "20"})] * 10
    s, slept = seam(server, retry_timeout=45)
    with pytest.raises(RateLimited) as err:
        s.request("GET", "/x", safe=True)
    assert sum(slept) <= 45 and err.value.details["waited_seconds"] == sum(slept)


def test_check_mode_refuses_writes_but_allows_read_only_posts(server):
    s, _ = seam(server, check_mode=True)
    with pytest.raises(CheckModeViolation):
        s.request("PUT", "/entity")
    assert s.request("POST", "/login", read_only=True).status_code == 200
    assert [(r["method"], r["path"]) for r in server.seen] == [("POST", "/login")]


def test_unreachable_error_names_service_not_query():
    s = HttpSeam("http://127.0.0.1:9", service="Ocerra", sleep=lambda _: None, retry_timeout=0)
    with pytest.raises(TransportError) as err:
        s.request("GET", "/api/x?password=Canary-Secret-123", safe=True)
    assert "Ocerra" in err.value.message and "Canary" not in err.value.message


def test_retry_after_http_date():
    class R:
        headers = {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}
    assert retry_after_seconds(R()) == 0.0


def test_retry_when_retries_other_answers_and_reports_wait(server):
    server.script = [(500, None, {"X-Limit": "1"}), (500, None, {"X-Limit": "1"}), (204, None)]
    s, slept = seam(server)
    limited = lambda r: r.headers.get("X-Limit") == "1"  # noqa: E731
    assert s.request("POST", "/login", read_only=True, retry_when=limited).status_code == 204
    assert len(server.seen) == 3 and len(slept) == 2 and s.last_waited == sum(slept)


def test_retry_when_gives_up_within_budget_and_returns_last_answer(server):
    server.script = [(500, None, {"X-Limit": "1"})] * 10
    s, slept = seam(server, retry_timeout=5)
    response = s.request("POST", "/login", read_only=True, retry_when=lambda r: True)
    assert response.status_code == 500 and sum(slept) <= 5 and s.last_waited == sum(slept)


def test_rate_limited_carries_last_response(server):
    server.script = [(429, None, {"Retry-After": "20"})] * 3
    s, _ = seam(server, retry_timeout=1)
    with pytest.raises(RateLimited) as err:
        s.request("GET", "/x", safe=True)
    assert err.value.response.status_code == 429 and "response" not in err.value.details
