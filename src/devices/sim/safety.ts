/**
 * A simulated safety monitor (weather station): unsafe during the given windows of clock time, unless
 * told otherwise (setSafe: the Alpaca simulator's Action SetSafe, for tests and demos).
 */
import type { Clock, SafetyMonitor } from '../types.js';

export class SimSafetyMonitor implements SafetyMonitor {
  queries = 0;
  /** When set, the verdict whatever the windows say. */
  private forced: boolean | undefined;
  constructor(
    private readonly clock: Clock,
    /** Unsafe intervals [from, to) in clock ms (e.g. clouds from 23:10 to 23:40). */
    readonly unsafe: { from: number; to: number }[] = [],
  ) {}
  async isSafe(): Promise<boolean> {
    this.queries++;
    if (this.forced !== undefined) return this.forced;
    const t = this.clock.now();
    return !this.unsafe.some((w) => t >= w.from && t < w.to);
  }
  /** Force the verdict (undefined: back to the windows). */
  setSafe(safe: boolean | undefined): void {
    this.forced = safe;
  }
}
