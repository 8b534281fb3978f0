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

It also samples, every SAMPLE_S, the memory of the whole tree as its proportional set size
(PSS, /proc/PID/smaps_rollup: shared pages split among the processes sharing them), so the
cost of more forks shows: `tree_pss_mb` (the peak of the sum) and `procs_max` (the most
processes alive at once).

A separate process on purpose: the benchmark's own children (the sandbox) must not count.
"""
import ctypes
import json
import os
import resource
import subprocess
import sys
import threading
import time

PR_SET_CHILD_SUBREAPER = 36
REAP_LIMIT = 10_000  # bounded loop over leftover orphans
SAMPLE_S = 1.0


def _tree(root):
    """The pids of `root`'s descendants (from /proc's parent links)."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as stat:
                    ppid = int(stat.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found += children.get(pid, [])
        todo += children.get(pid, [])
    return found


def _pss_kb(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as rollup:
            for line in rollup:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


class MemorySampler(threading.Thread):
    """Peak PSS of this process's descendants, and the most processes alive at once."""

    def __init__(self):
        super().__init__(daemon=True)
        self.stopped, self.peak_kb, self.procs = threading.Event(), 0, 0

    def run(self):
        while not self.stopped.wait(SAMPLE_S):
            pids = _tree(os.getpid())
            self.procs = max(self.procs, len(pids))
            self.peak_kb = max(self.peak_kb, sum(_pss_kb(p) for p in pids))


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
    sampler = MemorySampler()
    sampler.start()
    start = time.perf_counter()
    with open(log, "wb") as sink:
        rc = subprocess.call(command, stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    sampler.stopped.set()
    sampler.join()
    _reap_orphans()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = {"rc": rc, "wall_s": round(wall, 3), "user_s": round(usage.ru_utime, 3),
              "sys_s": round(usage.ru_stime, 3), "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
              "maxrss_mb": round(usage.ru_maxrss / 1024, 1), "tree_pss_mb": round(sampler.peak_kb / 1024, 1),
              "procs_max": sampler.procs}
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(result, handle)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
