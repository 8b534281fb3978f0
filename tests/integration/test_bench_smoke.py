"""The benchmark runs end to end on a few sites, latency variant included: every playbook it
measures succeeds against the sandbox, so a change of the toolkit or the fakes that breaks
the `uri` reference or the floor shows here, not at the next measurement."""
import json
import subprocess
import sys

import pytest

from tests.integration.helpers import ROOT

pytestmark = pytest.mark.integration


def test_every_run_of_the_benchmark_succeeds_on_three_sites(tmp_path):
    out = tmp_path / "bench.json"
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--sites", "3", "--repeat", "1",
                           "--latency", "0.05,0.02", "--fleet", "4", "--json", str(out),
                           "--workdir", str(tmp_path / "work")],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    runs = json.loads(out.read_text())["runs"]
    work, fleet = runs.pop("w"), runs.pop("fleet")
    assert set(runs) == {"a", "b", "c", "d", "bL", "cL", "p"}
    assert all(run["rc"] == 0 for run in runs.values()), {k: r["rc"] for k, r in runs.items()}
    # The work floor decrypted each site's two passwords and the Ocerra one, sent each site's
    # 5 + E requests through both clients and closed every ERP session it opened.
    assert work["derivations"] == 3 * 2 + 1
    assert work["requests"]["requests"] == work["http.client"]["requests"] == 3 * (5 + 2)
    assert 0 < work["vault_cpu_s"] < work["requests"]["cpu_s"]
    assert runs["c"]["sessions_open"] == 0
    assert "(d) + (w) =" in done.stdout and "(b)/((d) + (w))" in done.stdout
    # The fleet: its own world, created, then one no-change run with latency, against its limit.
    assert fleet["sites"] == 4 and fleet["a"]["rc"] == fleet["bL"]["rc"] == 0 and fleet["bL"]["writes"] == 0
    assert "(bL4) latency limit" in done.stdout
    assert runs["c"]["requests_per_site_max"] == 3 + 2 and runs["b"]["writes"] == 0
    # The plan: the 3 sites it changed are planned (check mode: nothing written), its Markdown counted.
    assert runs["p"]["outcomes"] == {"changed": 3} and runs["p"]["writes"] == 0
    assert 0 < runs["p"]["markdown_lines"] < 100 and "(p)/(b) plan vs no-change run" in done.stdout
