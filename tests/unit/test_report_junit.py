"""The report's JUnit file: written with the finished report, removed when a run starts (a CI
system never reads an earlier run's results), well-formed whatever a reason holds."""
import xml.etree.ElementTree as ET

from ansible_collections.ocerra.acumatica.plugins.plugin_utils import report


def test_the_file_follows_the_report_and_escapes_what_a_reason_holds(tmp_path):
    path = str(tmp_path / "report.json")
    report.start(path, ["a", "b"], "provision", True)
    report.keep(path, "a", {"status": "degraded", "reason": 'Half <done> & "stopped". Run again.'})
    report.keep(path, "b", {"status": "changed", "reason": "Done."})
    report.finish(path, ["a", "b"], "provision", True)
    junit = tmp_path / "report.junit.xml"
    root = ET.parse(junit).getroot()
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("failures")) == ("2", "1") and "(check mode)" in suite.get("name")
    failure = suite.find("testcase[@name='a']/failure")
    assert failure.get("type") == "degraded" and failure.text == 'Half <done> & "stopped". Run again.'
    assert suite.find("testcase[@name='b']/failure") is None
    report.start(path, ["a", "b"], "provision", False)
    assert not junit.exists()
