/**
 * The QSI internal 5-position filter wheel, simulated: moves take a fixed time per slot; its focus
 * offsets (steps per filter name, any casing; unlisted filters 0) are what the rig was given.
 */
import { DeviceError } from '../errors.js';
import type { Clock, FilterWheel } from '../types.js';
import { condition } from '../camera-settings.js';

export const QSI_FILTERS = ['Red', 'Green', 'Blue', 'Luminance', 'Empty'];

export class SimFilterWheel implements FilterWheel {
  readonly kind = 'filterwheel' as const;
  private pos = 3;
  private target = 3;
  private arrive = 0;
  /** An injected filter wheel failure (hard error): moves are refused until it is cleared. */
  failed = false;
  constructor(
    private readonly clock: Clock,
    private readonly msPerSlot: number,
    private readonly filterNames: string[] = QSI_FILTERS,
    private readonly offsets: Record<string, number> = {},
  ) {}
  async focusOffsets(): Promise<number[]> {
    const byName = new Map(Object.entries(this.offsets).map(([k, v]) => [k.toLowerCase(), v]));
    return this.filterNames.map((f) => byName.get(f.toLowerCase()) ?? 0);
  }
  async connect(): Promise<void> {}
  async disconnect(): Promise<void> {}
  async names(): Promise<string[]> {
    return [...this.filterNames];
  }
  async moving(): Promise<boolean> {
    return this.clock.now() < this.arrive;
  }
  async position(): Promise<number> {
    if (this.clock.now() < this.arrive) return -1;
    this.pos = this.target;
    return this.pos;
  }
  /** Begin a move; returns the arrival time. */
  begin(target: number | string): number {
    const n = this.filterNames.length;
    const slot = this.slotOf(target);
    const now = this.clock.now();
    if (this.failed) throw new DeviceError('invalid-operation', condition('filter-wheel').message);
    if (now < this.arrive) throw new DeviceError('invalid-operation', 'the filter wheel is already moving');
    const from = this.target;
    const slots = Math.min((slot - from + n) % n, (from - slot + n) % n);
    this.target = slot;
    this.arrive = now + slots * this.msPerSlot;
    return this.arrive;
  }
  async move(target: number | string, timeoutMs = 30_000): Promise<void> {
    const arrive = this.begin(target);
    const wait = arrive - this.clock.now();
    if (wait > timeoutMs) throw new DeviceError('invalid-operation', `filter wheel did not arrive within ${timeoutMs} ms`);
    if (wait > 0) await this.clock.sleep(wait);
    while (this.clock.now() < arrive) await this.clock.sleep(arrive - this.clock.now());
    await this.position();
  }
  private slotOf(target: number | string): number {
    const n = this.filterNames.length;
    if (typeof target === 'string') {
      const slot = this.filterNames.findIndex((f) => f.toLowerCase() === target.toLowerCase());
      if (slot < 0) throw new DeviceError('invalid-value', `no filter named '${target}' (have: ${this.filterNames.join(', ')})`);
      return slot;
    }
    if (!(Number.isInteger(target) && target >= 0 && target < n)) throw new DeviceError('invalid-value', `filter position must be 0..${n - 1}, got ${target}`);
    return target;
  }
}
