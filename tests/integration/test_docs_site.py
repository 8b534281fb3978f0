"""./run docs (tools/docs.py): the collection's documentation site, built with antsibull-docs,
has every plugin's page and every guide, and in a headless browser (Debian's chromium, driven by
Playwright) every guide page renders its title and text and every link inside the site leads to a
page the site has. The pages are served from a loopback server on a free port."""
import functools
import shutil
import subprocess
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urldefrag, urlsplit

import pytest
import requests
from playwright.sync_api import sync_playwright

from tests.integration.helpers import ROOT
from tools.docs import GUIDES

pytestmark = pytest.mark.integration


def chromium():
    """Debian's chromium, installed with apt on a machine that has none (the way the machine's
    notes say a browser test gets one)."""
    found = shutil.which("chromium")
    if found is None:
        subprocess.run(["apt-get", "update"], check=True, capture_output=True, timeout=600)
        subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", "chromium"], check=True,
                       capture_output=True, timeout=900, env={"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
        found = shutil.which("chromium")
    assert found, "no chromium"
    return found


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The built site, served on loopback: its base URL."""
    dest = tmp_path_factory.mktemp("docs") / "html"
    done = subprocess.run([sys.executable, "-m", "tools.docs", "--dest", str(dest)], cwd=ROOT, capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(dest)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d/" % server.server_address[1]
    server.shutdown()
    server.server_close()


def test_the_site_has_every_plugin_and_guide(served):
    index = requests.get(served + "index.html", timeout=10).text
    for page in ("site_module", "site_report_module", "erp_user_module", "ocerra_connection_module",
                 "validate_sites_module", "password_lookup", "progress_callback", "toolkit_role"):
        assert f'href="{page}.html"' in index, page
    for page, _title, _source, _heading in GUIDES:
        assert f'href="docsite/{page}.html"' in index, page


def test_every_guide_renders_and_every_link_inside_the_site_resolves(served):
    checked = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), headless=True)
        try:
            page = browser.new_page()
            for name, title, _source, _heading in GUIDES:
                response = page.goto(f"{served}docsite/{name}.html")
                assert response.status == 200, name
                assert page.locator("h1").first.inner_text().strip().startswith(title)      # then its link icon
                assert len(page.locator("main, [role=main]").first.inner_text()) > 500, name
                for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
                    url = urldefrag(href).url
                    if url.startswith(served) and url not in checked:
                        checked[url] = requests.get(url, timeout=10).status_code
        finally:
            browser.close()
    broken = {url: status for url, status in checked.items() if status != 200}
    assert not broken, broken
    assert len(checked) > 20 and all(urlsplit(u).hostname == "127.0.0.1" for u in checked)
