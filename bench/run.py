"""./run bench: the no-change run over N sites against Ansible's floor and a `uri` playbook.

One command (see bench/README.md):

  1. generates, in a temporary folder, a sandbox seed and an inventory of N sites and starts
     the sandbox on free loopback ports (bench/world.py);
  2. runs and measures, one after the other against the same inventory (bench/measure.py):
       (a) playbooks/provision.yml, first run: creates every API user, connects every entity;
       (b) playbooks/provision.yml again: the no-change run;
       (c) bench/uri_reference.yml: the same checks with ansible.builtin.uri tasks;
       (d) Ansible's floor: as many `set_fact` tasks per host as (b) executed;
     each under bench/rusage.py (wall, CPU of the whole process tree, peak RSS), reading the
     sandbox's request counters before and after; and (w), the sites' own work alone in one
     process (bench/work_floor.py: vault derivations and requests), so that (d) + (w) bounds
     what (b) can cost; with --latency, (b) and (c) again with the services' latency, and a
     no-change run over a fleet of 1,000 sites with it;
  3. prints the table, the ratios and which targets are met (bench/tables.py).

Exit status: 0 when every run succeeded (whether or not the targets are met), 1 when a run
failed, 2 on bad arguments.
"""
from __future__ import annotations

import argparse
import configparser
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "collections")]

from bench.measure import REALISTIC_LATENCY, memory_series, run_world  # noqa: E402
from bench.tables import forks_table, memory_table, table, targets  # noqa: E402
from bench.world import STORES  # noqa: E402

FLEET = 1000                    # sites of the fleet run with latency (--fleet)


def _latency(text):
    try:
        erp_s, ocerra_s = (float(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError("expected ERP_S,OCERRA_S, e.g. 0.3,0.15") from None
    if not (0 <= erp_s <= 10 and 0 <= ocerra_s <= 10):
        raise argparse.ArgumentTypeError("latencies must be between 0 and 10 seconds")
    return erp_s, ocerra_s


def _sizes(text):
    try:
        sizes = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("a comma-separated list of numbers, e.g. 100,300,1000") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("each number must be positive")
    return sizes


def parse(argv):
    parser = argparse.ArgumentParser(prog="./run bench", description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=200, help="N, the number of sites (default 200)")
    parser.add_argument("--entities", type=int, default=2, help="Ocerra entities per site (default 2)")
    parser.add_argument("--forks", type=int, default=None,
                        help="forks for every run (default: ansible.cfg's)")
    parser.add_argument("--repeat", type=int, default=None,
                        help="runs of (b) and of (d), alternating; the table shows each one's median "
                             "by wall time (default 3, and 1 with --memory-series)")
    parser.add_argument("--wait-idle", type=float, default=0, metavar="SECONDS",
                        help="before each run, wait up to SECONDS for the machine to be nearly idle "
                             "(other processes under 15%% of a core); default 0 = do not wait")
    parser.add_argument("--skip-uri", action="store_true", help="do not run the uri reference (c)")
    parser.add_argument("--skip-plan", action="store_true",
                        help="do not run the plan (p): provision --check --diff with 3 sites to change")
    parser.add_argument("--latency", type=_latency, nargs="?", const=REALISTIC_LATENCY,
                        metavar="ERP_S,OCERRA_S",
                        help="also run (b) and (c) with this latency on every request of the fakes "
                             "(bL, cL), and a no-change run with it over --fleet sites; alone: the realistic "
                             "%g,%g" % REALISTIC_LATENCY)
    parser.add_argument("--fleet", type=int, default=FLEET, metavar="N",
                        help=f"with --latency, the sites of the fleet run (default {FLEET}; 0: none)")
    parser.add_argument("--forks-series", type=_sizes, metavar="F1,F2,...",
                        help="after (a), the no-change run with each forks value, without and with latency "
                             "(--latency, else the realistic one): wall, CPU and the tree's peak memory")
    parser.add_argument("--memory-series", type=_sizes, metavar="N1,N2,...",
                        help="instead: for each N, the first and no-change runs and the floor; "
                             "prints peak memory per N")
    parser.add_argument("--playbook", default=str(ROOT / "playbooks" / "provision.yml"),
                        help="the toolkit playbook measured in (a) and (b) (default playbooks/provision.yml)")
    parser.add_argument("--profile", action="store_true",
                        help="instead: run (a), then the no-change run under cProfile (controller and "
                             "every worker, bench/profile_run.py) and print where the time goes")
    parser.add_argument("--profile-top", type=int, default=40, help="functions shown per profile (default 40)")
    parser.add_argument("--rotate", action="store_true",
                        help="instead of (b)-(d): after (a), rotate every site's password now (rotate.yml) and "
                             "measure it")
    parser.add_argument("--store", choices=STORES, default="inventory",
                        help="where every site's password is kept: inventory (default), vault_file, or "
                             "hashi_vault (the sandbox's fake Vault KV v2, sandbox/vault.py, each site's "
                             "current password stored before (a)); prints the store's requests per site of (b)")
    parser.add_argument("--json", metavar="OUT.json", help="also write every measurement as JSON")
    parser.add_argument("--workdir", help="keep the generated files, logs and measurements here "
                                          "(default: a temporary folder, removed at the end)")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds allowed per run (default 3600)")
    args = parser.parse_args(argv)
    if args.repeat is None:
        args.repeat = 1 if args.memory_series else 3
    if args.sites < 1 or args.entities < 1 or args.repeat < 1 or args.fleet < 0:
        parser.error("--sites, --entities and --repeat must be at least 1, --fleet at least 0")
    if not Path(args.playbook).is_file():
        parser.error(f"{args.playbook}: no such playbook")
    return args


def main(argv=None) -> int:
    args = parse(argv)
    playbook = Path(args.playbook).resolve()
    keep = args.workdir is not None
    root_dir = Path(args.workdir).resolve() if keep else Path(tempfile.mkdtemp(prefix="bench-"))
    root_dir.mkdir(parents=True, exist_ok=True)
    forks = args.forks or _configured_forks()
    print(f"Forks: {forks}{'' if args.forks else ' (ansible.cfg)'}; CPUs: {os.cpu_count()}")
    report = {"forks": forks, "entities": args.entities, "playbook": str(playbook), "store": args.store}
    try:
        if args.memory_series:
            rows, ok = memory_series(args.memory_series, args, playbook, root_dir)
            text = memory_table(rows)
            report["memory_series"] = rows
        else:
            runs, ok = run_world(args.sites, args.entities, root_dir / f"n{args.sites}", args, playbook,
                                 with_uri=not args.skip_uri)
            if ok and args.latency and args.fleet and not (args.profile or args.forks_series or args.rotate):
                fleet, ok = run_world(args.fleet, args.entities, root_dir / f"fleet{args.fleet}", args, playbook,
                                      fleet=True)
                runs["fleet"] = {"sites": args.fleet, **fleet}
            text = ("" if args.profile else
                    forks_table(runs, args.forks_series, args.sites, args.latency) if args.forks_series else
                    table(runs, args.sites, args.entities, forks, args.latency))
            report.update(sites=args.sites, runs=runs, targets=targets(runs, args.entities))
        print()
        print(text)
        if args.json:
            Path(args.json).write_text(json.dumps(report, indent=2), encoding="utf-8")
            print(f"\nMeasurements written to {args.json}")
        if not ok:
            print(f"\nA run failed; its log is kept in {root_dir}", file=sys.stderr)
            keep = True
        return 0 if ok else 1
    finally:
        if keep:
            print(f"Work folder kept: {root_dir}")
        else:
            shutil.rmtree(root_dir, ignore_errors=True)


def _configured_forks() -> int:
    config = configparser.ConfigParser(interpolation=None)
    config.read(ROOT / "ansible.cfg")
    return int(os.environ.get("ANSIBLE_FORKS") or config.get("defaults", "forks", fallback="5"))


if __name__ == "__main__":
    sys.exit(main())
