/**
 * A small, safe expression language for subframe weights and rejection rules (no eval / Function):
 * recursive-descent parser to an AST, evaluated against a table of numeric variables.
 *
 *   expr    := or
 *   or      := and (('or' | '||') and)*
 *   and     := not (('and' | '&&') not)*
 *   not     := ('not' | '!') not | cmp
 *   cmp     := sum (('<' | '<=' | '>' | '>=' | '==' | '=' | '!=') sum)?
 *   sum     := product (('+' | '-') product)*
 *   product := unary (('*' | '/') unary)*
 *   unary   := ('-' | '+') unary | power
 *   power   := primary ('^' unary)?            (right-associative; -2^2 = -4)
 *   primary := NUMBER | NAME | NAME '(' expr (',' expr)* ')' | '(' expr ')'
 *
 * Booleans are numbers (true = 1, false = 0; any non-zero, non-NaN value is true). Functions: min, max (1+ args),
 * sqrt, log (natural), log10, exp, abs (1 arg). Errors are one-line DarkroomErrors (BAD_ARGUMENT) quoting the
 * expression and the 1-based character position.
 */
import { DarkroomError } from '../util/errors.js';

export type Node =
  | { k: 'num'; v: number }
  | { k: 'var'; name: string }
  | { k: 'neg'; a: Node }
  | { k: 'not'; a: Node }
  | { k: 'bin'; op: string; a: Node; b: Node }
  | { k: 'call'; fn: string; args: Node[] };

const FUNCS: Record<string, { min: number; max: number; f: (a: number[]) => number }> = {
  min: { min: 1, max: Infinity, f: (a) => Math.min(...a) },
  max: { min: 1, max: Infinity, f: (a) => Math.max(...a) },
  sqrt: { min: 1, max: 1, f: (a) => Math.sqrt(a[0]!) },
  log: { min: 1, max: 1, f: (a) => Math.log(a[0]!) },
  log10: { min: 1, max: 1, f: (a) => Math.log10(a[0]!) },
  exp: { min: 1, max: 1, f: (a) => Math.exp(a[0]!) },
  abs: { min: 1, max: 1, f: (a) => Math.abs(a[0]!) },
};

interface Tok { t: 'num' | 'name' | 'op' | 'end'; s: string; v?: number; pos: number }

export interface ParsedExpr {
  source: string;
  ast: Node;
  /** Variable names used. */
  variables: string[];
}

function fail(source: string, what: string, pos: number, label: string): never {
  throw new DarkroomError('BAD_ARGUMENT', `${label} "${source}": ${what} at position ${pos + 1}`);
}

function tokenize(src: string, label: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') { i++; continue; }
    const num = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(src.slice(i));
    if (num) {
      out.push({ t: 'num', s: num[0], v: Number(num[0]), pos: i });
      i += num[0].length;
      if (i < src.length && /[A-Za-z_]/.test(src[i]!)) fail(src, `unexpected '${src[i]}' after a number`, i, label);
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z_0-9]*/.exec(src.slice(i));
    if (name) { out.push({ t: 'name', s: name[0], pos: i }); i += name[0].length; continue; }
    const two = src.slice(i, i + 2);
    if (['<=', '>=', '==', '!=', '&&', '||', '**'].includes(two)) {
      out.push({ t: 'op', s: two === '**' ? '^' : two, pos: i });
      i += 2;
      continue;
    }
    if ('+-*/^()<>=!,'.includes(c)) { out.push({ t: 'op', s: c === '=' ? '==' : c, pos: i }); i++; continue; }
    fail(src, `unexpected character '${c}'`, i, label);
  }
  out.push({ t: 'end', s: '', pos: src.length });
  return out;
}

/**
 * Parse `source`; `allowed` lists the variable names that may appear (others: an "unknown variable" error
 * that lists the allowed names). `label` names the expression in messages (e.g. "--weight-expr").
 */
export function parseExpr(source: string, allowed: readonly string[], label = 'expression'): ParsedExpr {
  const toks = tokenize(source, label);
  let p = 0;
  const used = new Set<string>();
  const peek = (): Tok => toks[p]!;
  const isOp = (...ops: string[]): boolean => { const t = peek(); return (t.t === 'op' && ops.includes(t.s)) || (t.t === 'name' && ops.includes(t.s.toLowerCase())); };
  const describeTok = (t: Tok): string => (t.t === 'end' ? 'end of expression' : `'${t.s}'`);
  const expect = (s: string): void => {
    const t = peek();
    if (t.t !== 'op' || t.s !== s) fail(source, `expected '${s}' but found ${describeTok(t)}`, t.pos, label);
    p++;
  };
  const orE = (): Node => {
    let a = andE();
    while (isOp('or', '||')) { p++; a = { k: 'bin', op: 'or', a, b: andE() }; }
    return a;
  };
  const andE = (): Node => {
    let a = notE();
    while (isOp('and', '&&')) { p++; a = { k: 'bin', op: 'and', a, b: notE() }; }
    return a;
  };
  const notE = (): Node => {
    if (isOp('not', '!')) { p++; return { k: 'not', a: notE() }; }
    return cmpE();
  };
  const cmpE = (): Node => {
    const a = sumE();
    if (isOp('<', '<=', '>', '>=', '==', '!=')) {
      const op = toks[p++]!.s;
      const b = sumE();
      if (isOp('<', '<=', '>', '>=', '==', '!=')) fail(source, `comparisons cannot be chained (use 'and')`, peek().pos, label);
      return { k: 'bin', op, a, b };
    }
    return a;
  };
  const sumE = (): Node => {
    let a = prodE();
    while (isOp('+', '-')) { const op = toks[p++]!.s; a = { k: 'bin', op, a, b: prodE() }; }
    return a;
  };
  const prodE = (): Node => {
    let a = unaryE();
    while (isOp('*', '/')) { const op = toks[p++]!.s; a = { k: 'bin', op, a, b: unaryE() }; }
    return a;
  };
  const unaryE = (): Node => {
    if (isOp('-')) { p++; return { k: 'neg', a: unaryE() }; }
    if (isOp('+')) { p++; return unaryE(); }
    return powE();
  };
  const powE = (): Node => {
    const a = primary();
    if (isOp('^')) { p++; return { k: 'bin', op: '^', a, b: unaryE() }; }
    return a;
  };
  const primary = (): Node => {
    const t = peek();
    if (t.t === 'num') { p++; return { k: 'num', v: t.v! }; }
    if (t.t === 'op' && t.s === '(') {
      p++;
      const e = orE();
      expect(')');
      return e;
    }
    if (t.t === 'name') {
      const lname = t.s.toLowerCase();
      if (['and', 'or', 'not'].includes(lname)) fail(source, `unexpected '${t.s}'`, t.pos, label);
      p++;
      if (isOp('(')) {
        const fn = FUNCS[lname];
        if (!fn) fail(source, `unknown function '${t.s}' (known: ${Object.keys(FUNCS).join(', ')})`, t.pos, label);
        p++;
        const args: Node[] = [];
        if (!isOp(')')) {
          args.push(orE());
          while (isOp(',')) { p++; args.push(orE()); }
        }
        expect(')');
        if (args.length < fn.min || args.length > fn.max) {
          fail(source, `${lname}() takes ${fn.min === fn.max ? fn.min : `at least ${fn.min}`} argument${fn.min === 1 && fn.max === 1 ? '' : 's'}, got ${args.length}`, t.pos, label);
        }
        return { k: 'call', fn: lname, args };
      }
      if (!allowed.includes(t.s)) fail(source, `unknown variable '${t.s}' (known: ${allowed.join(', ')})`, t.pos, label);
      used.add(t.s);
      return { k: 'var', name: t.s };
    }
    fail(source, t.t === 'end' ? 'unexpected end of expression' : `unexpected '${t.s}'`, t.pos, label);
  };
  if (peek().t === 'end') fail(source, 'empty expression', 0, label);
  const ast = orE();
  if (peek().t !== 'end') fail(source, `unexpected ${describeTok(peek())}`, peek().pos, label);
  return { source, ast, variables: [...used] };
}

const truthy = (v: number): boolean => v !== 0 && v === v;

/** Evaluate an AST; missing variables are NaN. */
export function evaluate(node: Node, vars: Readonly<Record<string, number>>): number {
  switch (node.k) {
    case 'num': return node.v;
    case 'var': return vars[node.name] ?? NaN;
    case 'neg': return -evaluate(node.a, vars);
    case 'not': return truthy(evaluate(node.a, vars)) ? 0 : 1;
    case 'call': return FUNCS[node.fn]!.f(node.args.map((a) => evaluate(a, vars)));
    case 'bin': {
      if (node.op === 'and') return truthy(evaluate(node.a, vars)) && truthy(evaluate(node.b, vars)) ? 1 : 0;
      if (node.op === 'or') return truthy(evaluate(node.a, vars)) || truthy(evaluate(node.b, vars)) ? 1 : 0;
      const a = evaluate(node.a, vars), b = evaluate(node.b, vars);
      switch (node.op) {
        case '+': return a + b;
        case '-': return a - b;
        case '*': return a * b;
        case '/': return a / b;
        case '^': return Math.pow(a, b);
        case '<': return a < b ? 1 : 0;
        case '<=': return a <= b ? 1 : 0;
        case '>': return a > b ? 1 : 0;
        case '>=': return a >= b ? 1 : 0;
        case '==': return a === b ? 1 : 0;
        case '!=': return a !== b ? 1 : 0;
      }
      throw new Error(`internal: operator ${node.op}`);
    }
  }
}

export function isTrue(v: number): boolean {
  return truthy(v);
}
