/**
 * register: stars of every frame first (one frame in memory at a time), the reference (the plan's,
 * else the frame with the most stars), then each frame resampled onto it. A frame that does not
 * register is left out (rejected).
 */
import { availableParallelism } from 'node:os';
import { basename } from 'node:path';
import { readFits, writeFits } from '../../fits/index.js';
import type { Image } from '../../image/image.js';
import { frameStars, chooseReference, registerToReference, applyRegistrationAsync } from '../../register/register.js';
import { WarpPool } from '../../register/resample.js';
import { DarkroomError } from '../../util/errors.js';
import { VERSION } from '../../version.js';
import type { RegisterStep } from '../plan.js';
import { absPath, ensureDir, liveInputs, rawOf, stepWarning, type Rejection, type StepEnv, type StepOutput } from './env.js';

type Stars = ReturnType<typeof frameStars>;

/** Stars and geometry of each frame (the pixels are dropped after each). */
function starsOf(env: StepEnv, inputs: string[]): { stars: Stars[]; geoms: Array<{ width: number; height: number }> } {
  const geoms: Array<{ width: number; height: number }> = [];
  const stars = inputs.map((x) => {
    const im = readFits(absPath(env, x));
    geoms.push({ width: im.width, height: im.height });
    return frameStars(im);
  });
  return { stars, geoms };
}

function referenceIndex(env: StepEnv, s: RegisterStep, inputs: string[], stars: Stars[]): number {
  const want = s.params.reference;
  let ref = -1;
  if (want !== 'auto') {
    ref = inputs.findIndex((x) => rawOf(env, x) === want || basename(rawOf(env, x)) === basename(want));
    if (ref < 0) stepWarning(env, 'REFERENCE_NOT_FOUND', `${s.id}: reference ${want} is not among these frames: chose the best frame instead`);
  }
  if (ref < 0) ref = chooseReference(stars);
  if (ref < 0) throw new DarkroomError('TOO_FEW', 'no frame has enough stars to be the registration reference');
  return ref;
}

export async function runRegister(env: StepEnv, s: RegisterStep): Promise<StepOutput> {
  const inputs = liveInputs(env, s);
  if (inputs.length === 0) throw new DarkroomError('TOO_FEW', 'no calibrated frames to register');
  // Two passes so that memory holds one frame at a time whatever the frame count.
  const { stars, geoms } = starsOf(env, inputs);
  const ref = referenceIndex(env, s, inputs, stars);
  const refGeom = geoms[ref]!;
  const ropts = { drizzle: s.params.drizzle ?? undefined };
  const scale = ropts.drizzle && ropts.drizzle > 1 ? ropts.drizzle : 1;
  const produced: string[] = [];
  const rejected: Rejection[] = [];
  const frames: unknown[] = [];
  const pool = new WarpPool(env.workers ?? availableParallelism());
  try {
    for (let i = 0; i < inputs.length; i++) {
      const inp = inputs[i]!;
      const reg = registerToReference(stars[i]!, stars[ref]!, i === ref, {});
      const raw = rawOf(env, inp);
      if (!reg.ok) {
        rejected.push({ path: raw, reason: `registration: ${reg.reason}` });
        continue;
      }
      const img = readFits(absPath(env, inp));
      const data = await applyRegistrationAsync(img, reg.transform, refGeom.width, refGeom.height, ropts, pool);
      const outImg: Image = { width: refGeom.width * scale, height: refGeom.height * scale, channels: img.channels, data, header: img.header.clone() };
      const dst = s.outputs[s.inputs.indexOf(inp)]!;
      ensureDir(absPath(env, dst));
      writeFits(absPath(env, dst), outImg, { bitpix: -32, history: [`darkroom ${VERSION} run: registered ${inp} onto ${inputs[ref]}`, `transform ${Array.from(reg.transform).map((v) => v.toPrecision(8)).join(' ')}`] });
      produced.push(dst);
      frames.push({ path: raw, stars: reg.stars, shift: reg.shift });
    }
  } finally {
    await pool.close();
  }
  return { produced, rejected, info: { reference: rawOf(env, inputs[ref]!), frames } };
}
