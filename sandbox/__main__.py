"""`python -m sandbox`: serve both fake servers until SIGINT or SIGTERM.

Prints one JSON line once both listen: {"acumatica_url", "ocerra_url", "ca_path"}.
"""
import argparse
import json
import signal
import sys
import threading
from pathlib import Path

from sandbox.harness import PortBusy, Sandbox

DEFAULT_SEED = Path(__file__).with_name("seeds") / "default.yml"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__.splitlines()[0])
    parser.add_argument("--seed", default=str(DEFAULT_SEED), help="seed YAML file")
    parser.add_argument("--acumatica-port", type=int, default=8601)
    parser.add_argument("--ocerra-port", type=int, default=8602)
    parser.add_argument("--tls", action="store_true", help="HTTPS with a generated CA")
    parser.add_argument("--state-dir", help="where the CA file goes (default: a temp dir)")
    args = parser.parse_args(argv)
    if args.state_dir:
        Path(args.state_dir).mkdir(parents=True, exist_ok=True)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        sandbox = Sandbox.start(seed=args.seed, acumatica_port=args.acumatica_port,
                                ocerra_port=args.ocerra_port, tls=args.tls, state_dir=args.state_dir)
    except PortBusy as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps({"acumatica_url": sandbox.acumatica_url, "ocerra_url": sandbox.ocerra_url,
                      "ca_path": sandbox.ca_path}), flush=True)
    try:
        stop.wait()
    finally:
        sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
