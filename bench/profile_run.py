"""Profile one ansible-playbook run with cProfile: the controller and every forked worker.

    python bench/profile_run.py OUTDIR [--top N] -- ansible-playbook ARGS...
    python bench/profile_run.py OUTDIR --report [--top N]     (report an earlier run again)

Runs ansible-playbook in this process with `WorkerProcess._run` wrapped in cProfile, so each
worker (one per task and host) writes OUTDIR/worker-<pid>.prof, and the controller writes
OUTDIR/controller.prof. Then prints the merged worker profile (cumulative time, the top N
functions) and the controller's, plus the number of workers and their mean time in _run.

Times are CPU times (time.process_time), so other load on the machine does not inflate them.
Profiling itself slows Python code down (roughly 1.5-2x, more for many small calls): use it to
see where time goes, and the plain benchmark for the numbers.
"""
import cProfile
import glob
import io
import os
import pstats
import sys
import time


def _patch_workers(outdir):
    from ansible.executor.process import worker

    original = worker.WorkerProcess._run

    def profiled(self):
        profile = cProfile.Profile(time.process_time)  # CPU time: other load on the machine does not count
        started = time.process_time()
        profile.enable()
        try:
            return original(self)
        finally:
            profile.disable()
            profile.dump_stats(os.path.join(outdir, f"worker-{os.getpid()}.prof"))
            with open(os.path.join(outdir, f"worker-{os.getpid()}.time"), "w") as handle:
                handle.write(f"{time.process_time() - started:.6f} {self._task.get_name()}\n")

    worker.WorkerProcess._run = profiled


def _print(stats_files, title, top, sort):
    if not stats_files:
        print(f"{title}: no profile")
        return
    stream = io.StringIO()
    stats = pstats.Stats(stats_files[0], stream=stream)
    for path in stats_files[1:]:
        stats.add(path)
    stats.files = []  # not the list of profile files in the header
    stats.strip_dirs().sort_stats(sort).print_stats(top)
    print(f"===== {title} ({len(stats_files)} profile(s)), by {sort}")
    print(stream.getvalue())


def report(outdir, top):
    workers = sorted(glob.glob(os.path.join(outdir, "worker-*.prof")))
    times = {}
    for path in glob.glob(os.path.join(outdir, "worker-*.time")):
        seconds, name = open(path).read().strip().split(" ", 1)
        times.setdefault(name, []).append(float(seconds))
    print(f"{len(workers)} worker(s); CPU time inside WorkerProcess._run per task (profiled):")
    for name, values in sorted(times.items()):
        print(f"  {name:<60} {len(values):>5} worker(s), mean {sum(values) / len(values) * 1000:7.1f} ms")
    _print(workers, "workers, merged", top, "cumulative")
    _print(workers, "workers, merged", top, "tottime")
    _print(glob.glob(os.path.join(outdir, "controller.prof")), "controller", top, "cumulative")


def main(argv):
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    outdir, rest = argv[0], argv[1:]
    top = 40
    if "--top" in rest[: rest.index("--") if "--" in rest else len(rest)]:
        i = rest.index("--top")
        top = int(rest[i + 1])
        del rest[i:i + 2]
    os.makedirs(outdir, exist_ok=True)
    if rest[:1] == ["--report"]:
        report(outdir, top)
        return 0
    if rest[:1] != ["--"] or len(rest) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    command = rest[1:]
    _patch_workers(outdir)
    from ansible.cli.playbook import PlaybookCLI

    sys.argv = [command[0], *command[1:]]
    profile = cProfile.Profile(time.process_time)
    profile.enable()
    try:
        rc = PlaybookCLI.cli_executor(sys.argv)
    except SystemExit as exc:
        rc = exc.code
    finally:
        profile.disable()
        profile.dump_stats(os.path.join(outdir, "controller.prof"))
    report(outdir, top)
    return rc or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
