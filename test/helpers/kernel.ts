/** Kernel selection for tests: the plain-TS references against the WASM-SIMD kernels. */
/** Run `f` with the plain-TS reference selected (DARKROOM_KERNEL=ts), then restore the setting. */
export function withTS<T>(f: () => T): T {
  const before = process.env.DARKROOM_KERNEL;
  process.env.DARKROOM_KERNEL = 'ts';
  try {
    return f();
  } finally {
    if (before === undefined) delete process.env.DARKROOM_KERNEL;
    else process.env.DARKROOM_KERNEL = before;
  }
}
