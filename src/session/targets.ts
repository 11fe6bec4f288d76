/**
 * Targets of the lights of a night. OBJECT names the target when present and consistent; lights
 * are also grouped by sky position (pointings within `radiusDeg`, single linkage), and a group is
 * named by its most common OBJECT, so frames with a missing or differing OBJECT at the same
 * pointing join their target. Lights with neither a usable OBJECT nor coordinates go to "unknown".
 * An OBJECT that names a session rather than a target (a date/time token, or one value over
 * pointings more than SESSION_SPREAD_DEG apart) gives way to the catalogue-like target that the
 * folders and file names agree on (`SN2022yid/L/SN2022yid_001.fits`); the OBJECT stays in
 * `objects`, `sessionObject` and a note.
 */
import type { Frame } from './scan.js';
import { separationDeg } from './coords.js';
import { dateToken, isCatalogueName, pathTarget } from './session-name.js';

export interface Target {
  name: string;
  /** Safe for file names: letters, digits, '-', '_'. */
  slug: string;
  frames: Frame[];
  ra?: number;
  dec?: number;
  /** OBJECT values seen in the group, with counts. */
  objects: Record<string, number>;
  /** The OBJECT that looked like a session name, when the target is named after its folders and files instead. */
  sessionObject?: string;
  notes: string[];
}

/** Pointings of one OBJECT further apart than this (deg) make it a session name. */
export const SESSION_SPREAD_DEG = 1;

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

/** Single-linkage clusters of pointings closer than `radiusDeg` (union-find). */
function clusterByPosition(withPos: Frame[], radiusDeg: number): Frame[][] {
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
    clusters.set(r, [...(clusters.get(r) ?? []), f]);
  });
  return [...clusters.values()];
}

/** Mean pointing (unit vectors, safe across RA 0/360). */
function meanPointing(frames: Frame[]): { ra: number; dec: number } {
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
  return { ra, dec };
}

function positionalTarget(frames: Frame[], radiusDeg: number): Target {
  const counts = new Map<string, number>();
  for (const f of frames) if (f.meta.object) counts.set(f.meta.object, (counts.get(f.meta.object) ?? 0) + 1);
  const { ra, dec } = meanPointing(frames);
  const name = mostCommon(counts) ?? fieldName(ra, dec);
  const notes: string[] = [];
  const missing = frames.filter((f) => !f.meta.object).length;
  if (counts.size > 1) {
    notes.push(`OBJECT differs at the same pointing (${[...counts].map(([k, n]) => `${k}: ${n}`).join(', ')}): named ${name}, the most common`);
  }
  if (missing > 0 && counts.size > 0) notes.push(`${missing} light(s) without OBJECT joined ${name} by sky position (within ${radiusDeg} deg)`);
  if (counts.size === 0) notes.push(`no OBJECT in the headers: named by position`);
  return { name, slug: slugify(name), frames, ra, dec, objects: Object.fromEntries(counts), notes };
}

/** Largest separation (deg) between the pointings of the targets that carry each OBJECT value. */
export function objectSpread(targets: Target[]): Map<string, number> {
  const at = new Map<string, Array<{ ra: number; dec: number }>>();
  for (const t of targets) {
    if (t.ra === undefined || t.dec === undefined) continue;
    for (const o of Object.keys(t.objects)) at.set(o, [...(at.get(o) ?? []), { ra: t.ra, dec: t.dec }]);
  }
  const out = new Map<string, number>();
  for (const [o, ps] of at) {
    let max = 0;
    for (let i = 0; i < ps.length; i++) for (let j = i + 1; j < ps.length; j++) max = Math.max(max, separationDeg(ps[i]!.ra, ps[i]!.dec, ps[j]!.ra, ps[j]!.dec));
    out.set(o, max);
  }
  return out;
}

/**
 * Why an OBJECT value looks like a session name rather than a target, or undefined: a date or
 * time token, or use at pointings more than SESSION_SPREAD_DEG apart (`spreadDeg`). A
 * catalogue-like OBJECT ("M 31", "NGC 7000") is a target whatever its spread (mosaic panels).
 */
export function sessionReason(object: string, spreadDeg?: number): string | undefined {
  if (isCatalogueName(object)) return undefined;
  const token = dateToken(object);
  if (token !== undefined) return `it holds the date/time token '${token}'`;
  if (spreadDeg !== undefined && spreadDeg > SESSION_SPREAD_DEG) return `the same OBJECT is used at pointings ${spreadDeg.toFixed(1)} deg apart`;
  return undefined;
}

/**
 * The catalogue-like target the frames' folders and file names agree on: one target for at
 * least half of the frames and no other. `conflict` lists the targets when several are found.
 */
export function agreedPathTarget(frames: Frame[]): { name?: string; conflict?: string[] } {
  const counts = new Map<string, number>();
  for (const f of frames) {
    const t = pathTarget(f.path);
    if (t !== undefined) counts.set(t, (counts.get(t) ?? 0) + 1);
  }
  if (counts.size > 1) return { conflict: [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([k, n]) => `${k}: ${n}`) };
  const [only] = [...counts];
  return only && 2 * only[1] >= frames.length ? { name: only[0] } : {};
}

/** Rename a target whose name is a session-like OBJECT after its folders and files (notes say why). */
function applySessionRule(t: Target, spread: Map<string, number>): void {
  const object = t.name;
  if (!(object in t.objects)) return;
  const reason = sessionReason(object, spread.get(object));
  if (reason === undefined) return;
  const found = agreedPathTarget(t.frames);
  const what = `OBJECT '${object}' looks like a session name (${reason})`;
  if (found.name !== undefined) {
    t.notes.push(`${what}: the stack is named after the target its folders and file names agree on, ${found.name}`);
    t.sessionObject = object;
    t.name = found.name;
    t.slug = slugify(found.name);
  } else if (found.conflict) {
    t.notes.push(`${what}, but its folders and file names name several targets (${found.conflict.join(', ')}): named ${object}`);
  } else {
    t.notes.push(`${what}, but no folder and file name agree on a catalogue target: named ${object}`);
  }
}

/** Lights without coordinates: by OBJECT (or the folder/file target of a session-like OBJECT), joining a positional target of the same name. */
function addUnpositioned(targets: Target[], noPos: Frame[], spread: Map<string, number>): void {
  const byName = new Map<string, { frames: Frame[]; objects: Record<string, number>; session?: string; reason?: string }>();
  for (const f of noPos) {
    const obj = f.meta.object ?? '';
    const reason = obj === '' ? undefined : sessionReason(obj, spread.get(obj));
    const folder = reason !== undefined ? pathTarget(f.path) : undefined;
    const name = folder ?? (obj === '' ? 'unknown' : obj);
    const g = byName.get(name) ?? { frames: [], objects: {} };
    g.frames.push(f);
    if (obj !== '') g.objects[obj] = (g.objects[obj] ?? 0) + 1;
    if (folder !== undefined) [g.session, g.reason] = [obj, reason];
    byName.set(name, g);
  }
  for (const [name, g] of byName) {
    const note = g.session !== undefined ? `OBJECT '${g.session}' looks like a session name (${g.reason}): ${g.frames.length} light(s) without coordinates named after the target their folders and file names agree on, ${name}` : undefined;
    const same = targets.filter((t) => t.name === name);
    if (same.length === 1) {
      const t = same[0]!;
      t.frames.push(...g.frames);
      for (const [o, n] of Object.entries(g.objects)) t.objects[o] = (t.objects[o] ?? 0) + n;
      if (note !== undefined) t.notes.push(note);
      continue;
    }
    const notes = name === 'unknown' && Object.keys(g.objects).length === 0 ? [`${g.frames.length} light(s) with no OBJECT and no coordinates`] : [];
    if (note !== undefined) notes.push(note);
    targets.push({ name, slug: slugify(name), frames: g.frames, objects: g.objects, ...(g.session !== undefined ? { sessionObject: g.session } : {}), notes });
  }
}

/** Same name at different pointings (mosaic panels, a reused OBJECT): keep apart, number them. */
function numberDuplicates(targets: Target[], radiusDeg: number): void {
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
}

export function groupTargets(lights: Frame[], radiusDeg = 0.5): Target[] {
  const withPos = lights.filter((f) => f.ra !== undefined && f.dec !== undefined);
  const noPos = lights.filter((f) => f.ra === undefined || f.dec === undefined);
  const targets = clusterByPosition(withPos, radiusDeg).map((frames) => positionalTarget(frames, radiusDeg));
  const spread = objectSpread(targets);
  for (const t of targets) applySessionRule(t, spread);
  addUnpositioned(targets, noPos, spread);
  numberDuplicates(targets, radiusDeg);
  for (const t of targets) t.frames.sort((a, b) => a.rel.localeCompare(b.rel));
  return targets.sort((a, b) => a.name.localeCompare(b.name));
}
