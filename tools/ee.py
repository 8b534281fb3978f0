"""./run ee [--context-only] [--runtime docker|podman]: the execution environment of this
collection, at the version galaxy.yml says.

  1. builds the collection (dist/ocerra-acumatica-<version>.tar.gz) and copies it to the one
     name execution-environment.yml installs (dist/ocerra-acumatica.tar.gz), so that the EE
     file never names a version;
  2. renders the build context (ansible-builder create, into context/) and fails when the
     collection is not in it (ansible-builder itself only warns about a missing file);
  3. builds the image ocerra-acumatica-ee:<version> with the first container runtime that
     answers (docker or podman), or says that none does and where the context is.

Exit status: 0 built (or, with --context-only, rendered), 1 a step failed, 3 no container
runtime answers (the context is rendered).
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent        # ansible-galaxy and ansible-builder of this environment
TARBALL = "ocerra-acumatica.tar.gz"        # the name execution-environment.yml installs
NO_RUNTIME = 3


def version():
    return yaml.safe_load((ROOT / "galaxy.yml").read_text(encoding="utf-8"))["version"]


def build_collection(dist: Path) -> Path:
    """The collection as built, copied to dist/TARBALL; that copy."""
    dist.mkdir(parents=True, exist_ok=True)
    built = dist / f"ocerra-acumatica-{version()}.tar.gz"
    subprocess.run([str(BIN / "ansible-galaxy"), "collection", "build", "--force", "--output-path", str(dist), str(ROOT)],
                   check=True, capture_output=True, text=True)
    shutil.copyfile(built, dist / TARBALL)
    return dist / TARBALL


def render(ee_file: Path, context: Path) -> Path:
    """ansible-builder create; the context, holding the collection (or SystemExit)."""
    shutil.rmtree(context, ignore_errors=True)
    subprocess.run([str(BIN / "ansible-builder"), "create", "-f", str(ee_file), "-c", str(context),
                    "--output-filename", "Containerfile"], check=True, capture_output=True, text=True,
                   cwd=ee_file.parent)
    shipped = context / "_build" / "src" / TARBALL
    if not shipped.is_file():
        raise SystemExit(f"./run ee: the build context {context} has no {shipped.name}: the collection was not "
                         "built into dist/ (ansible-builder does not fail on a missing file).")
    return context


def runtime(preferred=None):
    """The first container runtime whose daemon answers, or None."""
    for name in [preferred] if preferred else ["docker", "podman"]:
        if shutil.which(name) and subprocess.run([name, "info"], capture_output=True, timeout=60).returncode == 0:
            return name
    return None


def main(argv=None):
    parser = argparse.ArgumentParser(prog="./run ee", description=__doc__.split("\n", 1)[0])
    parser.add_argument("--context-only", action="store_true", help="render the build context, build no image")
    parser.add_argument("--runtime", choices=["docker", "podman"], help="the container runtime (default: the first that answers)")
    parser.add_argument("--workdir", type=Path, default=ROOT,
                        help="where dist/ and context/ go (default: the repository), the EE file copied there")
    args = parser.parse_args(argv)
    ee_file = args.workdir / "execution-environment.yml"
    if ee_file.resolve() != (ROOT / "execution-environment.yml").resolve():
        args.workdir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / "execution-environment.yml", ee_file)
    try:
        build_collection(args.workdir / "dist")
        context = render(ee_file, args.workdir / "context")
    except subprocess.CalledProcessError as exc:
        print(f"./run ee: {' '.join(exc.cmd[:3])} failed:\n{exc.stdout}{exc.stderr}", file=sys.stderr)
        return 1
    tag = f"ocerra-acumatica-ee:{version()}"
    print(f"Build context: {context} (the collection {version()} in it)")
    if args.context_only:
        return 0
    found = runtime(args.runtime)
    if found is None:
        print(f"./run ee: no container runtime answers here (docker or podman, with its daemon running), so no "
              f"image was built. The context is ready: on a machine with one, run `docker build -f "
              f"{context / 'Containerfile'} -t {tag} {context}` (or ./run ee there).", file=sys.stderr)
        return NO_RUNTIME
    done = subprocess.run([str(BIN / "ansible-builder"), "build", "-f", str(ee_file), "-c", str(context),
                           "-t", tag, "--container-runtime", found], cwd=ee_file.parent, check=False)
    if done.returncode == 0:
        print(f"Built {tag} with {found}.")
    return 0 if done.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
