/** A simulated safety monitor (weather station): unsafe during the given windows of clock time. */
import type { Clock, SafetyMonitor } from '../types.js';

export class SimSafetyMonitor implements SafetyMonitor {
  queries = 0;
  constructor(
    private readonly clock: Clock,
    /** Unsafe intervals [from, to) in clock ms (e.g. clouds from 23:10 to 23:40). */
    readonly unsafe: { from: number; to: number }[] = [],
  ) {}
  async isSafe(): Promise<boolean> {
    this.queries++;
    const t = this.clock.now();
    return !this.unsafe.some((w) => t >= w.from && t < w.to);
  }
}
