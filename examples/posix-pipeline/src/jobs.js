// Jobs written the POSIX way: fork, set up the child, exec; the parent waits.
import { openSync } from 'node:fs';
import { fork, execlp, execvp, dup2, close, chdir, open, _exit, waitpid, O_RDONLY } from '@forkexec/core/posix';

/** `ls -1 dir > outFile`, run inside `dir`. */
export async function listInto(dir, outFile) {
  const pid = fork();
  if (pid < 0) {
    throw new Error('fork failed');
  }
  if (pid === 0) {
    const fd = openSync(outFile, 'w', 0o644);
    dup2(fd, 1);
    close(fd);
    chdir(dir);
    execlp('ls', 'ls', '-1', null);
    _exit(127);
  }
  return waitpid(pid);
}

/** `gzip -c < input > output`. */
export async function compress(input, output) {
  let pid;
  switch ((pid = fork())) {
    case -1:
      throw new Error('fork failed');
    case 0:
      open(0, input, O_RDONLY);
      open(1, output, 'w');
      execvp('gzip', ['gzip', '-c']);
      _exit(127);
      break;
    default:
      return waitpid(pid);
  }
}

/** Runs `script` with `sh -c`, with `name=value` added to its environment. */
export async function shellWith(name, value, script) {
  const pid = fork();
  if (pid > 0) {
    return waitpid(pid);
  }
  process.env[name] = value;
  execvp('sh', ['sh', '-c', script]);
  _exit(127);
}
