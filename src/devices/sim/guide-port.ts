/**
 * A mount's guide port (ST-4 style pulses), simulated: records the pulses it received and passes each
 * on to the simulated mount behind it, when there is one (its pulses then move the camera's sky).
 */
import { DeviceError } from '../errors.js';
import { realClock, type Clock, type GuideDirection, type GuideOutput } from '../types.js';

/** Pulses longer than a minute (or negative, or not numbers) are refused, as the real drivers do. */
export function checkPulse(ms: number): void {
  if (!(Number.isFinite(ms) && ms >= 0 && ms <= 60_000)) throw new DeviceError('invalid-value', `pulse duration must be 0..60000 ms, got ${ms}`);
}

export class SimGuideOutput implements GuideOutput {
  readonly kind = 'guide' as const;
  private until = 0;
  readonly pulses: { direction: GuideDirection; ms: number; at: number }[] = [];
  constructor(
    private readonly clock: Clock = realClock,
    /** The mount the pulses move (the simulated rig's SimMount). */
    private readonly mount?: Pick<GuideOutput, 'pulseGuide'>,
  ) {}
  async connect(): Promise<void> {}
  async disconnect(): Promise<void> {}
  /** Start a pulse without waiting. */
  begin(direction: GuideDirection, ms: number): void {
    checkPulse(ms);
    const now = this.clock.now();
    this.pulses.push({ direction, ms, at: now });
    this.until = Math.max(this.until, now + ms);
    // the mount moves while the pulse lasts (its promise ends with the pulse; the duration is checked)
    void this.mount?.pulseGuide(direction, ms).catch(() => undefined);
  }
  async pulseGuide(direction: GuideDirection, ms: number): Promise<void> {
    this.begin(direction, ms);
    await this.clock.sleep(ms);
  }
  async isPulseGuiding(): Promise<boolean> {
    return this.clock.now() < this.until;
  }
}
