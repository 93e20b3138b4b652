/**
 * What a converted site asks of the backend: `fork_before_exec` runs the child's actions on the backend chosen at
 * run time, and some actions (umask, credentials, rlimits, nice, sigignore) only helper-exe carries out. The rewrite
 * is still right, but the default backend refuses such a call with FORKEXEC_UNSUPPORTED_ACTION, so the build says so.
 */
import { ACTION_OPS, BUILTIN_BACKENDS, backendsSupporting, type ActionOp } from '@forkexec/core';

const isActionOp = (op: string): op is ActionOp => (ACTION_OPS as readonly string[]).includes(op);

/** For the operations of a converted site: the actions not every built-in backend carries out, and which do. */
export function backendNote(operations: readonly string[]): string | undefined {
  const builtins = Object.keys(BUILTIN_BACKENDS);
  const limited = [...new Set(operations)].filter(isActionOp).flatMap((op) => {
    const by = backendsSupporting(op).filter((name) => builtins.includes(name));
    const refuse = builtins.filter((name) => !by.includes(name));
    return refuse.length ? [`${op} runs only on ${by.join(', ') || 'none of the installed backends'}`] : [];
  });
  if (!limited.length) return undefined;
  return (
    `${limited.join('; ')}: the other backends refuse it (FORKEXEC_UNSUPPORTED_ACTION), so choose one that ` +
    "carries it out (the backend option, FORKEXEC_BACKEND or forkexec.config.json's backend)"
  );
}
