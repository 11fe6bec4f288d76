/**
 * The sequencer: runs a plan on a camera (and filter wheel), writing each frame as a FITS file.
 * - Cooling: cooler on, set point, then wait until the CCD temperature stays within the tolerance for the
 *   plan's stable time (sampled every 10 s of the clock); a timeout is an error.
 * - Before each frame: filter move (when the group names a filter), binning.
 * - Exposure: polled on the clock so pause/abort are honoured; abort stops the running exposure and nothing
 *   of it is written (files are written atomically: temp file + rename, so no partial file ever appears).
 * - Pause takes effect between frames; resume continues with the next frame.
 * - Headers: the camera's (IMAGETYP, EXPTIME, DATE-OBS UTC, CCD-TEMP, SET-TEMP, FILTER, XBINNING/YBINNING...)
 *   plus OBJECT, OBSERVER, TELESCOP, FOCALLEN, SITELAT, SITELONG from the plan's profile, and HISTORY provenance.
 * - End: optionally ramps the set point up (5 C per minute) to `warmTo` and switches the cooler off.
 */
import { writeFits } from '../fits/index.js';
import type { Image } from '../image/image.js';
import { DarkroomError } from '../util/errors.js';
import { VERSION } from '../version.js';
import type { Camera, Clock, FilterWheel } from '../devices/types.js';
import { DEFAULT_PATTERN, checkPattern, freeName } from './autosave.js';
import { expandPlan, type Plan, type PlannedFrame } from './plan.js';

export type SequenceEvent =
  | { kind: 'cooling'; ccdTemp: number; setpoint: number; power: number }
  | { kind: 'cooled'; ccdTemp: number; waitedS: number }
  | { kind: 'filter'; frame: PlannedFrame; filter: string }
  | { kind: 'exposing'; frame: PlannedFrame }
  | { kind: 'saved'; frame: PlannedFrame; path: string }
  | { kind: 'paused' }
  | { kind: 'resumed' }
  | { kind: 'aborted'; frame?: PlannedFrame }
  | { kind: 'warming'; setpoint: number }
  | { kind: 'done' };

export interface SequencerOptions {
  camera: Camera;
  wheel?: FilterWheel;
  clock: Clock;
  outDir: string;
  onEvent?: (e: SequenceEvent) => void;
  /** Called before a light frame when plan.ditherEvery says so (e.g. guider.dither()). */
  dither?: () => Promise<void>;
  /** Poll interval while waiting for an image, ms (default 100). */
  pollMs?: number;
  /** Write 16-bit unsigned integers when the pixels allow it (default true). */
  int16?: boolean;
}

export interface SequenceResult {
  saved: { path: string; frame: PlannedFrame }[];
  aborted: boolean;
  /** Clock time when the first frame started (after cooling), ms. */
  framesStart: number;
  end: number;
  /** Seconds from the first frame to the end of the last frame (incl. delays). */
  framesElapsedS: number;
  coolingWaitS: number;
}

export class Sequencer {
  private aborting = false;
  private pausing = false;
  constructor(
    readonly plan: Plan,
    private readonly o: SequencerOptions,
  ) {
    checkPattern(plan.pattern ?? DEFAULT_PATTERN);
  }
  abort(): void {
    this.aborting = true;
  }
  pause(): void {
    this.pausing = true;
  }
  resume(): void {
    this.pausing = false;
  }
  get paused(): boolean {
    return this.pausing;
  }

  private emit(e: SequenceEvent): void {
    this.o.onEvent?.(e);
  }

  /** Sleep ms in chunks of at most 1 s, returning early on abort. */
  private async wait(ms: number): Promise<void> {
    const { clock } = this.o;
    const end = clock.now() + ms;
    while (!this.aborting && clock.now() < end) await clock.sleep(Math.min(1000, end - clock.now()));
  }

  async cool(): Promise<number> {
    const c = this.plan.cooling;
    if (!c) return 0;
    const { camera, clock } = this.o;
    await camera.setSetpoint(c.setpoint);
    await camera.setCooler(true);
    const t0 = clock.now();
    let stableSince: number | null = null;
    const needMs = c.stableMinutes * 60_000;
    for (;;) {
      if (this.aborting) return (clock.now() - t0) / 1000;
      const st = await camera.coolerStatus();
      this.emit({ kind: 'cooling', ccdTemp: st.ccdTemp, setpoint: c.setpoint, power: st.power });
      const now = clock.now();
      if (Math.abs(st.ccdTemp - c.setpoint) <= c.tolerance) {
        stableSince ??= now;
        if (now - stableSince >= needMs) {
          const waited = (now - t0) / 1000;
          this.emit({ kind: 'cooled', ccdTemp: st.ccdTemp, waitedS: waited });
          return waited;
        }
      } else stableSince = null;
      if (now - t0 > c.timeoutMinutes * 60_000) {
        throw new DarkroomError(
          'IO',
          `camera did not hold ${c.setpoint} C within ${c.tolerance} C for ${c.stableMinutes} min in ${c.timeoutMinutes} min (now ${st.ccdTemp.toFixed(2)} C, cooler ${Math.round(st.power)} %)`,
        );
      }
      await clock.sleep(10_000);
    }
  }

  async run(): Promise<SequenceResult> {
    const { camera, wheel, clock, outDir } = this.o;
    const plan = this.plan;
    const frames = expandPlan(plan);
    const coolingWaitS = await this.cool();
    const framesStart = clock.now();
    const saved: SequenceResult['saved'] = [];
    const names = wheel ? await wheel.names() : [];
    let seq = plan.start;
    let bin = -1;
    let lights = 0;
    let abortedFrame: PlannedFrame | undefined;
    for (const f of frames) {
      if (this.pausing && !this.aborting) {
        this.emit({ kind: 'paused' });
        while (this.pausing && !this.aborting) await clock.sleep(1000);
        if (!this.aborting) this.emit({ kind: 'resumed' });
      }
      if (this.aborting) break;
      if (f.filter && wheel) {
        const slot = names.findIndex((n) => n.toLowerCase() === f.filter!.toLowerCase());
        if (slot < 0) throw new DarkroomError('BAD_ARGUMENT', `the filter wheel has no filter '${f.filter}' (have: ${names.join(', ')})`);
        if ((await wheel.position()) !== slot) {
          this.emit({ kind: 'filter', frame: f, filter: f.filter });
          await wheel.move(slot);
        }
      }
      if (f.binning !== bin) {
        await camera.setBinning(f.binning, f.binning);
        bin = f.binning;
      }
      if (f.type === 'light' && this.o.dither && plan.ditherEvery > 0 && lights > 0 && lights % plan.ditherEvery === 0) await this.o.dither();
      if (this.aborting) break;
      this.emit({ kind: 'exposing', frame: f });
      const img = await this.expose(f);
      if (!img) {
        abortedFrame = f;
        break;
      }
      if (f.type === 'light') lights++;
      const r = freeName(outDir, plan.pattern ?? DEFAULT_PATTERN, {
        base: plan.base,
        object: plan.object,
        filter: f.filter,
        suffix: f.suffix,
        exposure: f.exposure,
        temp: plan.cooling?.setpoint ?? img.header.getNumber('CCD-TEMP'),
        seq,
        type: f.type,
        binning: f.binning,
        date: new Date(img.header.getString('DATE-OBS') ? `${img.header.getString('DATE-OBS')}Z` : clock.now()),
      });
      seq = r.seq + 1;
      this.annotate(img, f);
      writeFits(r.path, img, {
        bitpix: this.o.int16 !== false && isUint16(img) ? 16 : -32,
        history: [`darkroom ${VERSION} sequence '${plan.base}': group ${f.group + 1} frame ${f.n}, ${f.type} ${f.exposure} s bin ${f.binning}${f.filter ? ` filter ${f.filter}` : ''}`],
      });
      saved.push({ path: r.path, frame: f });
      this.emit({ kind: 'saved', frame: f, path: r.path });
      if (f.delay > 0) await this.wait(f.delay * 1000);
    }
    const end = clock.now();
    if (this.aborting) this.emit({ kind: 'aborted', frame: abortedFrame });
    else if (plan.warmTo !== undefined) await this.warm(plan.warmTo);
    this.emit({ kind: 'done' });
    return { saved, aborted: this.aborting, framesStart, end, framesElapsedS: (end - framesStart) / 1000, coolingWaitS };
  }

  /** One exposure; null when aborted (the exposure is stopped and its image dropped). */
  private async expose(f: PlannedFrame): Promise<Image | null> {
    const { camera, clock } = this.o;
    const poll = this.o.pollMs ?? 100;
    await camera.startExposure({ duration: f.exposure, type: f.type });
    const expectedEnd = clock.now() + f.exposure * 1000;
    for (;;) {
      if (this.aborting) {
        await camera.abortExposure();
        return null;
      }
      if (await camera.imageReady()) break;
      const left = expectedEnd - clock.now();
      await clock.sleep(left > 0 ? Math.min(left, 1000) : poll);
    }
    const img = await camera.download();
    if (this.aborting) return null;
    return img;
  }

  private annotate(img: Image, f: PlannedFrame): void {
    const h = img.header;
    const p = this.plan.profile;
    if (this.plan.object && (f.type === 'light' || f.type === 'flat')) h.set('OBJECT', this.plan.object, 'target');
    if (p.observer) h.set('OBSERVER', p.observer, 'observer');
    if (p.telescope) h.set('TELESCOP', p.telescope, 'telescope');
    if (p.focalLength !== undefined) h.set('FOCALLEN', p.focalLength, '[mm] focal length', { float: true });
    if (p.siteLat !== undefined) h.set('SITELAT', p.siteLat, '[deg] site latitude, north positive', { float: true });
    if (p.siteLong !== undefined) h.set('SITELONG', p.siteLong, '[deg] site longitude, east positive', { float: true });
    if (this.plan.cooling && h.get('SET-TEMP') === undefined) h.set('SET-TEMP', this.plan.cooling.setpoint, '[C] cooler set point', { float: true });
    h.set('SEQGROUP', f.group + 1, 'sequence group');
    h.set('SEQFRAME', f.n, 'frame number within the group');
  }

  private async warm(to: number): Promise<void> {
    const { camera, clock } = this.o;
    let st = await camera.coolerStatus();
    let sp = st.setpoint;
    while (sp < to) {
      sp = Math.min(to, sp + 5);
      this.emit({ kind: 'warming', setpoint: sp });
      await camera.setSetpoint(sp);
      await clock.sleep(60_000);
    }
    st = await camera.coolerStatus();
    await camera.setCooler(false);
  }
}

function isUint16(img: Image): boolean {
  for (const d of img.data) for (let i = 0; i < d.length; i++) {
    const v = d[i]!;
    if (!(v >= 0 && v <= 65535 && v === Math.round(v))) return false;
  }
  return true;
}
