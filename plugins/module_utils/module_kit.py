"""What every module of the collection shares: option specs, the run wrapper, diff helpers."""
import re
import traceback

from ansible.module_utils.basic import missing_required_lib

from . import base_url
from .errors import ToolkitError
from .http import HTTP_IMPORT_ERROR

# Control characters, line separators and the invisible formatting marks (zero-width, bidirectional)
# that make two different logins or tenants look alike; the site schema refuses the same.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e"
                      r"\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]")

PASSWORD_PLACEHOLDER = "(changed)"


# The environment variables the connection options fall back to, by the site variable each
# option matches (site_validation and site_vars use them the same way for the site engine).
ENV_FALLBACKS = {
    "erp_url": "ACUMATICA_URL", "erp_tenant": "ACUMATICA_TENANT",
    "erp_admin_user": "ACUMATICA_ADMIN_USER", "erp_admin_password": "ACUMATICA_ADMIN_PASSWORD",
    "ocerra_url": "OCERRA_URL", "ocerra_username": "OCERRA_USERNAME", "ocerra_password": "OCERRA_PASSWORD",
}


def require_http(module):
    """Fail the task with Ansible's missing-library message when `requests` is not installed
    in the Python that runs the module (meta/requirements.txt declares it)."""
    if HTTP_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("requests"), exception=HTTP_IMPORT_ERROR)


def _from_env(site_variable, **spec):
    """A str option that falls back to the environment variable of `site_variable`."""
    return dict(type="str", fallback=(_env, [ENV_FALLBACKS[site_variable]]), **spec)


def _waits():
    return dict(timeout=dict(type="int", default=30), retry_timeout=dict(type="int", default=60))


def acumatica_connection_spec():
    """Options to reach one Acumatica site with the admin credentials (doc fragment `acumatica`)."""
    return dict(url=_from_env("erp_url", required=True), tenant=_from_env("erp_tenant", required=True),
                branch=dict(type="str"), admin_user=_from_env("erp_admin_user", required=True),
                admin_password=_from_env("erp_admin_password", required=True, no_log=True),
                validate_certs=dict(type="bool", default=True), ca_path=dict(type="path"), **_waits())


def ocerra_connection_spec():
    """Options to reach Ocerra as the partner's service user (doc fragment `ocerra`)."""
    return dict(ocerra_url=_from_env("ocerra_url", default="https://app.ocerra.com"),
                ocerra_username=_from_env("ocerra_username", required=True),
                ocerra_password=_from_env("ocerra_password", required=True, no_log=True),
                ocerra_validate_certs=dict(type="bool", default=True), ocerra_ca_path=dict(type="path"), **_waits())


def _env(*names):
    from ansible.module_utils.basic import env_fallback
    return env_fallback(*names)


def run(module, body, *closers):
    """Run body(module) -> result dict, exit with it; close every closer on every path.

    Closers are objects with close() (e.g. a client that signs out). A ToolkitError becomes a
    task failure with its actionable message; anything else fails with the exception type
    only, because an exception text may echo a request body.
    """
    try:
        result = body(module)
    except ToolkitError as exc:
        warnings = close_all(closers)
        module.fail_json(**exc.fail_kwargs(), **({"close_warnings": warnings} if warnings else {}))
    except Exception as exc:  # noqa: BLE001 - last resort, must not leak secrets
        close_all(closers)
        module.fail_json(msg=f"Unexpected {type(exc).__name__}; this is a toolkit bug, please report it.",
                         exception=_scrubbed_traceback(exc))
    for warning in close_all(closers):
        module.warn(warning)
    module.exit_json(**result)


def close_all(closers):
    """Close every closer; the warnings of those that failed (a failed sign-out warns, never
    fails)."""
    warnings = []
    for closer in closers:
        try:
            closer.close()
        except ToolkitError as exc:
            warnings.append(exc.message)
        except Exception as exc:  # noqa: BLE001 - a failed sign-out warns, never fails
            warnings.append(f"closing {type(closer).__name__} failed: {type(exc).__name__}")
    return warnings


def _scrubbed_traceback(exc):
    """The exception's frames (files and lines) without its message, which may hold a secret."""
    return "".join(traceback.format_list(traceback.extract_tb(exc.__traceback__)))


def diff_of(before, after):
    """Ansible's diff dict; only keys that differ, so output stays short and comparable."""
    keys = sorted(set(before or {}) | set(after or {}))
    changed = [k for k in keys if (before or {}).get(k) != (after or {}).get(k)]
    return {"before": {k: (before or {}).get(k) for k in changed},
            "after": {k: (after or {}).get(k) for k in changed}}


def check_options(module, required=(), urls=None, texts=()):
    """Fail before any request when an option cannot work: a required one null, empty or blank
    (`required=True` only checks that the key is present, and an undefined vault variable
    arrives as null), a base URL (`urls`: option -> "erp_url" or "ocerra_url") that
    base_url.problem refuses, a login, tenant or name (`texts`) with control characters or
    surrounding spaces, a timeout that is not positive. Messages never quote a value."""
    p, problems = module.params, []
    for name in required:
        if p.get(name) is None or (isinstance(p[name], str) and not p[name].strip()):
            problems.append(f"{name} must not be empty")
    for name, kind in (urls or {}).items():
        problem = base_url.problem(kind, p.get(name)) if p.get(name) else None
        if problem:
            problems.append(f"{name} {problem}")
    for name in texts:
        value = p.get(name)
        if isinstance(value, str) and value and (value != value.strip() or _CONTROL.search(value)):
            problems.append(f"{name} must not have leading or trailing spaces, line breaks, control characters or "
                            "invisible formatting marks")
    for name in ("timeout", "publish_timeout"):
        if name in p and p[name] is not None and p[name] <= 0:
            problems.append(f"{name} must be a positive number of seconds")
    if "retry_timeout" in p and p["retry_timeout"] is not None and p["retry_timeout"] < 0:
        problems.append("retry_timeout must not be negative")
    if problems:
        module.fail_json(msg="; ".join(problems) + ". Nothing was sent.", error_kind="invalid_options")
