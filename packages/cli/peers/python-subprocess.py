"""Python's peer of `forkexec bench`: subprocess.Popen + wait (what subprocess.run does), with the
same ballast as the Node parent, driven line by line like native/spawn-floor.c (see
src/bench/driven.ts):  python3 python-subprocess.py BALLAST_BYTES TARGET;
stdin "s" | "b N" | "t N MS"; stdout "ready <rss>" first."""
import os
import subprocess
import sys
import time

CHUNK = 256 * 2**20
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def start():
    return subprocess.Popen([target], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def check(code):
    if code != 0:
        sys.exit(f"python-subprocess: {target} exited with {code}")


def one():
    """One spawn waited for: (spawn_ns, exit_ns)."""
    t0 = time.monotonic_ns()
    child = start()
    t1 = time.monotonic_ns()
    check(child.wait())
    return t1 - t0, time.monotonic_ns() - t0


def throughput(in_flight, ms):
    t0 = time.monotonic_ns()
    deadline = t0 + ms * 1_000_000
    running = {}
    completed = 0
    while len(running) < in_flight and time.monotonic_ns() < deadline:
        child = start()
        running[child.pid] = child
    while running:
        pid, status = os.waitpid(-1, 0)  # every child of this process is ours
        child = running.pop(pid)
        child.returncode = os.waitstatus_to_exitcode(status)
        check(child.returncode)
        completed += 1
        if time.monotonic_ns() < deadline:
            child = start()
            running[child.pid] = child
    return f"{completed} {time.monotonic_ns() - t0}"


wanted, target = int(sys.argv[1]), sys.argv[2]
ballast = []
while rss() < wanted:
    ballast.append(b"\x01" * min(CHUNK, wanted - rss()))  # written, so every page is resident
print(f"ready {rss()}", flush=True)
for line in sys.stdin:
    words = line.split()
    if words == ["s"]:
        print(*one(), flush=True)
    elif len(words) == 2 and words[0] == "b" and int(words[1]) > 0:
        print(*(one()[1] for _ in range(int(words[1]))), flush=True)
    elif len(words) == 3 and words[0] == "t" and int(words[1]) > 0 and int(words[2]) >= 0:
        print(throughput(int(words[1]), int(words[2])), flush=True)
    else:
        sys.exit(f"python-subprocess: bad command: {line!r}")
