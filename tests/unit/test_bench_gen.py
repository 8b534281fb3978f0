"""The benchmark's generator and its pure helpers (bench/gen.py, world.py, measure.py, tables.py):
the seed and the inventory of N sites, the floor playbook, task counting, per-site request deltas
and the targets."""
import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "collections")]

from bench import gen, measure, tables, world  # noqa: E402
from sandbox.harness import Sandbox  # noqa: E402


def test_passwords_meet_the_policy_and_differ():
    passwords = {gen.make_password() for _ in range(200)}
    assert len(passwords) == 200
    for password in passwords:
        assert len(password) >= 14
        assert any(c.isupper() for c in password) and any(c.islower() for c in password)
        assert any(c.isdigit() for c in password) and any(not c.isalnum() for c in password)


def test_seed_has_one_instance_per_site_and_every_entity_for_the_service_user():
    sites = gen.make_sites(3, entities=2)
    seed = gen.make_seed(sites, "Ocerra#Bench-Pass-123")
    instances = seed["acumatica"]["instances"]
    assert [i["name"] for i in instances] == ["b0001", "b0002", "b0003"]
    tenant = instances[0]["tenants"][0]
    assert tenant["user_endpoint_installed"] is True
    assert tenant["users"][0]["password"] == sites[0]["admin_password"]
    clients = seed["ocerra"]["clients"]
    assert len(clients) == 6 and len({c["id"] for c in clients}) == 6
    assert seed["ocerra"]["users"][0]["clients"] == [c["id"] for c in clients]
    assert clients[0]["settings"]["baseUrl"] == "{acumatica}/b0001"
    assert len({s["admin_password"] for s in sites} | {s["api_password"] for s in sites}) == 6


def test_the_sandbox_accepts_the_seed(tmp_path):
    sites = gen.make_sites(2)
    path = gen.write_seed(tmp_path / "seed.yml", gen.make_seed(sites, "Ocerra#Bench-Pass-123"))
    sandbox = Sandbox.start(seed=str(path))
    try:
        counters = sandbox.erp.counters()
        assert {"b0001/Company", "b0002/Company"} <= set(counters)
    finally:
        sandbox.stop()


def test_inventory_is_vaulted_and_passes_the_validator(tmp_path):
    sites = gen.make_sites(2)
    folder = gen.write_inventory(tmp_path / "inv", sites, "http://127.0.0.1:9", "http://127.0.0.1:10",
                                 "Ocerra#Bench-Pass-123")
    text = (folder / "host_vars" / "s0001.yml").read_text()
    assert "!vault |" in text and sites[0]["admin_password"] not in text
    assert sites[0]["api_password"] not in text
    host = yaml.safe_load(text.replace("!vault |", "|"))
    assert host["erp_url"] == "http://127.0.0.1:9/b0001"
    assert [e["client_id"] for e in host["ocerra_entities"]] == sites[0]["entities"]
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    done = subprocess.run([sys.executable, "-m", "tools.validate", str(folder)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count(": ok (") == 2
    for site in sites:
        assert site["admin_password"] not in done.stdout + done.stderr


def test_floor_has_the_counted_tasks(tmp_path):
    path = world.write_floor(tmp_path / "floor.yml", per_host=5, run_once=2)
    play = yaml.safe_load(path.read_text())[0]
    tasks = play["tasks"]
    assert len(tasks) == 7 and play["gather_facts"] is False
    assert sum(1 for t in tasks if t.get("run_once")) == 2
    assert all(set(t) <= {"name", "ansible.builtin.set_fact", "run_once"} for t in tasks)


def test_task_summary_separates_run_once_results():
    counts = {"hosts": {"s0001": {"tasks": 9, "changed": 0, "skipped": 2},
                        "s0002": {"tasks": 5, "changed": 0, "skipped": 2},
                        "s0003": {"tasks": 5, "changed": 1, "skipped": 2}},
              "task_names": ["a", "b"]}
    summary = measure._task_summary(counts, ["s0001", "s0002", "s0003"])
    assert summary["per_host_median"] == 5 and summary["extra"] == 4
    assert summary["total"] == 19 and summary["changed"] == 1 and summary["skipped"] == 6


def test_site_deltas_add_the_entities_to_their_site_and_leave_the_listing_apart():
    sites = [{"host": "s0001", "instance": "b0001", "tenant": "Company", "entities": ["c1", "c2"]}]
    log = [{"method": "GET", "path": "/api/Client/Current", "query": {}, "site": "c1"},
           {"method": "GET", "path": "/odata/OtherClients()", "query": {}, "site": None},
           *({"method": "GET", "path": "/api/Acumatica/Settings", "query": {"clientId": c}, "site": c}
             for c in ("c1", "c2"))]
    listing = world._listing_share(log)
    assert listing == {"listings": 1, "requests": 4, "per_client": {"c1": 2, "c2": 1}}
    before = {"erp": {"b0001/Company": {"requests": 10, "writes": 2, "signins": 3, "signouts": 3}},
              "ocerra": {"c1": {"requests": 4, "writes": 1}}}
    after = {"erp": {"b0001/Company": {"requests": 15, "writes": 2, "signins": 5, "signouts": 5,
                                       "sessions_open": 0}},
             "ocerra": {"c1": {"requests": 7, "writes": 1}, "c2": {"requests": 2}}, "listing": listing}
    row = measure._site_deltas(before, after, sites)["s0001"]
    assert row["requests"] == 7 and row["erp_requests"] == 5 and row["ocerra_requests"] == 2
    assert row["writes"] == 0 and row["signins"] == 2 == row["signouts"]


def test_targets_are_judged_on_wall_time_and_on_cpu_against_the_floor_plus_the_work():
    b = {"wall_s": 10.0, "cpu_s": 12.0, "requests_per_site_max": 7, "writes": 0, "attempts": [], "listings": 1}
    runs = {"b": b, "c": {"wall_s": 250.0}, "d": {"wall_s": 6.0, "cpu_s": 6.0},
            "w": {"requests": {"cpu_s": 2.0}}, "bL": {"wall_s": 12.5}, "cL": {"wall_s": 300.0}}
    judged = {t["target"]: t["met"] for t in tables.targets(runs, entities=2)}
    assert judged == {"(b) CPU <= 1.5 x ((d) + (w))": True, "(c)/(b) wall >= 20": True,
                      "(bL)/(b) wall <= 1.3 (latency hidden)": True, "(cL)/(bL) wall >= 20": True,
                      "(b) requests/site <= 3+E+2 = 7": True, "(b) Ocerra's entities listed once per run": True,
                      "(b) write requests = 0": True}
    assert tables.targets(runs, entities=2)[0]["value"] == 1.5
    runs["w"]["requests"]["cpu_s"] = 1.9
    runs["bL"]["wall_s"] = 14.0
    missed = [t["target"] for t in tables.targets(runs, entities=2) if not t["met"]]
    assert missed == ["(b) CPU <= 1.5 x ((d) + (w))", "(bL)/(b) wall <= 1.3 (latency hidden)"]
