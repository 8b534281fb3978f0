"""`python -m sandbox`: serve both fake servers until SIGINT or SIGTERM.

Prints one JSON line once both listen: {"acumatica_url", "ocerra_url", "ca_path"}, and
"vault_url" with `--vault-port` (the fake HashiCorp Vault, its root token sandbox.vault.DEFAULT_TOKEN).
"""
import argparse
import contextlib
import json
import signal
import sys
import threading
from pathlib import Path

from sandbox import vault
from sandbox.harness import PortBusy, Sandbox

DEFAULT_SEED = Path(__file__).with_name("seeds") / "default.yml"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__.splitlines()[0])
    parser.add_argument("--seed", default=str(DEFAULT_SEED), help="seed YAML file")
    parser.add_argument("--acumatica-port", type=int, default=8601)
    parser.add_argument("--ocerra-port", type=int, default=8602)
    parser.add_argument("--tls", action="store_true", help="HTTPS with a generated CA")
    parser.add_argument("--vault-port", type=int,
                        help="also serve a fake HashiCorp Vault KV v2 on this port (0: a free one)")
    parser.add_argument("--state-dir", help="where the CA file goes (default: a temp dir)")
    args = parser.parse_args(argv)
    if args.state_dir:
        Path(args.state_dir).mkdir(parents=True, exist_ok=True)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with contextlib.ExitStack() as running:
        try:
            sandbox = running.enter_context(Sandbox.start(
                seed=args.seed, acumatica_port=args.acumatica_port, ocerra_port=args.ocerra_port,
                tls=args.tls, state_dir=args.state_dir))
            urls = {"acumatica_url": sandbox.acumatica_url, "ocerra_url": sandbox.ocerra_url,
                    "ca_path": sandbox.ca_path}
            if args.vault_port is not None:
                vault_server, _model, urls["vault_url"] = vault.start(port=args.vault_port)
                running.callback(vault_server.server_close)
                running.callback(vault_server.shutdown)      # callbacks run last in, first out
        except PortBusy as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(json.dumps(urls), flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
