"""Switches of the fake Acumatica: one per behaviour acumatica.md marks as unknown or variable
(the table at its end). The toolkit must work under every value; defaults come first there."""
import copy

DEFAULTS = {
    "flavour": "myob",                        # instances without their own flavour
    "signin_failure_status": 500,             # status of every refused sign-in (§4)
    "signin_error_page": "none",              # ui_error: every refused sign-in is a 302 to
                                              # /{instance}/ui/error, without any text (newer builds)
    "login_limit_response": "json500",        # API Login Limit as JSON 500/429, a 302 to
                                              # Error.aspx (errorcode= or message=) or IIS's 429 page
    "unknown_tenant": "error500",             # PXUndefinedCompanyException, or land in tenant 1
    "message_brand": "Acumatica ERP",         # product name inside branded texts
    "state_format": "labels",                 # User.State as "Active" or "A"
    "logout_requires_content_length": True,   # IIS answers 411 without Content-Length
    "max_api_users": 2,                       # instances whose licence does not say
    "allowed_sessions_default": None,         # per-user cap when neither user nor type sets
                                              # one; None = 3, or 1 for the myob flavour
    "session_idle_timeout_s": 600,            # a session not signed out frees its slot then
    "password_on_update": "ignored_unless_empty",
    "roles_membership_durable": True,         # False: Roles PUT answers fine, does not persist
    "never_expires_confirmation": "applied",  # MYOB may ask to confirm Password Never Expires:
                                              # refused (a field error) or ignored (not kept)
    "action_mode": 204,                       # 202: actions answer 202 + Location, then poll
    "action_polls": 2,                        # polls answering 202 before the 204
    "throttle_response": "text429",
    "retry_after": None,                      # seconds in Retry-After on a 429, or absent
    "user_endpoint_installed": False,         # tenants whose seed does not say
    "publish_ends_sessions": False,           # True: a publish recycles the application and the
                                              # instance's API sessions are gone at its end (False:
                                              # they survive, as clients polling publishEnd see)
    "licence_view_on_acumatica": "publish_fails",  # an endpoint mapping MYOB's licence view on
                                              # plain Acumatica: its publish fails, or it publishes
                                              # and the tenant's contract API fails (breaks_api)
    "customization": {"publish_polls": 3, "publish_outcome": "ok", "restart_drops": 0},
}

CHOICES = {
    "flavour": ("myob", "acumatica"),
    "signin_failure_status": (500, 401, 400),
    "signin_error_page": ("none", "ui_error"),
    "login_limit_response": ("json500", "json429", "redirect302", "redirect302_message", "iis429"),
    "unknown_tenant": ("error500", "default_tenant"),
    "message_brand": ("Acumatica ERP", "MYOB Acumatica"),
    "state_format": ("labels", "codes"),
    "password_on_update": ("ignored_unless_empty", "applied"),
    "never_expires_confirmation": ("applied", "refused", "ignored"),
    "action_mode": (204, 202),
    "throttle_response": ("text429", "json429"),
    "publish_outcome": ("ok", "failed", "inband_error", "lock_conflict"),
    "licence_view_on_acumatica": ("publish_fails", "breaks_api"),
}
BOOLS = {"logout_requires_content_length", "roles_membership_durable", "user_endpoint_installed",
          "publish_ends_sessions"}
_COUNTS = {"max_api_users": 1, "session_idle_timeout_s": 1, "action_polls": 0,
           "publish_polls": 1, "restart_drops": 0}
_OPTIONAL_COUNTS = {"allowed_sessions_default": 1, "retry_after": 0}


def _check(name, value):
    if name in CHOICES:
        ok = value in CHOICES[name] and type(value) is type(CHOICES[name][0])
        expected = list(CHOICES[name])
    elif name in BOOLS:
        ok, expected = isinstance(value, bool), "true or false"
    elif name in _COUNTS or name in _OPTIONAL_COUNTS:
        minimum = _COUNTS.get(name, _OPTIONAL_COUNTS.get(name))
        ok = (value is None and name in _OPTIONAL_COUNTS) or (
            isinstance(value, int) and not isinstance(value, bool) and value >= minimum)
        expected = f"an integer >= {minimum}" + (" or null" if name in _OPTIONAL_COUNTS else "")
    else:
        raise ValueError(f"unknown switch {name!r}; known: {sorted(DEFAULTS)}")
    if not ok:
        raise ValueError(f"switch {name!r} must be {expected}, not {value!r}")


def merged(current: dict, changes) -> dict:
    """`current` with `changes` applied (the `customization` group merges one level deep),
    after checking every change; raises ValueError."""
    if not isinstance(changes, dict):
        raise ValueError("switches must be a JSON object")
    result = copy.deepcopy(current)
    for name, value in changes.items():
        if name == "customization":
            if not isinstance(value, dict):
                raise ValueError("switch 'customization' must be an object")
            for key, inner in value.items():
                if key not in DEFAULTS["customization"]:
                    raise ValueError(f"unknown switch customization.{key}; known: "
                                     f"{sorted(DEFAULTS['customization'])}")
                _check(key, inner)
            result["customization"].update(value)
        else:
            _check(name, value)
            result[name] = value
    return result
