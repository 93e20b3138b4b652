/**
 * What the POSIX and the Windows action-model properties share: one modelled sequence run on every
 * backend that has its ops, checked against the model's predicted failure or state, and the tally of
 * how many sequences each backend really checked.
 */
import assert from 'node:assert/strict';
import type { Action } from '../actions.js';
import type { Backend } from '../backend.js';
import { forkBeforeExec } from '../fork-before-exec.js';
import type { Result } from '../options.js';
import { outcome, type ReliabilityContext } from './reliability-context.js';

/** A sequence as a model sees it: the actions, and the one that must fail, if any. */
export interface ModelledSequence {
  actions: Action[];
  failure?: { index: number; errno: string };
}

/** Per backend: sequences checked against the model, and sequences it refused up front as unsupported. */
export class ModelTally {
  readonly compared = new Map<string, number>();
  readonly refused = new Map<string, number>();

  count(map: Map<string, number>, backend: Backend): void {
    map.set(backend.name, (map.get(backend.name) ?? 0) + 1);
  }

  /** The backend under test checked at least `share` of `runs` sequences (others may refuse some up front). */
  assertEnough(ctx: ReliabilityContext, runs: number, share: number): void {
    const mine = this.compared.get(ctx.name) ?? 0;
    assert.ok(
      mine >= runs * share,
      `only ${mine} of ${runs} sequences ran on ${ctx.name} (${this.refused.get(ctx.name) ?? 0} refused as unsupported)`,
    );
  }
}

/**
 * Runs the probe with `args` under the sequence's actions on each backend that lists every op: a
 * predicted failure must fail at that action with that errno; a sequence refused up front as
 * unsupported (one form of a listed op the backend cannot do) is only counted; otherwise
 * `state(stdout, backend)` gives what the child showed and what the model predicts, which must match.
 */
export async function checkOnBackends(
  ctx: ReliabilityContext,
  backends: Backend[],
  model: ModelledSequence,
  args: string[],
  state: (stdout: string, backend: Backend) => { got: string; want: string },
  tally: ModelTally,
): Promise<void> {
  for (const backend of backends) {
    if (!model.actions.every((a) => backend.capabilities.actions.includes(a.op))) continue;
    ctx.tally.spawns++;
    ctx.tally.inputs++;
    const settled = await outcome(
      forkBeforeExec(ctx.probe(), args, { backend, actions: model.actions, stdin: 'ignore', stderr: 'ignore' }),
    );
    const label = `${backend.name}: ${JSON.stringify(model.actions)}`;
    if (model.failure) {
      assert.ok(!settled.ok, `${label} should fail at actions[${model.failure.index}] with ${model.failure.errno}`);
      const why = `${label}: ${String(settled.error.message)}`;
      assert.ok(['FORKEXEC_INVALID_ACTION', 'FORKEXEC_SPAWN'].includes(String(settled.error.code)), why);
      assert.equal(settled.error.errno, model.failure.errno, why);
      assert.equal(settled.error.actionIndex, model.failure.index, why);
      tally.count(tally.compared, backend); // checked against the model too
      continue;
    }
    if (
      !settled.ok &&
      settled.error.code === 'FORKEXEC_UNSUPPORTED_ACTION' &&
      typeof settled.error.actionIndex === 'number'
    ) {
      tally.count(tally.refused, backend);
      continue;
    }
    assert.ok(settled.ok, `${label}: ${settled.ok ? '' : String(settled.error.message)}`);
    tally.count(tally.compared, backend);
    const { got, want } = state((settled.value as Result<string>).stdout, backend);
    assert.equal(got, want, label);
  }
}
