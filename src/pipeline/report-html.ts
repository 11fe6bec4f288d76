/** report.html: a self-contained page (no scripts) with the stacks, previews, masters and warnings. */
import type { Plan } from './plan.js';
import type { RunReport } from './report.js';

const esc = (s: unknown): string => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function renderReportHtml(r: RunReport, plan: Plan): string {
  const rows = (cells: unknown[][]): string => cells.map((c) => `<tr>${c.map((x) => `<td>${esc(x)}</td>`).join('')}</tr>`).join('\n');
  const stacks = r.stacks
    .map(
      (s) => `<section><h2>${esc(s.object)} ${esc(s.filter)}</h2>
<p><a href="${esc(s.path)}">${esc(s.path)}</a>: ${s.frames} frame(s), ${s.exposure_total_s} s${s.noise !== undefined ? `, noise ${esc(s.noise.toPrecision(4))} ADU` : ''}</p>
${s.preview ? `<img src="${esc(s.preview)}" alt="${esc(s.object)} ${esc(s.filter)}" style="max-width:100%">` : ''}
${s.rejected_frames.length ? `<h3>Rejected frames</h3><table>${rows(s.rejected_frames.map((f) => [f.path, f.reason]))}</table>` : ''}
</section>`,
    )
    .join('\n');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>Darkroom run: ${esc(plan.night)}</title>
<style>body{font-family:sans-serif;margin:2em;background:#111;color:#ddd}td,th{padding:2px 8px;border-bottom:1px solid #333}a{color:#8bf}</style></head>
<body><h1>Darkroom run</h1>
<p>Night ${esc(plan.night)}: ${plan.frames.found} frames, ${plan.frames.duplicates.length} duplicate(s), ${plan.frames.skipped.length} skipped. Total ${r.timing_s.total} s.</p>
${stacks}
<h2>Masters</h2><table><tr><th>path</th><th>kind</th><th>frames</th><th>exposure s</th><th>temperature C</th></tr>
${rows(r.masters.map((m) => [m.path, m.kind, m.frames, m.exposure, m.temperature ?? '']))}</table>
<h2>Light groups</h2><table><tr><th>group</th><th>frames</th><th>dark</th><th>bias</th><th>flat</th><th>why</th></tr>
${rows(plan.groups.lights.map((l) => [l.id, l.frames, l.dark ? `${l.dark} (${l.darkMode})` : '', l.bias ?? '', l.flat ?? '', l.reasons.join('; ')]))}</table>
<h2>Warnings</h2><ul>${r.warnings.map((w) => `<li>${esc(w)}</li>`).join('\n')}</ul>
<h2>Steps</h2><table>${rows(r.steps.map((s) => [s.id, s.status, s.seconds.toFixed(2)]))}</table>
</body></html>
`;
}
