/**
 * The layering and size rules of ARCHITECTURE.md, checked on the source tree: nothing outside src/cli/ imports
 * from src/cli/; nothing under src/devices/ outside sim/ imports from the simulator; no function is longer than
 * 120 lines (src/ and web/src/).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { ROOT } from '../helpers/env.js';

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (/\.tsx?$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Relative imports of a file, resolved to paths under ROOT. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+['"](\.[^'"]+)['"]/g)) {
    out.push(relative(ROOT, resolve(dirname(file), m[1]!)));
  }
  for (const m of text.matchAll(/import\(\s*['"](\.[^'"]+)['"]\s*\)/g)) out.push(relative(ROOT, resolve(dirname(file), m[1]!)));
  return out;
}

test('nothing under src/ outside src/cli/ imports from src/cli/', () => {
  const bad: string[] = [];
  for (const f of sources(join(ROOT, 'src'))) {
    const rel = relative(ROOT, f);
    if (rel.startsWith('src/cli/')) continue;
    for (const i of importsOf(f)) if (i.startsWith('src/cli/')) bad.push(`${rel} -> ${i}`);
  }
  assert.deepEqual(bad, []);
});

test('nothing under src/devices/ outside sim/ imports from src/devices/sim/', () => {
  const bad: string[] = [];
  for (const f of sources(join(ROOT, 'src/devices'))) {
    const rel = relative(ROOT, f);
    if (rel.startsWith('src/devices/sim/')) continue;
    for (const i of importsOf(f)) if (i.startsWith('src/devices/sim/') || i.startsWith('src/devices/sim.')) bad.push(`${rel} -> ${i}`);
  }
  assert.deepEqual(bad, []);
});

/** Functions (declarations, methods, arrows, React components) longer than `max` lines, as `name:line (n lines)`. */
function longFunctions(files: Array<{ name: string; text: string }>, max: number): string[] {
  const long: string[] = [];
  for (const { name, text } of files) {
    const src = ts.createSourceFile(name, text, ts.ScriptTarget.Latest, true);
    const visit = (n: ts.Node): void => {
      if (ts.isFunctionLike(n) && 'body' in n && n.body) {
        const a = src.getLineAndCharacterOfPosition(n.getStart()).line;
        const b = src.getLineAndCharacterOfPosition(n.end).line;
        if (b - a + 1 > max) long.push(`${name}:${a + 1} (${b - a + 1} lines)`);
      }
      ts.forEachChild(n, visit);
    };
    visit(src);
  }
  return long;
}

test('no function over 120 lines in src/ and web/src/', () => {
  const files = [...sources(join(ROOT, 'src')), ...sources(join(ROOT, 'web/src'))].map((f) => ({ name: relative(ROOT, f), text: readFileSync(f, 'utf8') }));
  assert.deepEqual(longFunctions(files, 120), []);
});

test('the size rule finds a 121-line arrow function and passes a 120-line one', () => {
  const fn = (n: number): string => `export const f = (): void => {\n${Array.from({ length: n - 2 }, (_, i) => `  void ${i};`).join('\n')}\n};\n`;
  assert.deepEqual(longFunctions([{ name: 'a.ts', text: fn(121) }], 120), ['a.ts:1 (121 lines)']);
  assert.deepEqual(longFunctions([{ name: 'b.ts', text: fn(120) }], 120), []);
});

test("README's layout section lists every folder of src/ (two levels deep), and nothing that is not there", () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = /## Layout\s+```\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(section, 'README has a ## Layout section with a code block');
  const listed = section.split('\n').map((l) => l.split(/\s+/)[0]!.replace(/\/$/, '')).filter((p) => p !== '');
  const folders = (dir: string, depth: number): string[] =>
    readdirSync(join(ROOT, dir)).filter((n) => statSync(join(ROOT, dir, n)).isDirectory()).flatMap((n) => {
      const p = `${dir}/${n}`;
      return depth > 1 ? [p, ...folders(p, depth - 1)] : [p];
    });
  assert.deepEqual(folders('src', 2).filter((p) => !listed.includes(p)).sort(), [], 'folders missing from the README layout');
  assert.deepEqual(listed.filter((p) => !statSync(join(ROOT, p), { throwIfNoEntry: false })), [], 'README layout lists paths that do not exist');
});
