/** The plan as readable text tables (for `darkroom run --dry-run`). */
import type { Plan } from './plan.js';
import { fmtNum } from '../session/group.js';

function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string => r.map((c, i) => (c ?? '').padEnd(w[i]!)).join('  ').trimEnd();
  return [line(head), line(w.map((n) => '-'.repeat(n))), ...rows.map(line)].join('\n');
}

export function formatPlan(plan: Plan): string {
  const out: string[] = [];
  const f = plan.frames;
  out.push(`Night ${plan.night} -> ${plan.out}`);
  out.push(`Frames: ${f.found} found, ${f.unique} unique (${Object.entries(f.byKind).map(([k, n]) => `${k} ${n}`).join(', ')}), ${f.duplicates.length} duplicate(s), ${f.skipped.length} skipped${f.ignored.length ? `, ${f.ignored.length} non-FITS file(s) ignored (${f.ignored.slice(0, 5).join(', ')}${f.ignored.length > 5 ? ', ...' : ''})` : ''}`);
  if (f.skipped.length) {
    out.push('', 'Skipped files:');
    for (const s of f.skipped) out.push(`  ${s.path}: ${s.reason}`);
  }
  if (f.duplicates.length) {
    out.push('', 'Duplicates (same pixel data, used once):');
    for (const d of f.duplicates) out.push(`  ${d.path} = ${d.of}`);
  }
  if (f.reclassified.length) {
    out.push('', 'Classification notes:');
    for (const r of f.reclassified) out.push(`  ${r.path}: ${r.note}`);
  }
  out.push('', 'Targets:');
  out.push(
    table(
      ['target', 'frames', 'RA', 'Dec', 'notes'],
      plan.targets.map((t) => [t.name, String(t.frames), t.ra === undefined ? '-' : fmtNum(t.ra, 3), t.dec === undefined ? '-' : fmtNum(t.dec, 3), t.notes.join('; ')]),
    ),
  );
  out.push('', 'Calibration groups:');
  out.push(
    table(
      ['group', 'kind', 'frames', 'exp s', 'temp C', 'bin', 'filter', 'used'],
      plan.groups.calibration.map((g) => [g.id, g.kind, String(g.frames), fmtNum(g.exposure), g.temperature === undefined ? '-' : fmtNum(g.temperature, 1), g.binning, g.filter ?? '-', g.used ? (g.library ? 'yes (library)' : 'yes') : 'no']),
    ),
  );
  out.push('', 'Light groups and their masters:');
  out.push(
    table(
      ['light group', 'frames', 'exp s', 'temp C', 'dark', 'bias', 'flat'],
      plan.groups.lights.map((l) => [l.id, String(l.frames), fmtNum(l.exposure), l.temperature === undefined ? '-' : fmtNum(l.temperature, 1), l.dark ? `${l.dark} (${l.darkMode})` : '-', l.bias ?? '-', l.flat ?? '-']),
    ),
  );
  for (const l of plan.groups.lights) if (l.reasons.length) out.push(`  ${l.id}: ${l.reasons.join('; ')}`);
  out.push('', 'Steps:');
  out.push(table(['step', 'kind', 'in', 'out', 'reason'], plan.steps.map((s) => [s.id, s.kind, String(s.inputs.length), String(s.outputs.length), s.reason])));
  out.push('', 'Stacks:');
  for (const s of plan.stacks) out.push(`  ${s.path}: ${s.object} ${s.filter}, ${s.frames} frame(s), ${fmtNum(s.exposure_total_s, 1)} s`);
  if (plan.warnings.length) {
    out.push('', 'Warnings:');
    for (const w of plan.warnings) out.push(`  ! ${w}`);
  }
  return `${out.join('\n')}\n`;
}
