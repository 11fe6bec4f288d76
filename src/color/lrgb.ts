/**
 * The colour picture of a target from its filter stacks: R, G and B registered onto L (stars,
 * matching, Lanczos-3), each background-subtracted (median), then LRGB-combined (L replaces the
 * lightness). Without L, a plain RGB combine.
 */
import { readFits } from '../fits/index.js';
import { createImage, type Image } from '../image/image.js';
import { median } from '../image/stats.js';
import { frameStars, registerToReference, applyRegistration } from '../register/register.js';
import { combineLrgb } from './channels.js';
import { DarkroomError } from '../util/errors.js';

function backgroundSubtracted(plane: Float32Array): Float32Array {
  const m = median(plane);
  const out = new Float32Array(plane.length);
  for (let i = 0; i < plane.length; i++) out[i] = plane[i]! - m;
  return out;
}

export interface ColourResult {
  image: Image;
  history: string[];
}

export function combineFilterStacks(paths: { L?: string; R: string; G: string; B: string }): ColourResult {
  const refPath = paths.L ?? paths.R;
  const ref = readFits(refPath);
  if (ref.channels !== 1) throw new DarkroomError('BAD_ARGUMENT', 'expected a mono stack', refPath);
  const refStars = frameStars(ref);
  const history: string[] = [`Colour from stacks: ${paths.L ? `L=${paths.L} ` : ''}R=${paths.R} G=${paths.G} B=${paths.B}`];
  const planes: Float32Array[] = [];
  for (const key of ['R', 'G', 'B'] as const) {
    const p = paths[key];
    if (p === refPath) {
      planes.push(backgroundSubtracted(ref.data[0]!));
      continue;
    }
    const img = readFits(p);
    const reg = registerToReference(frameStars(img), refStars, false, { model: 'similarity' });
    if (!reg.ok) throw new DarkroomError('MISMATCH', `cannot be registered onto ${refPath}: ${reg.reason}`, p);
    const [warped] = applyRegistration(img, reg.transform, ref.width, ref.height, { interp: 'lanczos3' });
    planes.push(backgroundSubtracted(warped!));
    history.push(`${key} registered onto ${paths.L ? 'L' : 'R'}: ${reg.match?.inliers ?? '?'} stars, rms ${reg.match?.rms?.toFixed(3) ?? '?'} px`);
  }
  const rgb = createImage(ref.width, ref.height, 3, ref.header.clone());
  planes.forEach((p, c) => rgb.data[c]!.set(p));
  rgb.header.delete('FILTER');
  if (!paths.L) return { image: rgb, history };
  const lum = createImage(ref.width, ref.height, 1, ref.header.clone());
  lum.data[0]!.set(backgroundSubtracted(ref.data[0]!));
  const out = combineLrgb(lum, rgb, { lum: paths.L });
  history.push('LRGB: L replaces the CIE L* of the RGB image (backgrounds subtracted first)');
  return { image: out, history };
}
