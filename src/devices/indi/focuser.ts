/**
 * An INDI focuser (libindi FocuserInterface) behind the Focuser interface: ABS_FOCUS_POSITION
 * {FOCUS_ABSOLUTE_POSITION}, FOCUS_MAX {FOCUS_MAX_VALUE}, relative moves through FOCUS_MOTION
 * {FOCUS_INWARD, FOCUS_OUTWARD} + REL_FOCUS_POSITION {FOCUS_RELATIVE_POSITION}, and
 * FOCUS_TEMPERATURE {TEMPERATURE} when the driver has a sensor. A move is Busy until the driver sets
 * the property Ok (arrived) or Alert (failed). The properties exist only once the device is connected.
 */
import { DarkroomError } from '../../util/errors.js';
import type { Focuser } from '../types.js';
import { checkAlert, type IndiClient, type IndiRestorable } from './client.js';

const ABS = 'ABS_FOCUS_POSITION';
const REL = 'REL_FOCUS_POSITION';

export class IndiFocuser implements Focuser, IndiRestorable {
  readonly kind = 'focuser' as const;
  /** The position last asked for, to go back to on a restarted server. */
  private target?: number;
  constructor(
    readonly client: IndiClient,
    readonly device: string,
    /** propertyTimeoutMs: how long to wait for the focuser properties after connecting. */
    readonly opts: { propertyTimeoutMs?: number } = {},
  ) {}

  private has(name: string): boolean {
    return !!this.client.property(this.device, name);
  }

  private unsupported(what: string): DarkroomError {
    return new DarkroomError('UNSUPPORTED', `INDI device '${this.device}' has no ${what}`, this.client.label);
  }

  async connect(): Promise<void> {
    await this.connectDevice();
    this.client.attach(this);
  }

  private async connectDevice(): Promise<void> {
    await this.client.connectDevice(this.device);
    await this.client.waitFor(() => this.has(ABS) || this.has(REL), this.opts.propertyTimeoutMs ?? 5000, `the focuser properties of '${this.device}'`).catch(() => {
      throw this.unsupported(`focuser properties (${ABS} / ${REL})`);
    });
  }

  /** On a restarted server: connect, and go back to the position last asked for when the driver says otherwise. */
  async restore(): Promise<void> {
    await this.connectDevice();
    if (this.target === undefined || !this.has(ABS) || this.client.num(this.device, ABS, 'FOCUS_ABSOLUTE_POSITION') === this.target) return;
    this.client.setNumber(this.device, ABS, { FOCUS_ABSOLUTE_POSITION: this.target });
    await this.settle(ABS, 120_000, `the focuser to go back to ${this.target}`);
  }

  async disconnect(): Promise<void> {
    this.client.detach(this);
    this.client.setSwitch(this.device, 'CONNECTION', { CONNECT: false, DISCONNECT: true });
  }

  async position(): Promise<number> {
    if (!this.has(ABS)) throw this.unsupported(`absolute position (${ABS})`);
    return this.client.num(this.device, ABS, 'FOCUS_ABSOLUTE_POSITION');
  }

  async maxStep(): Promise<number> {
    const max = this.client.num(this.device, 'FOCUS_MAX', 'FOCUS_MAX_VALUE');
    if (Number.isFinite(max)) return max;
    const limit = this.client.property(this.device, ABS)?.elements.get('FOCUS_ABSOLUTE_POSITION')?.max ?? NaN;
    if (Number.isFinite(limit)) return limit;
    throw this.unsupported('FOCUS_MAX and no limit on its absolute position');
  }

  async isMoving(): Promise<boolean> {
    return this.busy();
  }

  private busy(): boolean {
    return [ABS, REL].some((n) => this.client.property(this.device, n)?.state === 'Busy');
  }

  async temperature(): Promise<number | undefined> {
    const t = this.client.num(this.device, 'FOCUS_TEMPERATURE', 'TEMPERATURE');
    return Number.isFinite(t) ? t : undefined;
  }

  async move(position: number, timeoutMs = 120_000): Promise<void> {
    const max = await this.maxStep();
    if (!(Number.isInteger(position) && position >= 0 && position <= max)) {
      throw new DarkroomError('BAD_ARGUMENT', `focuser position must be an integer 0..${max}, got ${position}`, this.client.label);
    }
    await this.position();
    await this.refuseWhileMoving();
    this.target = position;
    this.client.setNumber(this.device, ABS, { FOCUS_ABSOLUTE_POSITION: position });
    await this.settle(ABS, timeoutMs, `the focuser to reach ${position}`);
  }

  async moveBy(steps: number, timeoutMs = 120_000): Promise<void> {
    if (!Number.isInteger(steps)) throw new DarkroomError('BAD_ARGUMENT', `focuser steps must be an integer, got ${steps}`, this.client.label);
    if (!this.has(REL)) return this.move((await this.position()) + steps, timeoutMs);
    if (steps === 0) return;
    await this.refuseWhileMoving();
    if (this.has('FOCUS_MOTION')) this.client.setSwitch(this.device, 'FOCUS_MOTION', { FOCUS_INWARD: steps < 0, FOCUS_OUTWARD: steps > 0 });
    else if (steps < 0) throw this.unsupported('FOCUS_MOTION to move inward');
    this.client.setNumber(this.device, REL, { FOCUS_RELATIVE_POSITION: Math.abs(steps) });
    await this.settle(REL, timeoutMs, `the focuser to move ${steps} steps`);
  }

  private async refuseWhileMoving(): Promise<void> {
    if (await this.isMoving()) throw new DarkroomError('IO', `the focuser '${this.device}' is already moving`, this.client.label);
  }

  /**
   * Wait until neither position property is Busy (a relative move also sets the absolute position
   * Busy until it arrives); Alert on the moved property is a failed move.
   */
  private async settle(name: string, timeoutMs: number, what: string): Promise<void> {
    await this.client.waitFor(() => !this.busy(), timeoutMs, what);
    checkAlert(this.client, this.device, name);
  }
}
