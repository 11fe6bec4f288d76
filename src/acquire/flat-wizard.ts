/**
 * The flat wizard: per filter, find the exposure that puts a flat's median at a target fraction of the
 * usable range, then take N flats and N flat-darks (same exposure, shutter closed) at it, as N.I.N.A.'s
 * and Ekos' flat wizards do.
 *
 * Levels are ADU above the bias level. The bias level is the median of one bias frame the wizard takes
 * first (at the flats' binning). The usable range is the smaller of the ADC's room above bias
 * (maxAdu - bias) and the full well (fullWell x binning^2 / e-/ADU); the result says which limits it.
 *
 * Pure part (`nextExposure`): the test exposures so far in, the next exposure (or done / a failure) out.
 * Start short (startExposure), scale by target / measured (the level above bias is proportional to the
 * exposure for a steady panel), a quarter after a saturated frame, x10 after a frame with no signal,
 * bounded by min/max exposure; done when within the tolerance (default 2%).
 * I/O part (`runFlatWizard`): the camera and the filter wheel; files named with the sequencer's autosave
 * pattern (autosave.ts) and written atomically; IMAGETYP 'Flat Field' / 'Flat Dark' from the camera.
 */
import { writeFits } from '../fits/index.js';
import { median } from '../image/stats.js';
import type { Image } from '../image/image.js';
import type { FrameKind } from '../image/frame-kind.js';
import type { Camera, Clock, FilterWheel, SensorInfo } from '../devices/types.js';
import { DarkroomError, isDarkroomError } from '../util/errors.js';
import { checkValues, defineCatalogue, type Catalogue, type CatalogueSpecs } from '../util/options.js';
import { VERSION } from '../version.js';
import { DEFAULT_PATTERN, checkPattern, freeName } from './autosave.js';

export interface FlatWizardOptions {
  /** Filters in the order taken (wheel names, or a unique prefix of one: L, R, G, B); none: the filter in the beam. */
  filters?: string[];
  /** Flats per filter. */
  count: number;
  /** Flat-darks per filter (same exposure, shutter closed); default: count. */
  darks?: number;
  /** Target median above bias, fraction of the usable range. */
  target: number;
  /** Relative tolerance on the target level. */
  tolerance: number;
  startExposure: number;
  minExposure: number;
  maxExposure: number;
  /** Test exposures per filter before giving up. */
  maxTries: number;
  binning: number;
  /** Autosave pattern (autosave.ts) and the {base} of flats and flat-darks. */
  pattern: string;
  base: string;
  darkBase: string;
}

const parseList = (text: string): string[] => {
  const l = text.split(',').map((s) => s.trim());
  if (!l.length || l.some((s) => s === '')) throw new Error(`'${text}' is not a comma-separated list of filter names`);
  return l;
};
const parsePattern = (text: string): string => {
  checkPattern(text);
  return text;
};

const SPECS: CatalogueSpecs<FlatWizardOptions> = {
  filters: { flag: '--filters <list>', type: 'string', parse: parseList, format: (v) => v.join(','), help: 'filters, comma separated (wheel names or unique prefixes: L,R,G,B)', defaultText: 'the filter in the beam', doc: 'Each filter in turn: find its exposure, then take its flats and flat-darks.' },
  count: { flag: '--count <n>', type: 'integer', default: 20, min: 1, max: 1000, help: 'flats per filter', doc: 'How many flats each filter gets at the exposure found.' },
  darks: { flag: '--darks <n>', type: 'integer', min: 0, max: 1000, help: 'flat-darks per filter', defaultText: 'as --count', doc: 'Flat-darks at the same exposure with the shutter closed (0: none).' },
  target: { flag: '--target <f>', type: 'number', default: 0.45, min: 0, max: 1, exclusive: true, help: 'target median above bias, fraction of the usable range', doc: 'The usable range is the smaller of the ADC room above bias and the full well (in ADU).' },
  tolerance: { flag: '--tolerance <f>', type: 'number', default: 0.02, min: 0, max: 0.5, exclusive: true, help: 'relative tolerance on the target level', doc: 'Test exposures stop when the median is within this fraction of the target.' },
  startExposure: { flag: '--start-exposure <s>', type: 'number', default: 1, min: 0, max: 3600, exclusive: true, help: 'first test exposure, s', doc: 'Start short; later exposures scale by target / measured.' },
  minExposure: { flag: '--min-exposure <s>', type: 'number', default: 0.01, min: 0, max: 3600, exclusive: true, help: 'shortest exposure, s', doc: 'A panel still too bright at this exposure is an error (dim it).' },
  maxExposure: { flag: '--max-exposure <s>', type: 'number', default: 120, min: 0, max: 3600, exclusive: true, help: 'longest exposure, s', doc: 'A panel still too dim at this exposure is an error.' },
  maxTries: { flag: '--max-tries <n>', type: 'integer', default: 10, min: 1, max: 100, help: 'test exposures per filter before giving up', doc: 'The search stops with an error after this many test exposures.' },
  binning: { flag: '--binning <n>', type: 'integer', default: 1, min: 1, max: 16, help: 'binning of the flats', doc: 'Flats must have the binning of the lights they calibrate.' },
  pattern: { flag: '--pattern <text>', type: 'string', default: DEFAULT_PATTERN, parse: parsePattern, help: 'autosave file name pattern', doc: 'Tokens as the sequencer: {base} {filter} {suffix} {exposure} {seq:N} {type} {bin} {date}...; {suffix} is the filter as given.' },
  base: { flag: '--base <name>', type: 'string', default: 'Flat', help: '{base} of the flats', doc: 'The {base} token of the flats.' },
  darkBase: { flag: '--dark-base <name>', type: 'string', default: 'FlatDark', help: '{base} of the flat-darks', doc: 'The {base} token of the flat-darks.' },
};

export const FLAT_CATALOGUE: Catalogue = defineCatalogue<FlatWizardOptions>(SPECS);

type Defaulted = Exclude<keyof FlatWizardOptions, 'filters' | 'darks'>;
export const FLAT_DEFAULTS = Object.fromEntries(FLAT_CATALOGUE.filter((d) => d.default !== undefined).map((d) => [d.key, d.default])) as Pick<FlatWizardOptions, Defaulted>;

// ---- pure part -----------------------------------------------------------------------------

export interface FlatRange {
  /** Usable ADU above bias. */
  range: number;
  /** Which saturates first: the ADC or the full well. */
  limit: 'adc' | 'full-well';
  /** Target level, ADU above bias. */
  targetAdu: number;
}

/** The usable range above bias and the target level of the camera at this binning. */
export function flatRange(info: Pick<SensorInfo, 'electronsPerAdu' | 'fullWell' | 'maxAdu'>, bias: number, binning: number, target: number): FlatRange {
  const adc = info.maxAdu - bias;
  const well = info.fullWell > 0 && info.electronsPerAdu > 0 ? (info.fullWell * binning * binning) / info.electronsPerAdu : Infinity;
  const limit = well < adc ? 'full-well' : 'adc';
  const range = Math.min(adc, well);
  if (!(range > 0)) throw new DarkroomError('BAD_ARGUMENT', `the camera has no usable range above its bias level (${bias.toFixed(0)} ADU of ${info.maxAdu})`);
  return { range, limit, targetAdu: target * range };
}

export interface TestExposure {
  exposure: number;
  /** Median minus bias, ADU. */
  level: number;
}

export interface IterationState {
  targetAdu: number;
  range: number;
  tolerance: number;
  minExposure: number;
  maxExposure: number;
  maxTries: number;
  tries: TestExposure[];
}

export type NextStep = { kind: 'done'; exposure: number; level: number } | { kind: 'expose'; exposure: number } | { kind: 'fail'; reason: string };

/** A level this close to the top of the range is taken as clipped (the scaling would not hold). */
const SATURATED = 0.98;
/** Below this fraction of the target, the frame holds no usable signal. */
const NO_SIGNAL = 0.005;

/** The next step of the exposure search (pure): the test exposures so far in, the next one out. */
export function nextExposure(s: IterationState, startExposure: number): NextStep {
  const last = s.tries[s.tries.length - 1];
  const clamp = (t: number) => Math.min(s.maxExposure, Math.max(s.minExposure, t));
  if (!last) return { kind: 'expose', exposure: clamp(startExposure) };
  const pct = (v: number) => `${((100 * v) / s.range).toFixed(1)}%`;
  if (Math.abs(last.level - s.targetAdu) <= s.tolerance * s.targetAdu) return { kind: 'done', exposure: last.exposure, level: last.level };
  let next: number;
  if (last.level >= SATURATED * s.range) next = last.exposure / 4;
  else if (last.level <= NO_SIGNAL * s.targetAdu) next = last.exposure * 10;
  else next = (last.exposure * s.targetAdu) / last.level;
  next = clamp(next);
  const target = `target ${pct(s.targetAdu)} of the range`;
  if (next === last.exposure && last.level < s.targetAdu) return { kind: 'fail', reason: `the flat source is too dim: ${pct(last.level)} at the longest exposure ${last.exposure} s (${target})` };
  if (next === last.exposure) return { kind: 'fail', reason: `the flat source is too bright: ${pct(last.level)} at the shortest exposure ${last.exposure} s (${target})` };
  if (s.tries.length >= s.maxTries) return { kind: 'fail', reason: `no exposure within ${(100 * s.tolerance).toFixed(1)}% of the ${target} after ${s.tries.length} test exposures (last ${last.exposure} s: ${pct(last.level)})` };
  return { kind: 'expose', exposure: next };
}

// ---- I/O part ------------------------------------------------------------------------------

export type FlatWizardEvent =
  | { kind: 'bias'; level: number; range: number; limit: FlatRange['limit']; targetAdu: number }
  | { kind: 'filter'; filter: string; slot: string }
  | { kind: 'test'; filter: string; exposure: number; level: number; fraction: number }
  | { kind: 'found'; filter: string; exposure: number; level: number; fraction: number }
  | { kind: 'saved'; filter: string; type: 'flat' | 'flatdark'; path: string };

export interface FlatFilterResult {
  /** As given, and the wheel's name for it. */
  filter: string;
  slot?: string;
  exposure: number;
  /** Median above bias of the last test exposure, ADU, and as a fraction of the range. */
  level: number;
  fraction: number;
  tries: TestExposure[];
  flats: string[];
  flatDarks: string[];
}

export interface FlatWizardResult {
  bias: number;
  range: number;
  limit: FlatRange['limit'];
  targetAdu: number;
  filters: FlatFilterResult[];
}

export interface FlatWizardRig {
  camera: Camera;
  wheel?: FilterWheel;
  clock: Clock;
  outDir: string;
  onEvent?: (e: FlatWizardEvent) => void;
  /** Poll interval while waiting for an image, ms (default 100). */
  pollMs?: number;
}

/** The wheel slot of a filter given by name or a unique prefix of one (any casing). */
export function filterSlot(names: string[], filter: string): number {
  const f = filter.toLowerCase();
  const exact = names.findIndex((n) => n.toLowerCase() === f);
  if (exact >= 0) return exact;
  const pre = names.map((n, i) => [n, i] as const).filter(([n]) => n.toLowerCase().startsWith(f));
  if (pre.length === 1) return pre[0]![1];
  const why = pre.length ? `'${filter}' could be ${pre.map(([n]) => n).join(' or ')}` : `no filter '${filter}'`;
  throw new DarkroomError('BAD_ARGUMENT', `the filter wheel has ${why} (have: ${names.join(', ')})`);
}

/** Run the flat wizard: the bias level, then per filter the exposure search, the flats and the flat-darks. */
export async function runFlatWizard(rig: FlatWizardRig, options: Partial<FlatWizardOptions> = {}): Promise<FlatWizardResult> {
  const o: FlatWizardOptions = { ...FLAT_DEFAULTS, ...options };
  checkValues(FLAT_CATALOGUE, o as unknown as Record<string, unknown>);
  if (!(o.minExposure <= o.maxExposure)) throw new DarkroomError('BAD_ARGUMENT', `min exposure ${o.minExposure} s is above max exposure ${o.maxExposure} s`);
  const { camera, wheel } = rig;
  const filters = o.filters ?? [];
  if (filters.length && !wheel) throw new DarkroomError('BAD_ARGUMENT', 'filters were named but the camera has no filter wheel');
  const names = wheel ? await wheel.names() : [];
  const slots = filters.map((f) => filterSlot(names, f));
  if ((o.darks ?? o.count) > 0) await checkShutter(camera);
  await camera.setBinning(o.binning, o.binning);
  const bias = median((await expose(rig, 0, 'bias')).data[0]!);
  const info = await camera.sensorInfo();
  const r = flatRange(info, bias, o.binning, o.target);
  rig.onEvent?.({ kind: 'bias', level: bias, range: r.range, limit: r.limit, targetAdu: r.targetAdu });
  const out: FlatWizardResult = { bias, ...r, filters: [] };
  const seq = new Map<string, number>();
  for (let i = 0; i < Math.max(1, filters.length); i++) {
    const filter = filters[i] ?? '';
    const slot = filters.length ? names[slots[i]!] : undefined;
    if (wheel && slot !== undefined) {
      rig.onEvent?.({ kind: 'filter', filter, slot });
      if ((await wheel.position()) !== slots[i]) await wheel.move(slots[i]!);
    }
    out.filters.push(await oneFilter(rig, o, r, bias, filter, slot, seq));
  }
  return out;
}

/** The exposure search, the flats and the flat-darks of the filter in the beam. */
async function oneFilter(rig: FlatWizardRig, o: FlatWizardOptions, r: FlatRange, bias: number, filter: string, slot: string | undefined, seq: Map<string, number>): Promise<FlatFilterResult> {
  const state: IterationState = { targetAdu: r.targetAdu, range: r.range, tolerance: o.tolerance, minExposure: o.minExposure, maxExposure: o.maxExposure, maxTries: o.maxTries, tries: [] };
  let step = nextExposure(state, o.startExposure);
  while (step.kind === 'expose') {
    const level = median((await expose(rig, step.exposure, 'flat')).data[0]!) - bias;
    state.tries.push({ exposure: step.exposure, level });
    rig.onEvent?.({ kind: 'test', filter, exposure: step.exposure, level, fraction: level / r.range });
    step = nextExposure(state, o.startExposure);
  }
  if (step.kind === 'fail') throw new DarkroomError('IO', `flat wizard${filter ? `, filter ${filter}` : ''}: ${step.reason}`);
  const { exposure, level } = step;
  rig.onEvent?.({ kind: 'found', filter, exposure, level, fraction: level / r.range });
  const res: FlatFilterResult = { filter, ...(slot !== undefined ? { slot } : {}), exposure, level, fraction: level / r.range, tries: state.tries, flats: [], flatDarks: [] };
  const take = async (type: 'flat' | 'flatdark', n: number, base: string, list: string[]) => {
    for (let k = 0; k < n; k++) {
      const img = await expose(rig, exposure, type);
      const path = save(rig, o, img, { type, base, filter, exposure, seq });
      list.push(path);
      rig.onEvent?.({ kind: 'saved', filter, type, path });
    }
  };
  await take('flat', o.count, o.base, res.flats);
  await take('flatdark', o.darks ?? o.count, o.darkBase, res.flatDarks);
  return res;
}

/** With the electronic shutter nothing covers the sensor: flat-darks would see the panel. */
async function checkShutter(camera: Camera): Promise<void> {
  if (!camera.settingsState) return;
  const st = await camera.settingsState().catch((e: unknown) => {
    if (isDarkroomError(e) && e.code === 'UNSUPPORTED') return undefined;
    throw e;
  });
  if (st?.settings.shutterPriority === 'electronic') {
    throw new DarkroomError('BAD_ARGUMENT', 'the camera uses its electronic shutter: flat-darks would see the panel; set the shutter priority to mechanical, or take no flat-darks (--darks 0)');
  }
}

/** One exposure, polled on the clock. */
async function expose(rig: FlatWizardRig, duration: number, type: FrameKind): Promise<Image> {
  const { camera, clock } = rig;
  await camera.startExposure({ duration, type });
  const end = clock.now() + duration * 1000;
  while (!(await camera.imageReady())) {
    const left = end - clock.now();
    await clock.sleep(left > 0 ? Math.min(left, 1000) : (rig.pollMs ?? 100));
  }
  return camera.download();
}

function save(rig: FlatWizardRig, o: FlatWizardOptions, img: Image, f: { type: 'flat' | 'flatdark'; base: string; filter: string; exposure: number; seq: Map<string, number> }): string {
  const h = img.header;
  const dateObs = h.getString('DATE-OBS');
  const r = freeName(rig.outDir, o.pattern, {
    base: f.base,
    filter: h.getString('FILTER') ?? f.filter,
    suffix: f.filter,
    exposure: f.exposure,
    temp: h.getNumber('SET-TEMP') ?? h.getNumber('CCD-TEMP'),
    seq: f.seq.get(f.base) ?? 1,
    type: f.type,
    binning: o.binning,
    date: new Date(dateObs ? `${dateObs}Z` : rig.clock.now()),
  });
  f.seq.set(f.base, r.seq + 1);
  writeFits(r.path, img, {
    bitpix: isUint16(img) ? 16 : -32,
    history: [`darkroom ${VERSION} flat wizard: ${f.type} ${f.exposure} s bin ${o.binning}${f.filter ? ` filter ${f.filter}` : ''}, target ${(100 * o.target).toFixed(1)}% of the range`],
  });
  return r.path;
}

function isUint16(img: Image): boolean {
  for (const d of img.data) for (let i = 0; i < d.length; i++) {
    const v = d[i]!;
    if (!(v >= 0 && v <= 65535 && v === Math.round(v))) return false;
  }
  return true;
}
