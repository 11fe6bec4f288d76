/**
 * The summary stages of a plan: frame counts, groups, structured warnings (each with a code) and
 * the strict check, which decides by warning code.
 */
import type { ScanResult } from '../session/scan.js';
import { unknownKindWarning } from '../session/group.js';
import { DarkroomError } from '../util/errors.js';
import type { WarningCode, WarningEvent } from '../util/warnings.js';
import type { PlanGrouping } from './plan-scan.js';
import type { PlanFrames, PlanGroups } from './plan.js';

export function planFrames(scan: ScanResult): PlanFrames {
  const byKind: Record<string, number> = {};
  for (const f of scan.unique) byKind[f.kind ?? 'unknown'] = (byKind[f.kind ?? 'unknown'] ?? 0) + 1;
  return {
    found: scan.frames.length,
    unique: scan.unique.length,
    byKind,
    duplicates: scan.duplicates,
    skipped: scan.skipped,
    ignored: scan.ignored,
    excluded: scan.excluded,
    reclassified: scan.unique.filter((f) => f.kindNote).map((f) => ({ path: f.rel, kind: f.kind ?? null, header: f.headerKind ?? null, note: f.kindNote! })),
  };
}

export function planGroups(grouping: PlanGrouping): PlanGroups {
  return {
    calibration: grouping.calibration.map((g) => ({ id: g.id, kind: g.kind, frames: g.frames.length, exposure: g.exposure, temperature: g.temperature, binning: `${g.binning.x}x${g.binning.y}`, filter: g.filter, used: grouping.used.has(g.id), library: g.library, standIn: grouping.flatCalibration.find((fc) => fc.flat === g.id)?.bias?.standIn })),
    lights: grouping.lights.map((lg) => {
      const m = grouping.matches.find((x) => x.light === lg.id)!;
      return { id: lg.id, target: lg.target, filter: lg.filter, exposure: lg.exposure, temperature: lg.temperature, binning: `${lg.binning.x}x${lg.binning.y}`, frames: lg.frames.length, cfa: lg.cfa, dark: m.dark?.group, darkMode: m.dark?.mode, bias: m.bias?.group, flat: m.flat?.group, standIn: m.bias?.standIn, reasons: m.reasons };
    }),
  };
}

/** The plan's warnings, in order: calibration the lights and flats lack, then what was done with the night's files. */
export function planWarnings(scan: ScanResult, grouping: PlanGrouping): WarningEvent[] {
  const ws: WarningEvent[] = [];
  const add = (code: WarningCode, message: string, extra: Partial<WarningEvent> = {}): void => void ws.push({ code, message, ...extra });
  // Every warning of the master matching is about missing (or unsuitable) calibration.
  // (case 5, nothing removes a light group's pedestal, has its own code)
  for (const m of grouping.matches) for (const w of m.warnings) add(w === m.pedestalNotRemoved ? 'PEDESTAL_NOT_REMOVED' : 'MISSING_CALIBRATION', w);
  for (const fc of grouping.flatCalibration) for (const w of fc.warnings) add('MISSING_CALIBRATION', w);
  const unknown = unknownKindWarning(scan.unique);
  if (unknown) add('UNKNOWN_KIND', unknown, { count: scan.unique.filter((f) => !f.kind).length });
  if (scan.excluded.length) add('EXCLUDED_FILES', `left out by exclusion rules: ${scan.excluded.map((x) => `${x.path} (${x.rule})`).join(', ')}`, { count: scan.excluded.length });
  if (scan.skipped.length) add('SKIPPED_FILES', `${scan.skipped.length} file(s) skipped (not readable as FITS images): ${scan.skipped.map((s) => s.path).join(', ')}`, { count: scan.skipped.length });
  if (scan.duplicates.length) add('DUPLICATES', `${scan.duplicates.length} duplicate frame(s) (same pixel data) used once: ${scan.duplicates.map((d) => `${d.path} = ${d.of}`).join(', ')}`, { count: scan.duplicates.length });
  for (const f of scan.unique) if (f.kindNote && f.headerKind && f.kind !== f.headerKind) add('RECLASSIFIED', f.kindNote, { file: f.rel });
  if (grouping.lights.length === 0) add('NO_LIGHTS', 'no light frames found');
  const unused = grouping.calibration.filter((g) => !grouping.used.has(g.id) && !g.library);
  if (unused.length) add('UNUSED_CALIBRATION', `calibration group(s) not used by any light: ${unused.map((g) => g.id).join(', ')}`, { count: unused.length });
  return ws;
}

/** The warning codes `--strict` refuses: calibration a group lacks, and lights whose pedestal nothing removes. */
export const STRICT_CODES: readonly WarningCode[] = ['MISSING_CALIBRATION', 'PEDESTAL_NOT_REMOVED'];

/** Strict runs: missing calibration is an error naming what is missing. */
export function checkStrict(warnings: WarningEvent[], night: string): void {
  const missing = warnings.filter((w) => STRICT_CODES.includes(w.code)).map((w) => w.message);
  // The option's name is part of the message that tests and users know ("missing calibration (--strict)").
  if (missing.length) throw new DarkroomError('TOO_FEW', `missing calibration (--strict): ${missing.join('; ')}`, night);
}
