/**
 * A virtual clock for simulations and tests: `sleep(ms)` advances simulated time by ms at once (after a
 * macrotask, so other callbacks still run). Hours of a night pass in milliseconds, deterministically.
 * It assumes one sleeper at a time (the sequencer, focuser and guider all wait sequentially).
 */
import type { Clock } from '../devices/types.js';

export class VirtualClock implements Clock {
  private t: number;
  constructor(start = Date.UTC(2024, 0, 15, 20, 0, 0)) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  sleep(ms: number): Promise<void> {
    if (ms > 0) this.t += ms;
    return new Promise((r) => setImmediate(r));
  }
}
