"""The run's report spool: created by the controller (this process), written by forked
workers, read back by another forked worker; absent where it was not inherited."""
import multiprocessing

import pytest

from ansible_collections.ocerra.acumatica.plugins.plugin_utils import report_spool

ENTRY = {"status": "ok", "reason": "API user OcerraAPI in sync; 2 of 2 entities Connected.", "erp": {}, "entities": {}}


def _worker_writes(host, queue):
    queue.put(report_spool.available())
    report_spool.write(host, ENTRY)


def _worker_reads(host, queue):
    queue.put(report_spool.read(host))


@pytest.fixture
def spool(monkeypatch, tmp_path):
    monkeypatch.setattr(report_spool, "_DIRECTORY", None)
    monkeypatch.setattr(report_spool.tempfile, "tempdir", str(tmp_path))
    report_spool.start()
    return report_spool._DIRECTORY


def _in_fork(target, *args):
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    process = context.Process(target=target, args=(*args, queue))
    process.start()
    value = queue.get(timeout=30)
    process.join(30)
    return value


def test_a_worker_writes_an_entry_another_worker_reads_it(spool):
    assert not report_spool.available()  # the controller itself does not spool
    assert _in_fork(_worker_writes, "site/one") is True
    assert _in_fork(_worker_reads, "site/one") == ENTRY
    assert _in_fork(_worker_reads, "other") is None
    assert report_spool.read("site/one") == ENTRY


def test_the_directory_is_private(spool):
    import os
    import stat
    assert stat.S_IMODE(os.stat(spool).st_mode) == 0o700


def test_a_process_that_did_not_inherit_it_has_none(monkeypatch):
    monkeypatch.setattr(report_spool, "_DIRECTORY", None)
    assert not report_spool.available() and report_spool.read("x") is None
