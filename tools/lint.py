"""./run lint [--pip-bootstrap-from-pypi]: every static check, each named with its result; exit 1
if any fails.

- ruff over the repository's Python (pyproject.toml);
- ansible-lint --profile production over the playbooks and the role (.ansible-lint);
- antsibull-changelog lint over changelogs/;
- over the collection as built (what ships, installed into a scratch ansible_collections tree):
  `ansible-test sanity --venv --python X`, as ansible-test documents it for a collection, with the
  pinned ansible-core (requirements.txt: the newest this Python is served) and with the lowest one
  meta/runtime.yml claims (installed into .lint/ansible-core-<version> on first use), and
  antsibull-docs lint-collection-docs.

ansible-test bootstraps pip in its virtual environments with a script it downloads from
ci-files.testing.ansible.com. A machine that reaches only the package registries (this one, its
CI) passes --pip-bootstrap-from-pypi: a few lines that run pip from its wheel on PyPI (what the
official script does from an embedded copy) are put in ansible-test's cache first, under
.lint/home, so nothing outside the repository changes."""
import argparse
import os
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".lint"
BIN = Path(sys.executable).parent
GET_PIP = """import sys
sys.path.insert(0, {wheel!r})
from pip._internal.cli.main import main
# get-pip.py's own switches; pip install does not know them.
sys.exit(main(["install", *(a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel"))]))
"""


def run(args, **kw):
    print("$", " ".join(str(a) for a in args), flush=True)
    return subprocess.run([str(a) for a in args], **kw).returncode == 0


def built_collection(scratch):
    """The collection as ansible-galaxy builds it, unpacked at scratch/ansible_collections/ns/name
    (outside the repository: inside it, ansible-test would list files with git and see none)."""
    meta = yaml.safe_load((ROOT / "galaxy.yml").read_text())
    dist, tree = scratch / "dist", scratch / "ansible_collections" / meta["namespace"] / meta["name"]
    subprocess.run([BIN / "ansible-galaxy", "collection", "build", "--output-path", dist, ROOT],
                   check=True, stdout=subprocess.DEVNULL)
    (tarball,) = dist.glob("*.tar.gz")
    tree.mkdir(parents=True)
    with tarfile.open(tarball) as archive:
        archive.extractall(tree, filter="data")
    return tree


def pip_bootstrap(home, bin_dir=BIN):
    """Put the pip bootstrap script the ansible-test of `bin_dir` wants into its cache under `home`."""
    source = (bin_dir.parent / "lib").glob("python3*/site-packages/ansible_test/_internal/python_requirements.py")
    version = re.search(r"pip='([0-9.]+)'", next(source).read_text()).group(1)
    cache = home / ".ansible" / "test" / "cache"
    script = cache / f"get_pip_{version.replace('.', '_')}.py"
    wheels = sorted(cache.glob(f"pip-{version}-*.whl"))
    if not wheels:
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
                        "--no-deps", "--only-binary=:all:", "-d", cache, f"pip=={version}"], check=True)
        wheels = sorted(cache.glob(f"pip-{version}-*.whl"))
    script.write_text(GET_PIP.format(wheel=str(wheels[-1])))


def scratch_env(tree, bin_dir=BIN, **more):
    """`bin_dir`'s tools first on PATH; no ansible.cfg of the repository's (an empty one)."""
    config = tree.parents[2] / "ansible.cfg"
    config.write_text("[defaults]\n")
    return dict(os.environ, ANSIBLE_CONFIG=str(config), PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
                **more)


def sanity(tree, pip_from_pypi, bin_dir=BIN):
    """ansible-test sanity of the ansible-core installed in `bin_dir`."""
    home = WORK / "home"
    if pip_from_pypi:
        pip_bootstrap(home, bin_dir)
    env = scratch_env(tree, bin_dir, **({"HOME": str(home)} if pip_from_pypi else {}))
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    return run([bin_dir / "ansible-test", "sanity", "--venv", "--python", python, "--color", "no"], cwd=tree, env=env)


def lowest_core():
    """bin/ of a virtual environment with the lowest ansible-core meta/runtime.yml claims."""
    claim = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())["requires_ansible"]
    version = re.fullmatch(r">=\s*([0-9.]+)", claim.strip()).group(1)
    venv = WORK / f"ansible-core-{version}"
    if not (venv / "bin" / "ansible-test").exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", venv], check=True)
        subprocess.run([venv / "bin" / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        f"ansible-core=={version}"], check=True)
    return version, venv / "bin"


def docs(tree):
    env = scratch_env(tree, ANSIBLE_COLLECTIONS_PATH=str(tree.parents[2]))
    return run([BIN / "antsibull-docs", "lint-collection-docs", "--plugin-docs", "."], cwd=tree, env=env)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="./run lint", description=__doc__.split("\n")[0])
    parser.add_argument("--pip-bootstrap-from-pypi", action="store_true",
                        help="give ansible-test its pip bootstrap from PyPI (no access to ci-files.testing.ansible.com)")
    args = parser.parse_args(argv)
    WORK.mkdir(exist_ok=True)
    results = {
        "ruff": run([BIN / "ruff", "check", "."], cwd=ROOT),
        "ansible-lint": run([BIN / "ansible-lint", "--profile", "production"], cwd=ROOT),
        "antsibull-changelog": run([BIN / "antsibull-changelog", "lint"], cwd=ROOT),
    }
    with tempfile.TemporaryDirectory(prefix="ocerra-lint-") as scratch:
        tree = built_collection(Path(scratch))
        results["ansible-test sanity"] = sanity(tree, args.pip_bootstrap_from_pypi)
        version, bin_dir = lowest_core()
        results[f"ansible-test sanity, ansible-core {version}"] = sanity(tree, args.pip_bootstrap_from_pypi, bin_dir)
        results["antsibull-docs"] = docs(tree)
    for name, ok in results.items():
        print(f"{'ok    ' if ok else 'FAILED'} {name}")
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
