"""Switches of the fake Ocerra: one per behaviour that ocerra.md §6.5 marks as unknown.

The toolkit must work under every value; the defaults are the reference's best guess.
"""

STATUS_CODES = ("NotConfigured", "Disabled", "Connected", "InvalidCredentials", "AccountLocked",
                "PasswordChangeRequired", "LicenseLimit", "TenantNotFound", "Unreachable")

# The status line's texts. "Connection was successful." is confirmed (ocerra.md §4); the failure
# texts are Acumatica's own (acumatica.md §4), which the UI is assumed to pass through, so the
# locked one starts "Your account is locked" as the truncated public copy does.
CONFIRMED_TEXTS = {
    "NotConfigured": "The MYOB Acumatica connection is not configured.",
    "Disabled": "The MYOB Acumatica connection is disabled.",
    "Connected": "Connection was successful.",
    "InvalidCredentials": "Invalid credentials. Please try again.",
    "AccountLocked": "Your account is locked out. Please contact your system administrator.",
    "PasswordChangeRequired": "You need to change your password. "
                              "Sign in by using your browser to set a new password.",
    "LicenseLimit": "API Login Limit reached. Please try again later.",
    "TenantNotFound": "The MYOB Acumatica company (tenant) was not found.",
    "Unreachable": "The MYOB Acumatica server could not be reached.",
}

_CHOICES = {
    # How a call chooses the client it acts on (ocerra.md §3: unknown).
    "client_selection": ("query_param", "switch_call", "one_user_per_client"),
    # When a login/password change switches Enable Connection off (open question 5).
    "enable_drop_mode": ("on_save", "on_edit", "never"),
    # The shape of 400/403/404 errors: §6.2's JSON, or one of ASP.NET's generic shapes,
    # which carry their own status (ocerra.md §2).
    "error_body": ("error_message", "empty_401", "problem_details_400", "string_500"),
}

DEFAULTS = {
    "client_selection": "query_param",
    "enable_drop_mode": "on_save",
    "same_password_drops": True,      # does re-sending the stored password count as a change?
    "save_runs_test": True,           # does Save sign in to the ERP when left enabled?
    "basic_lockout_threshold": 5,     # failed Basic logins before the Ocerra user locks; 0 = off
    "basic_lockout_seconds": 300,     # ASP.NET Identity's default lock-out span
    "status_texts": "confirmed",      # or {code: text} overriding some of CONFIRMED_TEXTS
    "error_body": "error_message",
}


def _check(name, value):
    if name in _CHOICES:
        if value not in _CHOICES[name]:
            raise ValueError(f"switch {name!r} must be one of {list(_CHOICES[name])}")
    elif name in ("same_password_drops", "save_runs_test"):
        if not isinstance(value, bool):
            raise ValueError(f"switch {name!r} must be true or false")
    elif name in ("basic_lockout_threshold", "basic_lockout_seconds"):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"switch {name!r} must be an integer >= 0")
    elif name == "status_texts":
        if value == "confirmed":
            return
        if not isinstance(value, dict) or not all(
                k in STATUS_CODES and isinstance(v, str) for k, v in value.items()):
            raise ValueError(f"switch 'status_texts' must be 'confirmed' or a mapping of "
                             f"{list(STATUS_CODES)} to texts")
    else:
        raise ValueError(f"unknown switch {name!r}; known: {sorted(DEFAULTS)}")


def merged(current: dict, changes: dict) -> dict:
    """`current` with `changes` applied, after checking every change; raises ValueError."""
    if not isinstance(changes, dict):
        raise ValueError("switches must be a JSON object")
    for name, value in changes.items():
        _check(name, value)
    return {**current, **changes}


def status_text(switches: dict, code: str) -> str:
    custom = switches["status_texts"]
    return custom[code] if isinstance(custom, dict) and code in custom else CONFIRMED_TEXTS[code]
