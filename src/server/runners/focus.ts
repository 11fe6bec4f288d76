/**
 * The focus runner of the server session: a focus loop (short exposures, each measured) and autofocus
 * (a V-curve around the position, a fitted hyperbola, a move to its minimum) with the connected camera
 * and focuser (the simulator's, an INDI or an Alpaca one), the camera held while they run; status
 * changes go out as {type: 'focus', status} events.
 */
import { autofocus, fitHyperbola, focusLoop, fullFrame, onEnoughStars, type HyperbolaFit } from '../../acquire/focus.js';
import type { Camera } from '../../devices/types.js';
import { HttpError } from '../errors.js';
import { publishingCamera, releaseWhenDone, type SessionCore } from './core.js';

export interface FocusStatus {
  state: 'idle' | 'loop' | 'autofocus' | 'done' | 'failed' | 'aborted';
  position?: number;
  loop: { i: number; hfr: number; fwhm: number; stars: number }[];
  points: { position: number; value: number; stars: number }[];
  metric?: 'fwhm' | 'hfr';
  fit?: HyperbolaFit | null;
  best?: number;
  error?: string;
}

export interface FocusLoopOptions {
  /** Seconds per frame. */
  exposure: number;
  count: number;
}

export interface AutofocusRunOptions {
  exposure: number;
  /** Focuser steps between samples. */
  step: number;
  /** Samples on each side of the centre. */
  points: number;
  metric: 'fwhm' | 'hfr';
}

export class FocusRunner {
  private current: FocusStatus = { state: 'idle', loop: [], points: [] };
  private finished: Promise<void> | null = null;
  /** Set by abort(): the next exposure of the run throws, which ends it. */
  private aborting = false;

  constructor(private readonly core: SessionCore) {}

  private withFocuser() {
    const d = this.core.devices.opened();
    if (!d.focuser) throw new HttpError(409, 'NO_FOCUSER', `no focuser on the connected device ${d.spec} (connect one with focuser: URL)`);
    return { ...d, focuser: d.focuser };
  }

  status(): FocusStatus {
    return this.current;
  }

  private event(): void {
    this.core.emit({ type: 'focus', status: this.current });
  }

  private busy(): boolean {
    return this.current.state === 'loop' || this.current.state === 'autofocus';
  }

  private run(kind: 'loop' | 'autofocus', body: () => Promise<void>): FocusStatus {
    if (this.busy()) throw new HttpError(409, 'BUSY', `a focus ${this.current.state === 'loop' ? 'loop' : 'run'} is already running`);
    this.core.devices.hold(kind === 'loop' ? 'a focus loop' : 'autofocus');
    this.aborting = false;
    this.current = { state: kind, loop: [], points: [], position: this.current.position };
    this.event();
    const s = this.current;
    this.finished = releaseWhenDone(this.core, body(), {
      done: () => {
        s.state = 'done';
      },
      failed: (message) => {
        s.state = this.aborting ? 'aborted' : 'failed';
        if (!this.aborting) s.error = message;
      },
      ended: () => this.event(),
    });
    return this.current;
  }

  async loop(o: FocusLoopOptions): Promise<FocusStatus> {
    const d = this.withFocuser();
    this.current.position = await d.focuser.position();
    return this.run('loop', async () => {
      await fullFrame(d.camera);
      await focusLoop(this.runCamera(d.camera, 'focus loop'), {
        exposure: o.exposure,
        count: o.count,
        onFrame: (i, m) => {
          this.current.loop.push({ i: i + 1, hfr: m.hfr, fwhm: m.fwhm, stars: m.stars });
          this.event();
        },
      });
    });
  }

  async autofocus(o: AutofocusRunOptions): Promise<FocusStatus> {
    const d = this.withFocuser();
    return this.run('autofocus', async () => {
      this.current.metric = o.metric;
      await fullFrame(d.camera);
      const r = await autofocus(this.runCamera(d.camera, 'autofocus'), d.focuser, {
        exposure: o.exposure,
        step: o.step,
        points: o.points,
        metric: o.metric,
        clock: d.clock,
        onPoint: (p) => {
          this.current.points.push(p);
          this.current.position = p.position;
          this.current.fit = fitHyperbola(onEnoughStars(this.current.points));
          this.event();
        },
      });
      this.current.fit = r.fit;
      this.current.best = r.best;
      this.current.position = await d.focuser.position();
    });
  }

  /** Abort the focus loop or autofocus: the exposure in progress is dropped and the run ends as 'aborted'. */
  async abort(): Promise<FocusStatus> {
    if (!this.busy()) throw new HttpError(409, 'NOT_RUNNING', 'no focus loop or autofocus is running');
    this.aborting = true;
    await this.core.devices.opened().camera.abortExposure().catch(() => undefined);
    await this.finished;
    return this.current;
  }

  /** The camera of a run: its frames published for the viewer, and no new exposure once aborted. */
  private runCamera(camera: Camera, source: string): Camera {
    const cam = publishingCamera(this.core, camera, source);
    return new Proxy(cam, {
      get: (target, key) => {
        const v = Reflect.get(target, key, target) as unknown;
        if (key !== 'startExposure' && key !== 'download') return v;
        return async (...args: unknown[]) => {
          if (this.aborting) throw new HttpError(409, 'ABORTED', 'aborted');
          return (v as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        };
      },
    });
  }

  async move(position: number): Promise<FocusStatus> {
    const d = this.withFocuser();
    if (this.busy()) throw new HttpError(409, 'BUSY', 'a focus run is in progress');
    const max = await d.focuser.maxStep();
    if (position > max) throw new HttpError(400, 'BAD_ARGUMENT', `focuser position ${position} out of range 0..${max}`);
    await d.focuser.move(position);
    this.current.position = await d.focuser.position();
    this.event();
    return this.current;
  }

  /** Resolves when the current focus run has ended. */
  async ended(): Promise<void> {
    await this.finished;
  }
}
