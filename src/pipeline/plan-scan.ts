/**
 * The first stages of a plan: scan the night (with the scan cache of OUT), then group its frames
 * and match each light group to its masters, filling what the night lacks from the master library.
 */
import { dirname, join, resolve } from 'node:path';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { emptyScanCache, scanNight, type ScanCache, type ScanResult } from '../session/scan.js';
import { groupNight, groupCalibration, matchLight, matchFlat, type CalGroup, type Grouping } from '../session/group.js';
import { readFitsHeader } from '../fits/reader.js';
import { writeFileAtomic } from '../util/atomic.js';
import { checkRunPaths } from './safety.js';
import { loadManifest } from './manifest.js';
import type { RunOptions } from './plan.js';

export interface PlanContext {
  /** An existing scan of the night (skips scanning). */
  scan?: ScanResult;
  /** Reuse OUT/.darkroom/scan-cache.json for unchanged files (default true). */
  useCache?: boolean;
  /**
   * Write the updated scan cache (default false: a dry run leaves OUT untouched). A plan for a run:
   * the folders are checked first (see checkRunPaths), before anything is scanned or written.
   */
  saveCache?: boolean;
  /** Scan progress (files done, total). */
  onFile?: (done: number, total: number, path: string) => void;
}

/** Calibration groups plus masters found in the library (as single-frame groups marked with their path). */
export interface LibGroup extends CalGroup {
  library?: string;
  ncombine?: number;
}

/** The grouping of a night, its calibration groups possibly from the library. */
export interface PlanGrouping extends Grouping {
  calibration: LibGroup[];
}

export function scanCachePath(out: string): string {
  return join(resolve(out), '.darkroom', 'scan-cache.json');
}

function loadScanCache(out: string): ScanCache {
  const p = scanCachePath(out);
  try {
    const c = JSON.parse(readFileSync(p, 'utf8')) as ScanCache;
    if (c && c.version === 1 && c.entries && typeof c.entries === 'object') return c;
  } catch {
    // no cache or unreadable: scan everything
  }
  return emptyScanCache();
}

function saveScanCache(out: string, cache: ScanCache): void {
  // Keep only entries of files that still exist under this night (and any other nights' entries).
  for (const k of Object.keys(cache.entries)) if (!existsSync(k)) delete cache.entries[k];
  mkdirSync(dirname(scanCachePath(out)), { recursive: true });
  writeFileAtomic(scanCachePath(out), [Buffer.from(JSON.stringify(cache))]);
}

/** Scan stage: the night's frames (refusing unsafe folders first when the plan is for a run). */
export function scanStage(nightIn: string, outIn: string, options: RunOptions, ctx: PlanContext): ScanResult {
  const night = resolve(nightIn);
  const out = resolve(outIn);
  if (ctx.saveCache) checkRunPaths(nightIn, outIn, { library: options.library });
  if (ctx.scan) return ctx.scan;
  const cache = ctx.useCache === false || options.force ? emptyScanCache() : loadScanCache(out);
  // Never scan OUT's own products: OUT itself (when a dry run puts it in the night) and the files Darkroom recorded there.
  const exclude = [out, ...Object.keys(loadManifest(out).files).map((f) => join(out, f))];
  const scan = scanNight(night, { cache, onFile: ctx.onFile, exclude, ignore: options.exclude });
  if (ctx.saveCache) saveScanCache(out, cache);
  return scan;
}

function libraryGroups(library: string): LibGroup[] {
  if (!existsSync(library)) return [];
  // Library masters are Darkroom's own: the header kind is trusted over the pixel check (a master
  // flat normalized to 1 looks unexposed); the pixel levels still serve the dark-vs-bias check.
  const scan = scanNight(library, { hash: false, pixels: true });
  const out: LibGroup[] = [];
  for (const f of scan.frames) {
    if (f.headerKind) f.kind = f.meta.kind = f.headerKind;
    if (!f.kind || f.kind === 'light') continue;
    // A single library master grouped alone gives its key; it stands for NCOMBINE frames.
    const [g] = groupCalibration([f]);
    if (!g) continue;
    const n = readFitsHeader(f.path).header.getNumber('NCOMBINE');
    out.push({ ...g, library: f.path, id: `lib_${g.key}`, ncombine: n });
  }
  return out;
}

/** Match the lights (and the flats) again against calibration groups that include the library's. */
function rematch(grouping: PlanGrouping, cal: LibGroup[]): void {
  grouping.calibration = cal;
  grouping.matches = grouping.lights.map((lg) => matchLight(lg, cal));
  grouping.used = new Set();
  for (const m of grouping.matches) for (const c of [m.dark, m.bias, m.flat]) if (c) grouping.used.add(c.group);
  grouping.flatCalibration = cal.filter((g) => g.kind === 'flat' && grouping.used.has(g.id) && !g.library).map((g) => matchFlat(g, cal));
  for (const fc of grouping.flatCalibration) for (const c of [fc.flatdark, fc.dark, fc.bias]) if (c) grouping.used.add(c.group);
}

/** Group stage: targets, light and calibration groups, each light group matched to its masters. */
export function groupStage(scan: ScanResult, options: RunOptions): PlanGrouping {
  const grouping: PlanGrouping = groupNight(scan.unique);
  // Masters from the library fill what the night lacks (same key => the night's frames win).
  if (options.library) {
    const lib = libraryGroups(resolve(options.library)).filter((l) => !grouping.calibration.some((g) => g.key === l.key));
    if (lib.length) rematch(grouping, [...grouping.calibration, ...lib]);
  }
  return grouping;
}
