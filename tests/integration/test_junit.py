"""The JUnit file of sites written next to the report, for CI systems: one test case per site,
a failure for a failed or degraded site with its reason; read with a JUnit parser. A run that
starts removes the previous run's file, like the report."""
import junitparser
import pytest

from tests.integration.helpers import SITES

pytestmark = pytest.mark.integration


def junit_of(site):
    return junitparser.JUnitXml.fromfile(str(site.report_path.with_suffix(".junit.xml")))


def test_every_site_is_a_test_case_and_a_failed_site_a_failure(sandbox, site):
    assert site.provision().rc == 0
    suites = list(junit_of(site))
    assert len(suites) == 1 and suites[0].tests == 3 and suites[0].failures == 0
    assert {case.name for case in suites[0]} == set(SITES)
    assert all(case.is_passed for case in suites[0])

    sandbox.ocerra.faults.add("status", path="/odata/OtherClients", count=None, status=403)
    sandbox.ocerra.faults.add("status", path="/api/Client", count=None, status=403)
    run = site.play("report.yml")
    assert set(run.statuses().values()) == {"failed"}
    suite = next(iter(junit_of(site)))
    assert suite.tests == 3 and suite.failures == 3 and "report" in suite.name
    for case in suite:
        failure = case.result[0]
        assert isinstance(failure, junitparser.Failure) and failure.type == "failed"
        assert failure.text == run.report["sites"][case.name]["reason"]
