"""Generate the benchmark's world: a sandbox seed and an inventory of N sites.

Site i (1-based) is host `s0001`..., the fake Acumatica instance `b0001`... with one tenant
(`Company`), its own admin password, roles, licence types and the toolkit's User endpoint
already published (`user_endpoint_installed: true`: publishing the endpoint is a one-off per
tenant, outside what an hourly no-change run does). Each site has E Ocerra entities (GUIDs
`0000000i-0000-4000-8000-00000000000e`), all visible to one Ocerra service user.

Secrets are per site and random: the admin's password and the API user's password are
Ansible Vault values encrypted with the sandbox's committed fake vault id (`sandbox`, see
inventories/sandbox/README.md), exactly as a partner's inventory holds them. The Ocerra
service user's password is partner-wide (one vaulted value in group_vars), as in
inventories/sandbox. Encryption runs in-process with VaultLib (about 4 ms a value).
"""
from __future__ import annotations

import secrets
import string
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
VAULT_ID = "sandbox"
VAULT_PASSWORD_FILE = ROOT / "inventories" / "sandbox" / "vault-password.txt"
OCERRA_LOGIN = "ocerra-svc@bench.example.com"
TENANT = "Company"
ROLES = ["AP Clerk", "AR Clerk", "CA Clerk", "GL Clerk", "TX Viewer", "FA Clerk", "DR Viewer"]
LICENCE = "Full User (Full API)"
SECURITY = {"min_length": 14, "complexity": "myob_union", "lockout_threshold": 3,
            "lockout_duration_s": 900, "lockout_window_s": 600}


def host_name(i: int) -> str:
    return f"s{i:04d}"


def instance_name(i: int) -> str:
    return f"b{i:04d}"


def client_id(i: int, e: int) -> str:
    return f"{i:08x}-0000-4000-8000-{e:012x}"


def make_password(rng: secrets.SystemRandom | None = None, length: int = 22) -> str:
    """A random password meeting MYOB 2023.1.3's policy (upper, lower, digit, symbol)."""
    rng = rng or secrets.SystemRandom()
    pools = [string.ascii_uppercase, string.ascii_lowercase, string.digits, "#%!-.="]
    chars = [rng.choice(pool) for pool in pools]
    alphabet = "".join(pools)
    chars += [rng.choice(alphabet) for _ in range(length - len(chars))]
    rng.shuffle(chars)
    return "".join(chars)


class Vault:
    def __init__(self, password_file: Path = VAULT_PASSWORD_FILE, vault_id: str = VAULT_ID):
        from ansible.parsing.vault import VaultLib, VaultSecret

        secret = VaultSecret(password_file.read_text(encoding="utf-8").strip().encode())
        self.vault_id, self.secret = vault_id, secret
        self.lib = VaultLib([(vault_id, secret)])

    def encrypt(self, text: str) -> str:
        return self.lib.encrypt(text.encode(), self.secret, vault_id=self.vault_id).decode()

    def decrypt(self, ciphertext: str) -> str:
        return self.lib.decrypt(ciphertext.encode()).decode()


class Vaulted(str):
    """A ciphertext that yaml dumps as a `!vault |` block."""


def _vault_representer(dumper, data):
    return dumper.represent_scalar("!vault", str(data), style="|")


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(Vaulted, _vault_representer)


def _dump(data) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=120)


class _Loader(yaml.SafeLoader):
    pass


_Loader.add_constructor("!vault", lambda loader, node: Vaulted(loader.construct_scalar(node)))


def read_vars(path: Path) -> dict:
    """A variables file write_inventory wrote, each `!vault` value read back as a Vaulted
    ciphertext (not decrypted)."""
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader) or {}


def make_sites(n: int, entities: int = 2, rng=None) -> list[dict]:
    """The N sites' plain-text facts (the seed and the inventory are both made from these)."""
    rng = rng or secrets.SystemRandom()
    return [{"host": host_name(i), "instance": instance_name(i), "tenant": TENANT,
             "admin_password": make_password(rng), "api_password": make_password(rng),
             "entities": [client_id(i, e) for e in range(1, entities + 1)]}
            for i in range(1, n + 1)]


def make_seed(sites: list[dict], ocerra_password: str) -> dict:
    """The sandbox seed (sandbox/README.md, Seed format): state before the first run."""
    instances, clients = [], []
    for site in sites:
        instances.append({
            "name": site["instance"], "flavour": "myob",
            "licence": {"max_api_users": 3, "max_concurrent_requests": 10,
                        "max_requests_per_minute": 600},
            "tenants": [{
                "name": site["tenant"], "security": dict(SECURITY),
                "user_types": [
                    {"name": "API User", "allowed": "A", "roles": list(ROLES)},
                    {"name": "Admin", "allowed": "R", "roles": ["Administrator", "Customizer", *ROLES]},
                ],
                "licence_types": [{"name": LICENCE, "available": 3},
                                  {"name": "Limited API", "available": 5},
                                  {"name": "Self Service User", "available": None}],
                "user_endpoint_installed": True,
                "users": [{"username": "admin", "password": site["admin_password"],
                           "email": f"admin@{site['instance']}.example.com",
                           "first_name": "Bench", "last_name": "Admin", "user_type": "Admin",
                           "roles": ["Administrator", "Customizer"], "licence_types": [LICENCE],
                           "is_approved": True, "locked": False, "force_change": False,
                           "password_never_expires": True}],
            }],
        })
        for number, cid in enumerate(site["entities"], 1):
            clients.append({"id": cid, "name": f"{site['host']} entity {number}",
                            "settings": {"baseUrl": "{acumatica}/" + site["instance"],
                                         "tenant": site["tenant"], "enableConnection": False}})
    return {
        "acumatica": {"switches": {}, "instances": instances},
        "ocerra": {"switches": {},
                   "users": [{"login": OCERRA_LOGIN, "password": ocerra_password, "two_factor": False,
                              "clients": [c["id"] for c in clients]}],
                   "clients": clients},
    }


GROUP_VARS_HEAD = """\
# Generated by bench/gen.py: partner-wide values for every benchmark site (see
# inventories/sandbox/group_vars/all.yml, which this mirrors).
"""


def write_inventory(folder: Path, sites: list[dict], acumatica_url: str, ocerra_url: str,
                    ocerra_password: str, vault: Vault | None = None) -> Path:
    """hosts.yml + group_vars/all.yml + host_vars/<host>.yml under `folder`."""
    vault = vault or Vault()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "group_vars").mkdir(exist_ok=True)
    (folder / "host_vars").mkdir(exist_ok=True)
    hosts = {"all": {"vars": {"ansible_connection": "local",
                              "ansible_python_interpreter": "{{ ansible_playbook_python }}"},
                     "children": {"bench": {"hosts": {s["host"]: None for s in sites}}}}}
    (folder / "hosts.yml").write_text("# Generated by bench/gen.py\n" + _dump(hosts), encoding="utf-8")
    group = {
        "erp_admin_user": "admin",
        "erp_validate_certs": True,
        # The endpoint is seeded as published (a one-off per tenant, not benchmarked).
        "erp_publish_endpoint": False,
        "api_user_login": "OcerraAPI",
        "api_user_first_name": "Ocerra",
        "api_user_last_name": "API",
        "api_user_email": "ocerraapi+{{ inventory_hostname }}@partner.example.com",
        "api_user_roles": list(ROLES),
        "api_user_roles_mode": "exact",
        "api_user_licence_type": LICENCE,
        "api_user_update_password": "when_changed",
        "ocerra_url": ocerra_url,
        "ocerra_username": OCERRA_LOGIN,
        "ocerra_password": Vaulted(vault.encrypt(ocerra_password)),
        "ocerra_validate_certs": True,
    }
    (folder / "group_vars" / "all.yml").write_text(GROUP_VARS_HEAD + _dump(group), encoding="utf-8")
    for site in sites:
        host = {
            "erp_url": f"{acumatica_url}/{site['instance']}",
            "erp_tenant": site["tenant"],
            "erp_admin_password": Vaulted(vault.encrypt(site["admin_password"])),
            "api_user_password": Vaulted(vault.encrypt(site["api_password"])),
            "ocerra_entities": [{"client_id": cid} for cid in site["entities"]],
        }
        (folder / "host_vars" / f"{site['host']}.yml").write_text(
            f"# Generated by bench/gen.py: site {site['host']}\n" + _dump(host), encoding="utf-8")
    return folder


def write_seed(path: Path, seed: dict) -> Path:
    path.write_text("# Generated by bench/gen.py\n" + yaml.safe_dump(seed, sort_keys=False, width=120),
                    encoding="utf-8")
    return path
