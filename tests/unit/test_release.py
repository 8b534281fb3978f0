"""The release (docs/release.md): galaxy.yml's version is the one written everywhere a user
reads one, the changelog has a section for it, no plugin claims to be newer, and the collection
installs from a git clone by its tag, the documented way, up to the publish step."""
import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
VERSION = yaml.safe_load((ROOT / "galaxy.yml").read_text())["version"]


def _key(version):
    return tuple(int(part) for part in version.split("."))


def test_the_version_is_released_in_the_changelog_and_named_where_users_read_it():
    releases = yaml.safe_load((ROOT / "changelogs" / "changelog.yaml").read_text())["releases"]
    assert max(releases, key=_key) == VERSION
    assert "## v%s" % VERSION.replace(".", "\\.") in (ROOT / "CHANGELOG.md").read_text()
    assert "ocerra-acumatica-%s.tar.gz" % VERSION in (ROOT / "README.md").read_text()
    assert "ocerra-acumatica-ee:%s" % VERSION in (ROOT / "docs" / "awx.md").read_text()


def test_no_plugin_was_added_in_a_later_version():
    found = {}
    for path in (ROOT / "plugins").rglob("*.py"):
        for match in re.finditer(r"^version_added:\s*['\"]?([0-9.]+)", path.read_text(), re.M):
            found[str(path.relative_to(ROOT))] = match.group(1)
    assert found and all(_key(v) <= _key(VERSION) for v in found.values()), found


def test_the_collection_installs_from_git_by_its_tag(tmp_path):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True, timeout=120)
    version = yaml.safe_load((clone / "galaxy.yml").read_text())["version"]     # the last commit's
    subprocess.run(["git", "-C", str(clone), "-c", "user.name=release", "-c", "user.email=release@example.com",
                    "tag", "-a", "v" + version, "-m", "ocerra.acumatica " + version], check=True, timeout=60)
    done = subprocess.run([str(BIN / "ansible-galaxy"), "collection", "install", "-p", str(tmp_path / "collections"),
                           "git+file://%s,v%s" % (clone, version)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    installed = tmp_path / "collections" / "ansible_collections" / "ocerra" / "acumatica"
    manifest = json.loads((installed / "MANIFEST.json").read_text())
    assert manifest["collection_info"]["version"] == version
    assert (installed / "plugins" / "action" / "site.py").is_file() and not (installed / "sandbox").exists()
