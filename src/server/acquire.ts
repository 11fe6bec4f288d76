/**
 * Acquisition in the server session: three runners on one session core (the device session, the roots,
 * the event sink): a sequence on the connected camera (runners/sequence.ts), focus runs on the connected
 * focuser (runners/focus.ts), guiding with the connected camera and mount, or a simulated mount when none
 * is connected (runners/guide.ts). Each runs in the background;
 * its state is in a status object and every change goes out as a WebSocket event. The camera is held
 * (DeviceSession.hold) while a sequence or a focus run uses it, so manual exposures, a second sequence or a
 * focus run are refused with 409 until it ends.
 */
import type { DeviceSession } from './devices.js';
import type { Roots } from './roots.js';
import type { Emit, SessionCore } from './runners/core.js';
import { SequenceRunner } from './runners/sequence.js';
import { FocusRunner } from './runners/focus.js';
import { GuideRunner } from './runners/guide.js';
import { FrameHistory } from './runners/history.js';

export type { SequenceStatus, SequenceEstimate } from './runners/sequence.js';
export type { FocusStatus, FocusLoopOptions, AutofocusRunOptions } from './runners/focus.js';
export type { GuideStatus } from './runners/guide.js';
export type { FrameRecord } from './runners/history.js';

export class AcquireSession {
  readonly sequence: SequenceRunner;
  readonly focus: FocusRunner;
  readonly guide: GuideRunner;
  /** Every frame that reaches the viewer, measured (stars, HFR, background, temperature, guide RMS), with a thumbnail. */
  readonly history: FrameHistory;

  constructor(
    devices: DeviceSession,
    roots: Roots,
    emit: Emit,
    /** Speed of the guiding simulation's clock (default 20: a 2 s guide exposure takes 0.1 s). */
    guideSpeed = 20,
  ) {
    const core: SessionCore = { devices, roots, emit };
    this.guide = new GuideRunner(core, guideSpeed);
    this.sequence = new SequenceRunner(core, { dither: () => this.guide.dither() });
    this.focus = new FocusRunner(core);
    this.history = new FrameHistory({
      image: () => {
        try {
          return devices.lastImage();
        } catch {
          return null;
        }
      },
      temperature: () => devices.coolerHistory().at(-1)?.ccdTemp ?? null,
      guideRms: () => {
        const g = this.guide.status();
        return g.state === 'guiding' && g.stats?.samples ? g.stats.rmsTotalArcsec : null;
      },
      emit,
    });
    devices.onDisconnect = async () => {
      await this.sequence.stop();
      await this.focus.ended();
      await this.guide.close();
    };
  }

  /** Resolves when the current sequence has ended (tests). */
  async sequenceEnded(): Promise<void> {
    await this.sequence.ended();
  }

  /** Resolves when the current focus run has ended (tests). */
  async focusEnded(): Promise<void> {
    await this.focus.ended();
  }

  async close(): Promise<void> {
    await this.guide.close();
    await this.sequence.stop();
    await this.focus.ended();
  }
}
