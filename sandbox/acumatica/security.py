"""Security preferences (SM201060): password hashing, policy and the lock-out algorithm (§8)."""
import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from . import texts

# Few rounds on purpose: the sandbox checks passwords on every sign-in of the benchmarks.
_ROUNDS = 1000
COMPLEXITIES = ("myob_union", "acumatica3of4")


@dataclass
class Security:
    """Per tenant. Defaults are MYOB 2023.1.3's policy with Acumatica's lock-out (§8)."""
    min_length: int = 14
    complexity: str = "myob_union"
    lockout_threshold: int = 3
    lockout_duration_s: int = 900
    lockout_window_s: int = 600
    password_expiry_days: int | None = None   # None: passwords never expire (the default)

    def __post_init__(self):
        if self.complexity not in COMPLEXITIES:
            raise ValueError(f"security.complexity must be one of {COMPLEXITIES}")
        for name in ("min_length", "lockout_threshold", "lockout_duration_s", "lockout_window_s"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"security.{name} must be an integer >= 1")


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, _ROUNDS)
    return f"pbkdf2_sha256${_ROUNDS}${salt.hex()}${digest.hex()}"


def verify_password(password, stored) -> bool:
    if not stored or password is None:
        return False
    _, rounds, salt, digest = stored.split("$")
    given = hashlib.pbkdf2_hmac("sha256", str(password).encode(), bytes.fromhex(salt), int(rounds))
    return hmac.compare_digest(given.hex(), digest)


def policy_error(password: str, security: Security):
    """The policy text the password breaks, or None."""
    if len(password) < security.min_length:
        return texts.MIN_LENGTH.format(security.min_length)
    upper, lower = bool(re.search(r"[A-Z]", password)), bool(re.search(r"[a-z]", password))
    digit, symbol = bool(re.search(r"[0-9]", password)), bool(re.search(r"[^A-Za-z0-9]", password))
    if security.complexity == "myob_union":
        if not (upper and lower and (digit or symbol)):
            return texts.NOT_COMPLEX + texts.COMPLEXITY_MYOB
    elif upper + lower + digit + symbol < 3:
        return texts.NOT_COMPLEX + texts.COMPLEXITY_3OF4
    return None


def generated_password(security: Security) -> str:
    """A random password that passes either complexity rule at the tenant's length."""
    body = secrets.token_urlsafe(max(security.min_length, 16))
    return "Aa7!" + body


def is_locked(user, security: Security, now) -> bool:
    """Locked while LockedOutDate > now - duration: it unlocks itself afterwards (§8.3)."""
    return (user.locked_out_date is not None and
            user.locked_out_date > now - timedelta(seconds=security.lockout_duration_s))


def register_failure(user, security: Security, now) -> None:
    """§8.1-2: restart the window when it is empty or over, else count; lock at threshold."""
    window_over = (user.failed_window_start is None or
                   now > user.failed_window_start + timedelta(seconds=security.lockout_window_s))
    if user.failed_count == 0 or window_over:
        user.failed_count, user.failed_window_start = 1, now
    else:
        user.failed_count += 1
    if user.failed_count >= security.lockout_threshold:
        user.locked_out_date = now


def register_success(user, now) -> None:
    user.failed_count, user.failed_window_start, user.locked_out_date = 0, None, None
    user.last_login = now


def password_expired(user, security: Security, now) -> bool:
    if user.password_never_expires or security.password_expiry_days is None:
        return False
    changed = user.password_changed
    return changed is None or changed + timedelta(days=security.password_expiry_days) < now
