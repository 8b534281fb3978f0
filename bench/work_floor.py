"""The no-change run's own work alone, in one warm process: the least any implementation pays.

    python bench/work_floor.py INVENTORY_DIR OUT.json

Whatever a playbook does around it, a no-change run over the benchmark's inventory must
decrypt every vaulted password it uses (each value its own PBKDF2 derivation, as Ansible's
VaultLib does) and send each site's requests: the admin's sign-in, the read of the API user,
the API user's verification sign-in, both sign-outs, and one read of each entity's Ocerra
settings. This script does exactly that, sequentially in one process whose imports and first
request are already paid, with no Ansible, no checks and no report: the requests once through
requests (the toolkit's HTTP library) and once through bare http.client (the least Python
can do). It writes the CPU time (`time.process_time()`) of each part to OUT.json:

    {"derivations", "vault_cpu_s",
     "requests":    {"requests", "http_cpu_s", "cpu_s"},   # cpu_s: vault + HTTP
     "http.client": {"requests", "http_cpu_s", "cpu_s"}}

Ansible's floor (d) plus this is therefore a lower bound on the no-change run's CPU. Any
answer other than 2xx is an error (exit status 1): a bound measured on failed requests would
be too low. It runs against the benchmark's own sandbox only, after the first run set every
password, and the first refused answer stops it: a wrong password costs at most one failed
sign-in.
"""
from __future__ import annotations

import base64
import http.client
import json
import sys
import time
import urllib.parse
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import gen  # noqa: E402

TIMEOUT_S = 30


def read_inventory(inventory: Path) -> dict:
    """Every host's variables (group_vars/all.yml under host_vars/<host>.yml), ciphertexts kept."""
    group = gen.read_vars(inventory / "group_vars" / "all.yml")
    return {path.stem: {**group, **gen.read_vars(path)}
            for path in sorted((inventory / "host_vars").glob("*.yml"))}


def decrypt_all(hosts: dict, vault: gen.Vault) -> int:
    """Decrypt, in place, every distinct vaulted value of the hosts (a group-wide value once,
    as Ansible does); how many were decrypted."""
    plain = {}
    for values in hosts.values():
        for key, value in values.items():
            if isinstance(value, gen.Vaulted):
                if value not in plain:
                    plain[value] = vault.decrypt(value)
                values[key] = plain[value]
    return len(plain)


class RequestsClient:
    """The toolkit's HTTP library: a requests.Session (its cookies, its connection pool)."""
    name = "requests"

    def __init__(self, auth=None):
        self.session = requests.Session()
        self.session.auth = auth

    def call(self, method: str, url: str, params=None, body=None):
        answer = self.session.request(method, url, params=params, json=body, timeout=TIMEOUT_S,
                                      headers={"Accept": "application/json"})
        _check(method, url, answer.status_code)
        return answer.json() if answer.content else None

    def close(self):
        self.session.close()


class BareClient:
    """The least a Python client can do: http.client on one connection, the cookies it is
    given sent back, Basic auth; the bodies parsed as JSON like requests' answers."""
    name = "http.client"

    def __init__(self, auth=None):
        self.connection, self.cookies = None, {}
        self.headers = {"Accept": "application/json"}
        if auth:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            self.headers["Authorization"] = f"Basic {token}"

    def call(self, method: str, url: str, params=None, body=None):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme != "http":
            raise SystemExit(f"{url}: only the sandbox's plain loopback http is measured")
        if self.connection is None:
            self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=TIMEOUT_S)
        headers = dict(self.headers)
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        if body is not None:
            body, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        target = parts.path + (f"?{urllib.parse.urlencode(params)}" if params else "")
        self.connection.request(method, target, body=body, headers=headers)
        answer = self.connection.getresponse()
        data = answer.read()
        _check(method, url, answer.status)
        for cookie in answer.headers.get_all("Set-Cookie") or ():
            name, _, rest = cookie.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return json.loads(data) if data else None

    def close(self):
        if self.connection is not None:
            self.connection.close()


def _check(method: str, url: str, status: int):
    if not 200 <= status < 300:
        raise SystemExit(f"{method} {urllib.parse.urlsplit(url).path}: HTTP {status}")


def site_requests(site: dict, client, ocerra) -> int:
    """One site's no-change requests through `client` (a class above); the number sent."""
    erp = site["erp_url"]
    admin, api_user = client(), client()
    admin.call("POST", f"{erp}/entity/auth/login", body={
        "name": site["erp_admin_user"], "password": site["erp_admin_password"], "tenant": site["erp_tenant"]})
    admin.call("GET", f"{erp}/entity/UserAdminMyob/1.0.0/User/{site['api_user_login']}",
               params={"$expand": "Roles,LicenseTypes"})
    api_user.call("POST", f"{erp}/entity/auth/login", body={
        "name": site["api_user_login"], "password": site["api_user_password"], "tenant": site["erp_tenant"]})
    for session in (admin, api_user):
        session.call("POST", f"{erp}/entity/auth/logout")
        session.close()
    for entity in site["ocerra_entities"]:
        ocerra.call("GET", f"{site['ocerra_url']}/api/Acumatica/Settings", params={"clientId": entity["client_id"]})
    return 5 + len(site["ocerra_entities"])


def http_cpu(hosts: dict, client) -> tuple[int, float]:
    """Every site's requests through `client`: how many, and their CPU seconds."""
    first = next(iter(hosts.values()))
    ocerra = client(auth=(first["ocerra_username"], first["ocerra_password"]))
    # A process's first request sets the library up (imports, certificates): paid once a run.
    ocerra.call("GET", f"{first['ocerra_url']}/api/Acumatica/Settings",
                params={"clientId": first["ocerra_entities"][0]["client_id"]})
    started = time.process_time()
    sent = sum(site_requests(site, client, ocerra) for site in hosts.values())
    spent = time.process_time() - started
    ocerra.close()
    return sent, spent


def main(argv: list[str]) -> int:
    inventory, out = Path(argv[0]), Path(argv[1])
    hosts, vault = read_inventory(inventory), gen.Vault()
    started = time.process_time()
    derivations = decrypt_all(hosts, vault)
    vault_cpu = time.process_time() - started
    result = {"derivations": derivations, "vault_cpu_s": round(vault_cpu, 3)}
    for client in (RequestsClient, BareClient):
        sent, spent = http_cpu(hosts, client)
        result[client.name] = {"requests": sent, "http_cpu_s": round(spent, 3),
                               "cpu_s": round(vault_cpu + spent, 3)}
    out.write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
