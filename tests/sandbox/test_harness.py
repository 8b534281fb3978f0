"""The harness: Sandbox.start/reset/stop, TLS, the erp_probe outcomes, `python -m sandbox`."""
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from sandbox import Sandbox
from sandbox.erp_probe import classify, erp_signin
from tests.sandbox.acumatica_helpers import ADMIN_PW, API_PW, site_seed, user

REPO = Path(__file__).resolve().parents[2]
CLIENT = "6f1c0000-0000-4000-8000-000000000001"


@pytest.fixture
def seed():
    acumatica = site_seed(users=[user("Locked", locked=True), user("Disabled", is_approved=False),
                                 user("Pending", pending=True), user("Change", force_change=True),
                                 user("Outsider", allowed_in_tenant=False),
                                 user("UiOnly", user_type="UI Only")], tenants=("Company", "Second"))
    return {**acumatica, "ocerra": {
        "users": [{"login": "svc@example.com", "password": "Svc-Password-1", "clients": [CLIENT]}],
        "clients": [{"id": CLIENT, "name": "Acme Live", "settings": {
            "baseUrl": "{acumatica}/acme", "tenant": "Company", "login": "OcerraAPI",
            "password": API_PW, "enableConnection": True}}]}}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("name,password,tenant,outcome", [
    ("OcerraAPI", API_PW, "Company", "connected"),
    ("OcerraAPI", "wrong", "Company", "invalid_credentials"),
    ("Locked", API_PW, "Company", "account_locked"),
    ("Disabled", API_PW, "Company", "account_disabled"),
    ("Pending", API_PW, "Company", "account_disabled"),
    ("Change", API_PW, "Company", "password_change_required"),
    ("Outsider", API_PW, "Company", "invalid_credentials"),
    ("UiOnly", API_PW, "Company", "invalid_credentials"),
    ("OcerraAPI", API_PW, "Nope", "tenant_not_found")])
def test_probe_outcomes(sandbox, name, password, tenant, outcome):
    probe = erp_signin(f"{sandbox.acumatica_url}/acme/", tenant, "HQ", name, password)
    assert probe.outcome == outcome
    counters = sandbox.erp.counters().get("acme/Company", {})
    assert counters.get("signins", 0) == counters.get("signouts", 0)
    if outcome != "connected":
        assert probe.message


def test_probe_unreachable_and_unknown_texts():
    probe = erp_signin(f"http://127.0.0.1:{free_port()}/acme", "Company", None, "a", "b",
                       timeout=2)
    assert probe.outcome == "unreachable" and "ConnectionError" in probe.message
    assert classify("Something new") == "unreachable"


def test_probe_status_switch_does_not_change_the_outcome(sandbox):
    for status in (500, 401, 400):
        sandbox.erp.set_switches({"signin_failure_status": status})
        probe = erp_signin(f"{sandbox.acumatica_url}/acme", "Company", None, "Locked", API_PW)
        assert probe.outcome == "account_locked"


def test_ocerra_gets_the_acumatica_url_and_a_real_probe(sandbox):
    settings = next(c for c in sandbox.ocerra.state()["clients"] if c["clientId"] == CLIENT)
    assert settings["settings"]["baseUrl"] == f"{sandbox.acumatica_url}/acme"
    answer = requests.post(f"{sandbox.ocerra_url}/api/Acumatica/Connection/Test",
                           params={"clientId": CLIENT}, auth=("svc@example.com", "Svc-Password-1"),
                           timeout=10)
    assert answer.json()["status"]["code"] == "Connected"
    counters = sandbox.erp.counters()["acme/Company"]["users"]["OcerraAPI"]
    assert counters["signins"] == counters["signouts"] == 1


def test_reset_from_a_path_and_rejects_unknown_sections(sandbox, tmp_path, default_seed):
    path = tmp_path / "seed.yml"
    path.write_text("acumatica:\n  instances:\n    - name: solo\n      tenants: [{name: T}]\n")
    sandbox.reset(seed=str(path))
    assert [i["name"] for i in sandbox.erp.state()["instances"]] == ["solo"]
    with pytest.raises(ValueError):
        sandbox.reset(seed={"acumatica": {}, "extra": {}})
    sandbox.reset(seed=default_seed)
    assert {i["name"] for i in sandbox.erp.state()["instances"]} >= {"acme"}


def test_reset_rewinds_the_shared_clock(sandbox):
    sandbox.clock.advance(86400)
    sandbox.reset()
    assert abs(sandbox.clock.now().timestamp() - time.time()) < 60


def test_tls_serves_both_with_the_written_ca(tmp_path):
    sb = Sandbox.start(seed=site_seed(), tls=True, state_dir=tmp_path)
    try:
        assert sb.acumatica_url.startswith("https://127.0.0.1:")
        assert Path(sb.ca_path).parent == tmp_path and "BEGIN CERTIFICATE" in Path(
            sb.ca_path).read_text()
        http = requests.Session()
        answer = http.post(f"{sb.acumatica_url}/acme/entity/auth/login", verify=sb.ca_path,
                           json={"name": "admin", "password": ADMIN_PW, "tenant": "Company"})
        assert answer.status_code == 204
        assert requests.get(f"{sb.ocerra_url}/_sandbox/state", verify=sb.ca_path).ok
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(f"{sb.acumatica_url}/_sandbox/state", timeout=5)
        probe = erp_signin(f"{sb.acumatica_url}/acme", "Company", None, "OcerraAPI", API_PW,
                           verify=sb.ca_path)
        assert probe.outcome == "connected"
    finally:
        sb.stop()


def test_stop_frees_the_ports():
    sb = Sandbox.start()
    url = sb.acumatica_url
    sb.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/_sandbox/state", timeout=2)


@contextlib.contextmanager
def command_line(*args):
    """`python -m sandbox ARGS` and the JSON line it prints once listening; it must stop with
    exit status 0 on SIGTERM."""
    process = subprocess.Popen([sys.executable, "-m", "sandbox", *map(str, args)], cwd=REPO,
                               env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        yield json.loads(process.stdout.readline())
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()


@pytest.mark.parametrize("tls", [False, True])
def test_command_line_starts_answers_and_stops_on_sigterm(tmp_path, default_seed, tls):
    ports = [free_port(), free_port()]
    state_dir = tmp_path / "state"
    with command_line("--seed", default_seed, "--acumatica-port", ports[0], "--ocerra-port", ports[1],
                      "--state-dir", state_dir, *(["--tls"] if tls else [])) as ready:
        scheme = "https" if tls else "http"
        assert ready == {"acumatica_url": f"{scheme}://127.0.0.1:{ports[0]}",
                         "ocerra_url": f"{scheme}://127.0.0.1:{ports[1]}",
                         "ca_path": str(state_dir / "sandbox-ca.pem") if tls else None}
        verify = ready["ca_path"] or True
        state = requests.get(f"{ready['acumatica_url']}/_sandbox/state", timeout=5,
                             verify=verify).json()
        assert "acme" in {i["name"] for i in state["instances"]}
        assert requests.get(f"{ready['ocerra_url']}/_sandbox/state", timeout=5, verify=verify).ok


def test_command_line_serves_the_fake_vault_when_asked(default_seed):
    with command_line("--seed", default_seed, "--acumatica-port", 0, "--ocerra-port", 0, "--vault-port", 0) as ready:
        secret = f"{ready['vault_url']}/v1/secret/data/ocerra-acumatica/acme"
        token = {"X-Vault-Token": "hvs.sandbox-root-token"}
        assert requests.get(secret, timeout=5).status_code == 403
        assert requests.post(secret, json={"options": {"cas": 0}, "data": {"current": "x"}}, headers=token,
                             timeout=5).json()["data"]["version"] == 1
        assert requests.get(secret, headers=token, timeout=5).json()["data"]["data"] == {"current": "x"}


def test_a_taken_port_fails_the_start_and_frees_the_other():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = free_port()
        with pytest.raises(OSError):
            Sandbox.start(acumatica_port=port, ocerra_port=taken.getsockname()[1])
        with socket.socket() as again:
            again.bind(("127.0.0.1", port))    # the first server's port was released


def test_command_line_on_a_taken_port_says_so_in_one_line(default_seed):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "sandbox", "--seed", str(default_seed), "--acumatica-port", str(free_port()),
             "--ocerra-port", str(port)], cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
            capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.splitlines() == [
        f"error: the sandbox cannot listen on 127.0.0.1:{port}: Address already in use (another sandbox "
        "running? choose other ports with --acumatica-port/--ocerra-port)"]
