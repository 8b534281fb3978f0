"""write_report: atomic JSON file, check mode writes nothing, and the report is not echoed
back in the result (it would stay in the controller's memory, one entry per site)."""
import json

from tests.modules.erp_support import run_module

REPORT = {"sites": {"acme": {"status": "ok", "reason": "in sync", "erp": {}, "entities": {}}},
          "generated": "2026-11-21T00:00:00Z", "playbook": "provision", "check_mode": False}


def test_writes_the_report_once_and_never_echoes_it(tmp_path):
    path = tmp_path / "out" / "report.json"
    planned = run_module("write_report", {"path": str(path), "report": REPORT}, check=True)
    assert planned["changed"] is True and not path.exists()
    first = run_module("write_report", {"path": str(path), "report": REPORT})
    again = run_module("write_report", {"path": str(path), "report": REPORT})
    assert (first["changed"], again["changed"]) == (True, False)
    assert json.loads(path.read_text()) == REPORT
    assert first["invocation"] == {"module_args": {"path": str(path)}}
    assert "in sync" not in json.dumps(first)
