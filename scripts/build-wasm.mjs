#!/usr/bin/env node
/**
 * Builds the WASM-SIMD kernels from their AssemblyScript sources (src/kernels/*.as) with asc.
 * Output: build/kernels/NAME.wasm (found by the tsx source run) and dist/kernels/NAME.wasm (found
 * by the compiled dist/ build). Run before `tsc -p tsconfig.build.json`.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const asc = join(dirname(require.resolve('assemblyscript/package.json')), 'bin', 'asc.js');
const srcDir = join(root, 'src', 'kernels');
const outDirs = [join(root, 'build', 'kernels'), join(root, 'dist', 'kernels')];
const tmp = mkdtempSync(join(tmpdir(), 'darkroom-asc-'));
try {
  for (const f of readdirSync(srcDir).filter((x) => x.endsWith('.as'))) {
    const name = f.slice(0, -3);
    const src = join(tmp, `${name}.ts`);
    copyFileSync(join(srcDir, f), src);
    const out = join(tmp, `${name}.wasm`);
    execFileSync(process.execPath, [asc, src, '-o', out, '-O3', '--runtime', 'stub', '--noAssert', '--enable', 'simd', '--initialMemory', '1'], { stdio: 'inherit' });
    for (const d of outDirs) {
      mkdirSync(d, { recursive: true });
      copyFileSync(out, join(d, `${name}.wasm`));
    }
    console.log(`build-wasm: ${f} -> ${outDirs.map((d) => join(d, `${name}.wasm`).slice(root.length + 1)).join(', ')}`);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
