"""Run one command and report what its whole process tree cost.

    python bench/rusage.py OUT.json LOG -- COMMAND [ARGS...]

Runs COMMAND with stdout and stderr going to LOG, waits for it, and writes to OUT.json:
{"rc", "wall_s", "user_s", "sys_s", "cpu_s", "maxrss_mb"} where the CPU times are
`resource.getrusage(RUSAGE_CHILDREN)` of this wrapper, i.e. the sum over every descendant
process that was waited for (ansible-playbook waits for its forked workers, and this wrapper
makes itself a child subreaper so that an orphaned grandchild is reaped, and counted, here
too). `maxrss_mb` is the largest peak resident set size of any single process of the tree
(Linux reports ru_maxrss of children as a maximum, not a sum); for ansible-playbook that is
the controller process, whose forked workers share most of its pages.

A separate process on purpose: the benchmark's own children (the sandbox) must not count.
"""
import ctypes
import json
import os
import resource
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36
REAP_LIMIT = 10_000  # bounded loop over leftover orphans


def _become_subreaper():
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: orphans are not counted, the main tree still is


def _reap_orphans():
    for _ in range(REAP_LIMIT):
        try:
            pid, _status = os.waitpid(-1, 0)
        except ChildProcessError:
            return
        if pid == 0:
            return


def main(argv):
    if len(argv) < 4 or argv[2] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    out, log, command = argv[0], argv[1], argv[3:]
    _become_subreaper()
    start = time.perf_counter()
    with open(log, "wb") as sink:
        rc = subprocess.call(command, stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    _reap_orphans()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = {"rc": rc, "wall_s": round(wall, 3), "user_s": round(usage.ru_utime, 3),
              "sys_s": round(usage.ru_stime, 3), "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
              "maxrss_mb": round(usage.ru_maxrss / 1024, 1)}
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(result, handle)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
