import type { Node } from './syntax-tree.js';
import { type ActionEntry, BRANCHED, CANCEL } from './action-entry.js';
import { recordPath } from './branch-recording.js';
import type { Planner } from './recorder.js';
import { preprocStatements } from './syntax.js';

// An exec under #if/#elif/#else in the child (htop's TraceScreen: truss on the BSDs, strace on Linux, a message
// elsewhere): each configuration records its own part up to its own exec, under the same directives, and a part
// without an exec (or the #else a chain without one leaves implicit) cancels, so the slow path runs it as written.

/** The directive that opens part n of a preprocessor chain: `#if X`, `#ifdef X`, `#elif X`, `#else`. */
function directiveOf(n: Node): string {
  if (n.type === 'preproc_else') return '#else';
  const name = n.childForFieldName('name') ?? n.childForFieldName('condition');
  return `${n.child(0)!.text.trim()} ${name?.text ?? ''}`.trim();
}

/** Records each configuration of stmt (a preproc_if or preproc_ifdef holding the child's first exec): BRANCHED, with
 * each part's exec an exec entry of its own, or null when a part cannot be recorded (the planner says why). */
export function execUnderPreprocessor(p: Planner, stmt: Node): typeof BRANCHED | null {
  const parts: { directive: string; body: ActionEntry[] }[] = [];
  const blockers = p.blockers.length;
  const why = 'the child computes memory under #if: the copy in front would need the same directives';
  let hasElse = false;
  for (let n: Node | null = stmt; n; n = n.childForFieldName('alternative')) {
    const part = n;
    hasElse ||= part.type === 'preproc_else';
    const body = recordPath(
      p,
      () => {
        const found = p.untilExec(preprocStatements(part));
        if (found && found !== BRANCHED) p.actions.push({ exec: found });
        // no exec in this configuration: the child goes on after #endif, which only the slow path runs
        else if (!found) p.actions.push(CANCEL);
      },
      why,
    );
    parts.push({ directive: directiveOf(part), body });
  }
  if (p.blockers.length > blockers) return null;
  if (!hasElse) parts.push({ directive: '#else', body: [CANCEL] });
  p.actions.push({ preprocessor: parts });
  return BRANCHED;
}
