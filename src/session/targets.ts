/**
 * Targets of the lights of a night. OBJECT names the target when present and consistent; lights
 * are also grouped by sky position (pointings within `radiusDeg`, single linkage), and a group is
 * named by its most common OBJECT, so frames with a missing or differing OBJECT at the same
 * pointing join their target. Lights with neither a usable OBJECT nor coordinates go to "unknown".
 */
import type { Frame } from './scan.js';
import { separationDeg } from './coords.js';

export interface Target {
  name: string;
  /** Safe for file names: letters, digits, '-', '_'. */
  slug: string;
  frames: Frame[];
  ra?: number;
  dec?: number;
  /** OBJECT values seen in the group, with counts. */
  objects: Record<string, number>;
  notes: string[];
}

export function slugify(s: string): string {
  const t = s.trim().replace(/[^A-Za-z0-9_-]+/g, '_').replace(/^_+|_+$/g, '');
  return t === '' ? 'unknown' : t;
}

function mostCommon(counts: Map<string, number>): string | undefined {
  let best: string | undefined;
  let bn = 0;
  for (const [k, n] of [...counts].sort((a, b) => a[0].localeCompare(b[0]))) {
    if (n > bn) {
      best = k;
      bn = n;
    }
  }
  return best;
}

function fieldName(ra: number, dec: number): string {
  const h = ra / 15;
  const hh = Math.floor(h);
  const mm = Math.floor((h - hh) * 60);
  const sign = dec < 0 ? '-' : '+';
  const d = Math.abs(dec);
  const dd = Math.floor(d);
  const dm = Math.floor((d - dd) * 60);
  const p2 = (n: number): string => String(n).padStart(2, '0');
  return `field_${p2(hh)}h${p2(mm)}${sign}${p2(dd)}d${p2(dm)}`;
}

export function groupTargets(lights: Frame[], radiusDeg = 0.5): Target[] {
  const withPos = lights.filter((f) => f.ra !== undefined && f.dec !== undefined);
  const noPos = lights.filter((f) => f.ra === undefined || f.dec === undefined);
  // Union-find over pointings closer than the radius.
  const parent = withPos.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]!]!;
      i = parent[i]!;
    }
    return i;
  };
  for (let i = 0; i < withPos.length; i++) {
    for (let j = i + 1; j < withPos.length; j++) {
      const a = withPos[i]!;
      const b = withPos[j]!;
      if (Math.abs(a.dec! - b.dec!) > radiusDeg) continue;
      if (separationDeg(a.ra!, a.dec!, b.ra!, b.dec!) <= radiusDeg) {
        const ri = find(i);
        const rj = find(j);
        if (ri !== rj) parent[Math.max(ri, rj)] = Math.min(ri, rj);
      }
    }
  }
  const clusters = new Map<number, Frame[]>();
  withPos.forEach((f, i) => {
    const r = find(i);
    const list = clusters.get(r) ?? [];
    list.push(f);
    clusters.set(r, list);
  });
  const targets: Target[] = [];
  for (const frames of clusters.values()) {
    const counts = new Map<string, number>();
    for (const f of frames) if (f.meta.object) counts.set(f.meta.object, (counts.get(f.meta.object) ?? 0) + 1);
    // Mean pointing (unit vectors, safe across RA 0/360).
    let x = 0, y = 0, z = 0;
    for (const f of frames) {
      const ra = (f.ra! * Math.PI) / 180;
      const de = (f.dec! * Math.PI) / 180;
      x += Math.cos(de) * Math.cos(ra);
      y += Math.cos(de) * Math.sin(ra);
      z += Math.sin(de);
    }
    const ra = ((((Math.atan2(y, x) * 180) / Math.PI) % 360) + 360) % 360;
    const dec = (Math.atan2(z, Math.hypot(x, y)) * 180) / Math.PI;
    const name = mostCommon(counts) ?? fieldName(ra, dec);
    const notes: string[] = [];
    const missing = frames.filter((f) => !f.meta.object).length;
    if (counts.size > 1) {
      notes.push(`OBJECT differs at the same pointing (${[...counts].map(([k, n]) => `${k}: ${n}`).join(', ')}): named ${name}, the most common`);
    }
    if (missing > 0 && counts.size > 0) notes.push(`${missing} light(s) without OBJECT joined ${name} by sky position (within ${radiusDeg} deg)`);
    if (counts.size === 0) notes.push(`no OBJECT in the headers: named by position`);
    targets.push({ name, slug: slugify(name), frames, ra, dec, objects: Object.fromEntries(counts), notes });
  }
  // Lights without coordinates: by OBJECT, joining a positional target of the same name.
  const byObject = new Map<string, Frame[]>();
  for (const f of noPos) {
    const k = f.meta.object ?? '';
    const list = byObject.get(k) ?? [];
    list.push(f);
    byObject.set(k, list);
  }
  for (const [obj, frames] of byObject) {
    const name = obj === '' ? 'unknown' : obj;
    const same = targets.filter((t) => t.name === name);
    if (same.length === 1) {
      same[0]!.frames.push(...frames);
      same[0]!.objects[name] = (same[0]!.objects[name] ?? 0) + frames.length;
      continue;
    }
    const notes = obj === '' ? [`${frames.length} light(s) with no OBJECT and no coordinates`] : [];
    targets.push({ name, slug: slugify(name), frames, objects: obj === '' ? {} : { [obj]: frames.length }, notes });
  }
  // Same name at different pointings (mosaic panels, a reused OBJECT): keep apart, number them.
  const byName = new Map<string, Target[]>();
  for (const t of targets) byName.set(t.name, [...(byName.get(t.name) ?? []), t]);
  for (const [name, list] of byName) {
    if (list.length < 2) continue;
    list.sort((a, b) => b.frames.length - a.frames.length);
    list.forEach((t, i) => {
      if (i === 0) return;
      t.name = `${name} (${i + 1})`;
      t.slug = `${slugify(name)}_${i + 1}`;
      t.notes.push(`OBJECT ${name} is also used at another pointing more than ${radiusDeg} deg away: kept apart as ${t.name}`);
    });
  }
  for (const t of targets) t.frames.sort((a, b) => a.rel.localeCompare(b.rel));
  return targets.sort((a, b) => a.name.localeCompare(b.name));
}
