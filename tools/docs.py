"""./run docs [--dest DIR]: the collection's documentation site (antsibull-docs and Sphinx), its
plugin pages and its guides, as HTML in DIR (default out/docs).

The guides are written once, in Markdown (README sections and docs/*.md, read on GitHub as they
are); for the site they are converted with pandoc into the built collection's docs/docsite/rst/
and listed in its docs/docsite/extra-docs.yml, which is how antsibull-docs takes a collection's
own documents. A link from one guide to a file that is a guide becomes a link to its page; a link
to any other file of the repository becomes its address in the repository (galaxy.yml's).
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pypandoc
import yaml

from tools.lint import BIN, ROOT, built_collection, scratch_env

# (page, title, source, the README section it is, or None for the whole file)
GUIDES = (
    ("guide_safe_change", "The password change, and what keeps it safe", "README.md",
     "The password change, and what keeps it safe"),
    ("guide_rotation", "Rotate the password", "README.md", "Rotate the password"),
    ("guide_stores", "Password stores", "docs/secret-store.md", None),
    ("guide_adopting", "Adopt existing sites", "README.md", "Adopt existing sites"),
    ("guide_pipeline", "In a pipeline", "README.md", "In a pipeline"),
    ("guide_awx", "AWX and Ansible Automation Platform", "docs/awx.md", None),
    ("guide_release", "Releasing the collection", "docs/release.md", None),
)
LINK = re.compile(r"\]\((?!https?://|mailto:|#)([^)#\s]+)(#[^)\s]*)?\)")


def section(text, heading):
    """The README's `## heading` section, without its heading line."""
    lines = text.splitlines()
    start = lines.index("## " + heading) + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("## ")), len(lines))
    return "\n".join(lines[start:end])


def markdown_of(source, heading):
    text = (ROOT / source).read_text(encoding="utf-8")
    if heading:
        return section(text, heading)
    return "\n".join(line for line in text.splitlines() if not re.match(r"#\s", line))   # its title goes


def relink(markdown, source, repository):
    """Links to other files: to a guide's page when the file is one, else to the repository."""
    pages = {Path(src): page for page, _title, src, heading in GUIDES if heading is None}

    def target(match):
        path = Path(os.path.normpath(Path(source).parent / match.group(1)))
        if path in pages:
            return "](%s.html%s)" % (pages[path], match.group(2) or "")
        return "](%s/blob/main/%s%s)" % (repository, path.as_posix(), match.group(2) or "")
    return LINK.sub(target, markdown)


def write_guides(tree):
    """The guides as RST in the built collection's docs/docsite/, listed in extra-docs.yml."""
    repository = yaml.safe_load((ROOT / "galaxy.yml").read_text())["repository"].rstrip("/")
    rst = tree / "docs" / "docsite" / "rst"
    rst.mkdir(parents=True, exist_ok=True)
    for page, title, source, heading in GUIDES:
        # The page's sections one level under its title: a file's `##`, a README section's `###`.
        body = pypandoc.convert_text(relink(markdown_of(source, heading), source, repository), "rst",
                                     format="gfm-gfm_auto_identifiers", extra_args=["--wrap=none", "--shift-heading-level-by=%d" % (
                                         -1 if heading else 0)])
        label = ".. _ansible_collections.ocerra.acumatica.docsite.%s:\n\n" % page
        (rst / f"{page}.rst").write_text(label + title + "\n" + "=" * len(title) + "\n\n" + body, encoding="utf-8")
    extra = {"sections": [{"title": "Guides", "toctree": [page for page, *_ in GUIDES]}]}
    (tree / "docs" / "docsite" / "extra-docs.yml").write_text(yaml.safe_dump(extra, sort_keys=False), encoding="utf-8")


def build(dest: Path) -> Path:
    """The site's HTML in `dest` (replaced); `dest`."""
    with tempfile.TemporaryDirectory(prefix="ocerra-docs-") as scratch:
        tree = built_collection(Path(scratch))
        write_guides(tree)
        site = Path(scratch) / "site"
        site.mkdir(mode=0o700)      # antsibull-docs writes only into a folder only its owner can write
        env = scratch_env(tree, ANSIBLE_COLLECTIONS_PATH=str(tree.parents[2]))
        subprocess.run([BIN / "antsibull-docs", "sphinx-init", "--use-current", "--squash-hierarchy", "--fail-on-error",
                        "--dest-dir", site, "ocerra.acumatica"], check=True, env=env, cwd=scratch)
        with open(site / "conf.py", "a", encoding="utf-8") as conf:
            # Offline: no inventory of another site's docs is fetched, and a reference to
            # Ansible's own docs stays plain text. An example holding `!vault | ...` is not
            # YAML a highlighter takes: it is shown plain.
            conf.write("\nintersphinx_mapping = {}\nsuppress_warnings = ['ref.ref', 'misc.highlighting_failure']\n")
        subprocess.run(["bash", "build.sh"], check=True, env=env, cwd=site)
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(site / "build" / "html", dest)
    return dest


def main(argv=None):
    parser = argparse.ArgumentParser(prog="./run docs", description=__doc__.split("\n", 1)[0])
    parser.add_argument("--dest", type=Path, default=ROOT / "out" / "docs", help="where the HTML goes")
    args = parser.parse_args(argv)
    try:
        dest = build(args.dest.resolve())
    except subprocess.CalledProcessError as exc:
        print("./run docs: %s failed (exit %s)" % (" ".join(str(a) for a in exc.cmd[:2]), exc.returncode), file=sys.stderr)
        return 1
    print("The documentation site: %s" % (dest / "index.html"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
