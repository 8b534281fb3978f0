"""./run password [--length N] [--alphabet CHARS]: print a new API user password that meets the
MYOB 2023.1.3 policy (plugins/module_utils/password_policy.py), from the operating system's
cryptographic source. Store it straight away (ansible-vault encrypt_string, or the site's
password store through playbooks/rotate.yml): it exists nowhere else.
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "collections"))

from ansible_collections.ocerra.acumatica.plugins.module_utils.password_policy import (  # noqa: E402
    DEFAULT_ALPHABET, DEFAULT_LENGTH, MIN_LENGTH, generate)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="./run password", description=__doc__.split("\n")[0])
    parser.add_argument("--length", type=int, default=DEFAULT_LENGTH, help=f"characters (default {DEFAULT_LENGTH})")
    parser.add_argument("--alphabet", default=DEFAULT_ALPHABET, help="the characters to draw from")
    parser.add_argument("--min-length", type=int, default=MIN_LENGTH, help="the site's minimum length (14)")
    args = parser.parse_args(argv)
    try:
        print(generate(args.length, args.alphabet, args.min_length))
    except ValueError as exc:
        print(f"./run password: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
