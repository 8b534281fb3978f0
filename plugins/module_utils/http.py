"""The HTTP seam shared by the Acumatica and Ocerra clients.

Timeouts, TLS, bounded jittered retries that honour Retry-After, the check-mode write guard
and the request counter live here and nowhere else. Service-specific sign-in and error
mapping live in the two clients built on top of it.
"""
import email.utils
import os
import threading
import time
import traceback
from concurrent.futures import Future, TimeoutError as FutureTimeout

from ansible.module_utils.api import generate_jittered_backoff

try:
    import requests
    import urllib3
except ImportError:   # said with missing_required_lib before any client is built (module_kit)
    requests = urllib3 = None
    HTTP_IMPORT_ERROR = traceback.format_exc()
else:
    HTTP_IMPORT_ERROR = None

from .errors import CheckModeViolation, RateLimited, TransportError

RETRY_STATUSES = {429, 502, 503, 504}
# How long the answer of a request that opens a session (a sign-in) is still awaited after the
# caller stopped waiting: a session it opened late is then signed out, not left holding a slot.
LATE_ANSWER = 30
CA_BUNDLE_VARIABLES = ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def retry_after_seconds(response):
    """Seconds asked for by a Retry-After header (number or HTTP date), else None."""
    value = response.headers.get("Retry-After")  # requests' headers are case-insensitive
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class HttpSeam:
    """One requests.Session against one base URL.

    `safe` requests (reads, idempotent upserts, the admin's sign-in) are retried on connection
    errors and on 429/502/503/504; unsafe ones (actions, Ocerra saves) only on 429, which the
    services send before doing any work, and on what a caller knows did no work either
    (`retry_statuses`, and with `retry_unsent` a connection that never opened). Waiting is
    bounded by `retry_timeout` seconds, with jittered backoff.
    """

    def __init__(self, base_url, *, service, validate_certs=True, ca_path=None, timeout=30,
                 retry_timeout=60, check_mode=False, warn=None, sleep=time.sleep, pool_size=None):
        self.base_url = base_url.rstrip("/")
        self.service = service
        self.timeout = timeout
        self.retry_timeout = retry_timeout
        self.check_mode = check_mode
        self.session = requests.Session()
        self.session.verify = (ca_path or _ca_bundle_from_env(warn) or True) if validate_certs else False
        self.session.trust_env = False  # a proxy from the environment must not see secrets
        if pool_size:  # requests from that many threads at once, each on its own connection
            adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=pool_size)
            self.session.mount("https://", adapter)
            self.session.mount("http://", adapter)
        self._counting = threading.Lock()  # the listing's threads share this seam
        self.late = []              # Futures of session-opening requests the caller stopped waiting for
        self.requests_sent = 0
        self.last_waited = 0.0
        self.server_time = None     # the Date of the service's last answer (its own clock)
        self._sleep = sleep
        if not validate_certs:
            # Said once through `warn` instead of urllib3's warning on every request's stderr.
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
            if warn:
                warn(f"TLS certificate verification is off for {service} at {self.base_url}.")

    def url(self, path):
        return path if path.startswith(("http://", "https://")) else f"{self.base_url}/{path.lstrip('/')}"

    def request(self, method, path, *, safe=False, read_only=False, retry_when=None, retry_statuses=(),
                retry_unsent=False, opens_session=False, **kwargs):
        """Send one request with bounded retries; returns the final requests.Response.

        `read_only` marks a POST that changes no state (sign-in, sign-out, a connection
        test) so check mode lets it through; every other write raises in check mode.
        `retry_when(response)` marks more answers as "not done yet, retry like a 429" (e.g.
        Acumatica's API Login Limit, which some builds send as a 500 or a redirect). The
        seconds waited are in `last_waited`; a RateLimited carries the last `response`.
        `opens_session` (a sign-in): one not answered within the timeout is never sent again;
        its answer is still awaited on a thread for LATE_ANSWER seconds (kept in `late`), so
        that a session it opened can be signed out (settle_late()).
        """
        method = method.upper()
        if self.check_mode and method in WRITE_METHODS and not read_only:
            raise CheckModeViolation(f"refused to send {method} {path} in check mode")
        kwargs.setdefault("timeout", self.timeout)
        waited = self.last_waited = 0.0
        delays = generate_jittered_backoff(retries=8, delay_base=1, delay_threshold=30)
        while True:
            try:
                with self._counting:
                    self.requests_sent += 1
                response = (self._send_awaiting_late(method, path, kwargs) if opens_session
                            else self.session.request(method, self.url(path), **kwargs))
            except requests.exceptions.SSLError as exc:
                raise TransportError(
                    f"TLS verification failed for {self.service} at {self.base_url}: {_reason(exc)}. "
                    "Give the site's CA bundle (ca_path) or, knowingly, validate_certs: false.") from None
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
                delay = next(delays, None) if safe or (retry_unsent and _unsent(exc)) else None
                if delay is None or waited + delay > self.retry_timeout:
                    raise TransportError(
                        f"{self.service} at {self.base_url} did not answer {method} {_path_only(path)}: "
                        f"{_reason(exc)}. Check the URL, the network and that the service is up.") from None
                waited += self._wait(delay)
                continue
            self.server_time = _date(response) or self.server_time
            retryable = (response.status_code == 429
                         or (safe and response.status_code in RETRY_STATUSES)
                         or response.status_code in retry_statuses
                         or (retry_when is not None and retry_when(response)))
            if not retryable:
                return response
            delay = next(delays, None)
            hinted = retry_after_seconds(response)
            if delay is not None and hinted is not None:
                delay = max(delay, hinted)
            if delay is None or waited + delay > self.retry_timeout:
                if response.status_code == 429:
                    limited = RateLimited(
                        f"{self.service} at {self.base_url} is rate limiting requests (HTTP 429) "
                        f"after {waited:.0f}s of waiting. Run again later, lower forks, or raise "
                        "retry_timeout.", waited_seconds=round(waited, 1))
                    limited.response = response
                    raise limited
                return response
            waited += self._wait(delay)
            self.last_waited = waited

    def _send_awaiting_late(self, method, path, kwargs):
        answer, timeout = Future(), kwargs["timeout"]
        options = dict(kwargs, timeout=(timeout, timeout + LATE_ANSWER))

        def send():
            try:
                answer.set_result(self.session.request(method, self.url(path), **options))
            except BaseException as exc:  # noqa: BLE001 - handed to whoever waits for the answer
                answer.set_exception(exc)

        threading.Thread(target=send, name="sign-in", daemon=True).start()
        try:
            return answer.result(timeout=timeout + 1)
        except FutureTimeout:
            self.late.append(answer)
            raise TransportError(
                f"{self.service} at {self.base_url} did not answer {method} {_path_only(path)} within {timeout}s. "
                "Check that the service is up; a session it opens late is signed out.") from None

    def settle_late(self):
        """The late answers, once each has come (or LATE_ANSWER has passed): [requests.Response]."""
        answers = []
        while self.late:
            late = self.late.pop()
            try:
                answers.append(late.result(timeout=LATE_ANSWER + 1))
            except Exception:  # noqa: BLE001 - no answer at all: no session to close
                continue
        return answers

    def _wait(self, seconds):
        self._sleep(seconds)
        return seconds

    def close(self):
        self.session.close()


def _ca_bundle_from_env(warn):
    """The CA bundle a corporate machine names in REQUESTS_CA_BUNDLE or SSL_CERT_FILE, which
    trust_env=False (kept for the proxy variables) would otherwise ignore; None when unset."""
    for name in CA_BUNDLE_VARIABLES:
        path = os.environ.get(name)
        if path:
            if os.path.isfile(path):
                return path
            if warn:
                warn(f"{name} names no file; the default CA bundle is used.")
    return None


def _date(response):
    try:
        return email.utils.parsedate_to_datetime(response.headers.get("Date"))
    except (TypeError, ValueError):
        return None


def _unsent(exc):
    """True when the request cannot have reached the service: no connection was ever opened."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    reason = getattr(exc.args[0] if exc.args else None, "reason", None)
    return isinstance(reason, urllib3.exceptions.NewConnectionError)


def _path_only(path):
    return path.split("?", 1)[0]


def _reason(exc):
    """The innermost reason of a requests exception, without URLs that could carry queries."""
    inner = exc
    while getattr(inner, "__context__", None) is not None and inner.__context__ is not inner:
        inner = inner.__context__
    text = type(inner).__name__
    return text
