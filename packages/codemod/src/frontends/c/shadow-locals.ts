import type { Node } from './syntax-tree.js';
import { EXEC_CALLS } from './operations.js';
import { calleeName, same, unparen } from './syntax.js';
import { shadowName } from './own-names.js';

// Shadow locals: the child writes a local of the enclosing function (`sock = STDERR_FILENO + 1;`, `sa.sa_handler =
// SIG_DFL;`, `sigaddset(&mask, SIGUSR2);`) and later reads it. The recording keeps a copy of its own
// (`__typeof__(sock) fx_sock = sock;`), writes the copy where the child writes the local, in the actions' order, and
// reads the copy where the child reads the local. The parent's variable is never written. Only a local nothing else
// can reach: declared in the function, not static, not const, whose address goes only to the signal calls below (which
// keep no pointer). An array of the function (`char *prog[2];` then `prog[0] = a; prog[1] = 0;`) is copied the same way
// (a copy of the same type, its elements written where the child writes them) when its size is known and a literal
// index is inside it, and its name is only indexed, dereferenced, measured or handed to an exec (no alias can read it).

/** Calls that may take a shadowed local's address: they read or write it during the call and keep no pointer. */
const ADDRESS_TAKERS = new Set([
  'sigemptyset',
  'sigfillset',
  'sigaddset',
  'sigdelset',
  'sigismember',
  'sigaction',
  'sigprocmask',
  'pthread_sigmask',
  'memset',
]);

/** Memory-only calls that write what their first argument points to (`&set`, `&sa`): a write of a shadowed local. */
export const SHADOWED_POINTEE_WRITES = new Set(['sigemptyset', 'sigfillset', 'sigaddset', 'sigdelset', 'memset']);

/** The name a write's target is rooted in, when it writes the local itself or a field of a local struct (`sa.x.y`):
 * not through a pointer (`p->x`, `*p`, `a[i]`). */
export function plainTarget(target: Node): string | null {
  let n = unparen(target);
  while (n.type === 'field_expression' && n.child(1)?.type === '.') n = unparen(n.childForFieldName('argument')!);
  return n.type === 'identifier' ? n.text : null;
}

/** The declarator's name when it declares a plain variable or a pointer (`x`, `*p`, `x = 1`); null otherwise. */
function declaredName(d: Node): { name: string; pointer: boolean; constPointer: boolean } | null {
  let n = d.type === 'init_declarator' ? d.childForFieldName('declarator')! : d;
  let pointer = false;
  let constPointer = false;
  if (n.type === 'pointer_declarator') {
    pointer = true;
    constPointer = n.namedChildren.some((c) => c?.type === 'type_qualifier' && c.text === 'const');
    while (n.type === 'pointer_declarator') n = n.childForFieldName('declarator')!;
  }
  return n.type === 'identifier' ? { name: n.text, pointer, constPointer } : null;
}

/** Is this declaration (or parameter) one of a plain automatic variable named name that a copy may stand for? */
function copyable(decl: Node, name: string): boolean | null {
  const declarators = decl.childrenForFieldName('declarator').filter((d): d is Node => !!d);
  const own = declarators.map(declaredName).find((d) => d?.name === name);
  if (own === undefined) {
    // declared here in a form the copy cannot stand for (an array, a function)
    return declarators.some((d) => d.descendantsOfType('identifier').some((i) => i?.text === name)) ? false : null;
  }
  if (!own) return false;
  const specifiers = decl.namedChildren.filter((c) => !!c && !declarators.some((d) => same(d, c)));
  if (lasting(decl)) return false;
  const constType = specifiers.some((c) => c!.type === 'type_qualifier' && c!.text === 'const');
  return !((constType && !own.pointer) || own.constPointer);
}

/** The enclosing function of a node. */
function enclosingFunction(node: Node): Node | null {
  let n: Node | null = node;
  while (n && n.type !== 'function_definition') n = n.parent;
  return n;
}

/** Judges whether a declaration (or a parameter's) declares name in a form a copy may stand for: null when it does not
 * declare name. */
type Judge = (decl: Node, name: string) => boolean | null;

/** The declaration of name visible at node inside its function, if it is a local a copy may stand for (judge), declared
 * before `before` (the fork statement, in front of which the copy is declared). */
function visibleLocal(node: Node, name: string, before: number, judge: Judge = copyable): boolean {
  for (let n: Node | null = node; n; n = n.parent) {
    const p: Node | null = n.parent;
    if (!p) return false;
    if (p.type === 'function_definition') {
      const params = p.childForFieldName('declarator')?.childForFieldName('parameters');
      for (const param of params?.namedChildren ?? []) {
        if (param?.type !== 'parameter_declaration') continue;
        const found = judge(param, name);
        if (found !== null) return found;
      }
      return false;
    }
    if (p.type.startsWith('preproc_') && n.type === 'declaration') return false;
    for (const sibling of p.namedChildren) {
      if (!sibling || sibling.startIndex >= n.startIndex) break;
      // a switch's earlier case may declare it: that declaration is in scope here, where the copy is not
      if (
        sibling.type === 'case_statement' &&
        sibling.namedChildren.some((c) => c?.type === 'declaration' && judge(c, name) !== null)
      )
        return false;
      if (sibling.type !== 'declaration') continue;
      const found = judge(sibling, name);
      if (found !== null) return found && sibling.endIndex <= before && !insidePreprocessor(sibling, p);
    }
  }
  return false;
}

/** Is the declaration under an #if inside its block (then the copy's declaration would need the same directive)? */
function insidePreprocessor(decl: Node, block: Node): boolean {
  for (let n = decl.parent; n && !same(n, block); n = n.parent) if (n.type.startsWith('preproc_')) return true;
  return block.type.startsWith('preproc_');
}

/** An integer literal's value (`2`, `0x10`, `010`, `4u`); null for anything else (a macro, an expression). */
function integerLiteral(node: Node): number | null {
  const m = /^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)[uUlL]*$/.exec(unparen(node).text);
  if (!m) return null;
  return /^0[0-7]/.test(m[1]) ? parseInt(m[1], 8) : Number(m[1]);
}

/** `name[N]` with N an integer literal: a write of one element of an array. */
export function arrayElement(target: Node): { name: string; index: number } | null {
  const t = unparen(target);
  if (t.type !== 'subscript_expression') return null;
  const array = unparen(t.childForFieldName('argument')!);
  const index = integerLiteral(t.childForFieldName('index')!);
  return array.type === 'identifier' && index !== null ? { name: array.text, index } : null;
}

/** Does decl declare a static, extern or thread-local name (the storage outlives the call, or is shared)? */
function lasting(decl: Node): boolean {
  return decl.namedChildren.some(
    (c) =>
      c?.type === 'storage_class_specifier' && /^(?:static|extern|thread_local|_Thread_local|__thread)/.test(c.text),
  );
}

/** How many elements the declaration gives name when it declares it a one-dimensional automatic array (`*prog[2]`,
 * `*args[] = { a, b, NULL }`); null when it declares name otherwise (a parameter, which is a pointer; a size that is
 * no literal; a static), undefined when it does not declare name. */
function arrayCount(decl: Node, name: string): number | null | undefined {
  for (const d of decl.childrenForFieldName('declarator')) {
    if (!d) continue;
    let n = d.type === 'init_declarator' ? d.childForFieldName('declarator')! : d;
    if (!(n.type === 'identifier' ? n.text === name : n.descendantsOfType('identifier').some((i) => i?.text === name)))
      continue;
    while (n.type === 'pointer_declarator') n = n.childForFieldName('declarator')!;
    const inner = n.type === 'array_declarator' ? n.childForFieldName('declarator') : null;
    if (decl.type === 'parameter_declaration' || inner?.type !== 'identifier' || lasting(decl)) return null;
    const size = n.childForFieldName('size');
    if (size) return integerLiteral(size);
    const value = d.type === 'init_declarator' ? d.childForFieldName('value') : null;
    const items = value?.namedChildren.filter((c) => c?.type !== 'comment') ?? [];
    if (value?.type !== 'initializer_list' || items.some((c) => c?.type === 'initializer_pair')) return null;
    return items.length;
  }
  return undefined;
}

/** Why a use of the array name somewhere in the function could reach its elements other than by name (an alias, a
 * call that keeps the pointer); null when every use indexes it, dereferences it, measures it or hands it to an exec. */
function arrayEscapes(fn: Node, name: string): string | null {
  const up = (n: Node) => {
    while (n.parent?.type === 'parenthesized_expression') n = n.parent;
    return n;
  };
  for (const id of fn.descendantsOfType('identifier')) {
    if (!id || id.text !== name) continue;
    const at = up(id);
    const p = at.parent!;
    if (p.type === 'array_declarator' || p.type === 'sizeof_expression') continue;
    const element =
      (p.type === 'subscript_expression' && same(p.childForFieldName('argument'), at)) ||
      (p.type === 'pointer_expression' && p.child(0)?.type === '*');
    if (element) {
      const outer = up(p).parent;
      if (outer?.type !== 'pointer_expression' || outer.child(0)?.type !== '&') continue;
      return `the function takes the address of an element of ${name} (${outer.text.split('\n')[0]})`;
    }
    if (p.type === 'argument_list' && EXEC_CALLS.has(calleeName(p.parent!) ?? '')) continue;
    return `the function hands ${name}'s address on (${p.text.split('\n')[0]})`;
  }
  return null;
}

/** Is node an address into the array name (`args`, `args + 1`, `&args[1]`, `(char **)args`)? */
function addressInto(node: Node, name: string): boolean {
  const n = unparen(node);
  if (n.type === 'identifier') return n.text === name;
  if (n.type === 'cast_expression') return addressInto(n.childForFieldName('value')!, name);
  if (n.type === 'pointer_expression' && n.child(0)?.type === '&') {
    const of = unparen(n.childForFieldName('argument')!);
    return of.type === 'subscript_expression' && addressInto(of.childForFieldName('argument')!, name);
  }
  if (n.type === 'binary_expression' && /^[+-]$/.test(n.childForFieldName('operator')?.type ?? ''))
    return addressInto(n.childForFieldName('left')!, name) || addressInto(n.childForFieldName('right')!, name);
  if (n.type === 'conditional_expression')
    return (
      addressInto(n.childForFieldName('consequence')!, name) || addressInto(n.childForFieldName('alternative')!, name)
    );
  return false;
}

/** When the function declares name an array and stores an address into it (`char **alias = args;`, `p = &args[1];`):
 * that store, through which a read could see what the child wrote in the array. Null otherwise. */
export function arrayAliased(node: Node, name: string): string | null {
  const fn = enclosingFunction(node);
  const isArray = (d: Node) => {
    let n = d.type === 'init_declarator' ? d.childForFieldName('declarator')! : d;
    while (n.type === 'pointer_declarator') n = n.childForFieldName('declarator')!;
    return n.type === 'array_declarator' && n.childForFieldName('declarator')?.text === name;
  };
  const declared = fn
    ?.descendantsOfType('declaration')
    .some((d) => !!d && d.childrenForFieldName('declarator').some((x) => !!x && isArray(x)));
  if (!fn || !declared) return null;
  for (const store of fn.descendantsOfType(['init_declarator', 'assignment_expression'])) {
    const value = store?.childForFieldName(store.type === 'init_declarator' ? 'value' : 'right');
    if (value && addressInto(value, name))
      return `the function stores ${name}'s address (${store!.text.split('\n')[0]})`;
  }
  return null;
}

/** Whether element index of the array name, written at node, may be written on a copy: the array's element count, or
 * why not. */
export function arrayShadow(
  node: Node,
  name: string,
  index: number,
  before: number,
): { size: number } | { refusal: string } {
  const fn = enclosingFunction(node);
  if (!fn) return { refusal: 'not in a function' };
  const size = { count: null as number | null };
  const judge: Judge = (decl, n) => {
    const found = arrayCount(decl, n);
    if (found === undefined) return null;
    size.count = found;
    return found !== null;
  };
  if (!visibleLocal(node, name, before, judge) || size.count === null)
    return { refusal: `${name} is not an array of the function with a literal size` };
  if (index >= size.count) return { refusal: `${name}[${index}] is outside its ${size.count} elements` };
  const escapes = arrayEscapes(fn, name);
  if (escapes) return { refusal: escapes };
  const copy = shadowName(name);
  if (node.tree.rootNode.descendantsOfType('identifier').some((i) => i?.text === copy))
    return { refusal: `the file already names ${copy}` };
  return { size: size.count };
}

/** Does the function take name's address anywhere other than as an argument of ADDRESS_TAKERS? */
function addressEscapes(fn: Node, name: string): boolean {
  for (const e of fn.descendantsOfType('pointer_expression')) {
    if (!e || e.child(0)?.type !== '&' || plainTarget(e.childForFieldName('argument')!) !== name) continue;
    let at: Node = e;
    while (at.parent?.type === 'parenthesized_expression' || at.parent?.type === 'cast_expression') at = at.parent;
    const call = at.parent?.type === 'argument_list' ? at.parent.parent : null;
    const callee = call?.childForFieldName('function');
    if (callee?.type !== 'identifier' || !ADDRESS_TAKERS.has(callee.text)) return true;
  }
  return false;
}

/** Does the function of node declare a local name and keep its address (`int *p = &name;`)? A pointer could then
 * read what the child changed, where the recording sees only the name. */
export function addressTaken(node: Node, name: string): boolean {
  const fn = enclosingFunction(node);
  return !!fn && declaresLocal(fn, name) && addressEscapes(fn, name);
}

/** Does fn declare name, as a parameter or a local? */
function declaresLocal(fn: Node, name: string): boolean {
  return fn
    .descendantsOfType(['declaration', 'parameter_declaration'])
    .some((d) => !!d && d.childrenForFieldName('declarator').some((x) => !!x && declaredName(x)?.name === name));
}

/** Does write set all of name, reading nothing of its old value (`x = 3`, `sigemptyset(&x)`, `memset(&x, 0,
 * sizeof(x))`)? The copy then needs no initial value: the local may have none at the fork (an indeterminate value's
 * copy would be undefined, and warns). */
export function wholeWrite(write: Node, name: string): boolean {
  const reads = (n: Node | null | undefined) =>
    !!n &&
    (n.type === 'identifier'
      ? n.text === name
      : n.descendantsOfType('identifier').some((i) => i?.text === name && !underSizeof(i, n)));
  if (write.type === 'assignment_expression')
    return (
      write.child(1)?.type === '=' &&
      unparen(write.childForFieldName('left')!).text === name &&
      !reads(write.childForFieldName('right'))
    );
  const callee = write.childForFieldName('function')?.text ?? '';
  const args = write.childForFieldName('arguments')?.namedChildren.filter((a): a is Node => !!a) ?? [];
  if (args[0]?.text.replace(/\s+/g, '') !== `&${name}`) return false;
  if (callee === 'sigemptyset' || callee === 'sigfillset') return args.length === 1;
  const size = new RegExp(`^sizeof\\s*(?:\\(\\s*${name}\\s*\\)|${name})$`);
  return callee === 'memset' && args.length === 3 && !reads(args[1]) && size.test(args[2].text.trim());
}

/** Is identifier id inside a sizeof (not evaluated) within root? */
function underSizeof(id: Node, root: Node): boolean {
  for (let n: Node | null = id; n && !same(n, root); n = n.parent) if (n.type === 'sizeof_expression') return true;
  return root.type === 'sizeof_expression';
}

/** Why the local name, written at node, cannot have a shadow copy; null when it can. */
export function shadowRefusal(node: Node, name: string, before: number): string | null {
  const fn = enclosingFunction(node);
  if (!fn) return 'not in a function';
  if (!visibleLocal(node, name, before)) return `${name} is not a plain local of the function`;
  if (addressEscapes(fn, name)) return `the function takes ${name}'s address`;
  const copy = shadowName(name);
  if (node.tree.rootNode.descendantsOfType('identifier').some((i) => i?.text === copy))
    return `the file already names ${copy}`;
  return null;
}
