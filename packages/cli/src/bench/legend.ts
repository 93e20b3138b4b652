/** What each column means, shared by the terminal output and the Markdown page. */
export const COLUMN_NOTES = [
  'forks: whether the method forks the parent, copying its page tables. A fork leaves work behind (copy-on-write faults in the parent, the copy torn down in the child at exec) that slows whatever runs next, so at each size the methods that do not fork alternate among themselves first, then the forking ones among themselves. A `+register` row is the same call as the row without it, in one Node process of its own started with `--import @forkexec/core/register` and holding the same ballast; these rows alternate among themselves between the two groups (their process then holds the ballast alone beside the parent)',
  "median / p99: from the request to the child's exit, per spawn, one at a time, the methods of a group taking turns spawn by spawn",
  "b2b: the median of the same spawn-to-exit time with this method's spawns back to back, nothing else between them (lower than median: see How it is measured)",
  "sync: time inside the synchronous call that starts the child (the event loop is blocked for all of it). Work a backend leaves for later on the loop is in busy (helper-exe sends its request on a microtask right after the call); ntdll's posix_spawn on the threadpool is in neither",
  'busy: event-loop busy time per spawn (event-loop utilization: the call, the exit handling, everything), from runs of its own with the loop monitor running (see How it is measured)',
  'lag: longest lateness of a 1 ms timer during the spawn (about 1 ms resolution), from the same runs as busy',
  "pid: from the request to the pid being known (helper-exe: the pid of the helper taken, which becomes the program's at its exec)",
  'spawns/s: completed spawns per second with N children in flight',
  "vs child_process: child_process median / this median; vs C floor: this median / the C posix_spawn floor's",
];
