"""Seeds and an in-process runner for the ERP module tests against the sandbox."""
import base64
import contextlib
import html
import importlib
import io
import json
from urllib.parse import quote, quote_plus

from ansible.module_utils.common import warnings as ansible_warnings
from ansible.module_utils.testing import patch_module_args

ADMIN_PW = "Adm-Sandbox-2024-Q7!x"
API_PW = "Cnry-ErpUser-7Qx!vB29w"      # strong and unique: any hit in an output is a leak
NEW_PW = "Rot8-ErpUser-4Lm#kT66p"
FULL, LIMITED, SELF = "Full User (Full API)", "Limited API", "Self Service User"
SITE = "acme/Company"
LOGIN, LOGOUT = "/acme/entity/auth/login", "/acme/entity/auth/logout"


def api_user(**extra):
    """OcerraAPI as the desired state below describes it: nothing to change."""
    return {"username": "OcerraAPI", "password": API_PW, "email": "ocerraapi@acme.example",
            "user_type": "API User", "roles": ["AP Clerk"], "licence_types": [FULL],
            "password_never_expires": True, **extra}


def erp_seed(*users, installed=True, switches=None, flavour="myob", max_api_users=3, min_length=14):
    """Instance acme, tenant Company: admin (Administrator, Customizer) plus `users`."""
    myob = flavour == "myob"          # licence types exist only there
    admin = {"username": "admin", "password": ADMIN_PW, "email": "admin@acme.example",
             "user_type": "Admin", "roles": ["Administrator", "Customizer"], "licence_types": [FULL]}
    users = [{**u, "licence_types": u.get("licence_types", []) if myob else []} for u in (admin, *users)]
    return {"acumatica": {"switches": switches or {}, "instances": [{
        "name": "acme", "flavour": flavour, "licence": {"max_api_users": max_api_users},
        "tenants": [{
            "name": "Company",
            "security": {"min_length": min_length, "complexity": "myob_union", "lockout_threshold": 3,
                         "lockout_duration_s": 900, "lockout_window_s": 600},
            "user_types": [
                {"name": "Admin", "allowed": "R", "max_sessions": 5,
                 "roles": ["Administrator", "Customizer", "AP Clerk", "AR Clerk", "GL Clerk"]},
                {"name": "API User", "allowed": "A", "roles": ["AP Clerk", "AR Clerk", "GL Clerk"]}],
            "licence_types": [{"name": FULL, "available": 5}, {"name": LIMITED, "available": 0},
                              {"name": SELF, "available": None}] if myob else [],
            "user_endpoint_installed": installed,
            "users": users}]}]}}


DESIRED = dict(login="OcerraAPI", email="ocerraapi@acme.example", user_type="API User", roles=["AP Clerk"],
               licence_types=[FULL], password=API_PW, password_never_expires=True)


def run_module(name, args, check=False, diff=True):
    """Run plugins/modules/<name>.py's main() in-process; returns its JSON result."""
    module = importlib.import_module(f"ansible_collections.ocerra.acumatica.plugins.modules.{name}")
    full = dict(args, _ansible_check_mode=check, _ansible_diff=diff)
    ansible_warnings._global_warnings.clear()   # module globals outlive an in-process run
    ansible_warnings._global_deprecations.clear()
    out = io.StringIO()
    with patch_module_args(full), contextlib.redirect_stdout(out):
        try:
            module.main()
        except SystemExit:
            pass
    return json.loads(out.getvalue())


def leaked_forms(secret):
    """Every form a password could leak in (written here apart from the product's scrubber, so
    each checks the other): raw, JSON-escaped (also as .NET escapes every symbol), HTML-escaped,
    URL-encoded, base64 and base64url (without padding: they match inside longer ones)."""
    raw = secret.encode()
    forms = {secret, json.dumps(secret)[1:-1], quote(secret, safe=""), quote_plus(secret),
             html.escape(secret), "".join("\\u%04X" % ord(c) if c in "<>&'\"+`\\" or not c.isascii() else c for c in secret),
             base64.b64encode(raw).decode().rstrip("="), base64.urlsafe_b64encode(raw).decode().rstrip("=")}
    return {f for f in forms if f}


class Site:
    """The sandbox's acme/Company site as the ERP module tests see it."""

    def __init__(self, sandbox):
        self.sandbox = sandbox

    def seed(self, *users, **kw):
        self.sandbox.reset(seed=erp_seed(*users, **kw))

    def args(self, **over):
        return {"url": f"{self.sandbox.acumatica_url}/acme", "tenant": "Company", "admin_user": "admin",
                "admin_password": ADMIN_PW, **over}

    def run(self, name="erp_user", check=False, **args):
        result = run_module(name, self.args(**args), check=check)
        text = json.dumps(result)
        for secret in (API_PW, NEW_PW, ADMIN_PW):
            assert not any(form in text for form in leaked_forms(secret)), "a password leaked into a result"
        return result

    def counters(self):
        return self.sandbox.erp.counters()[SITE]

    def user_counters(self, login):
        return self.counters()["users"].get(login, {"signins": 0, "signouts": 0, "failed_signins": 0})

    def requests(self):
        return self.sandbox.erp.log.snapshot()

    def writes(self):
        """Requests that change the site: every PUT/POST/DELETE but sign-in and sign-out."""
        return [(e["method"], e["path"]) for e in self.requests()
                if e["method"] in ("PUT", "POST", "DELETE") and e["path"] not in (LOGIN, LOGOUT)]

    def clear_log(self):
        self.sandbox.erp.log.clear()

    def user(self, login="OcerraAPI"):
        users = self.sandbox.erp.state()["instances"][0]["tenants"][0]["users"]
        return next((u for u in users if u["username"].casefold() == login.casefold()), None)

    def patch_user(self, **fields):
        self.sandbox.erp.upsert_user("acme", "Company", {"username": "OcerraAPI", **fields})

    def can_sign_in(self, login, password):
        """A sign-in as `login` (signed out at once) through the sandbox's own HTTP face."""
        import requests
        with requests.Session() as http:
            answer = http.post(f"{self.sandbox.acumatica_url}/acme/entity/auth/login", timeout=10,
                               json={"name": login, "password": password, "tenant": "Company"})
            if answer.status_code == 204:
                http.post(f"{self.sandbox.acumatica_url}/acme/entity/auth/logout", data=b"", timeout=10)
                return True
            return False

    def assert_sessions_balanced(self):
        for site, counts in self.sandbox.erp.counters().items():
            # A publish recycles the site, which ends its sessions (counted as expired).
            assert counts["signins"] == counts["signouts"] + counts["sessions_expired"], (site, counts)
            assert counts["sessions_open"] == 0, (site, counts)
