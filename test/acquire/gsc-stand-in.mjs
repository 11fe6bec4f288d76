#!/usr/bin/env node
// A stand-in for the GSC catalogue tool (`gsc -c RA DEC -r ARCMIN -m MINMAG MAXMAG -n COUNT`) that
// the INDI CCD simulator runs to draw its star field: Debian ships no GSC data, and without it the
// simulator's frames hold no stars. The sky is cut into Dec bands of CELL arcminutes, each band into
// RA cells about CELL arcminutes wide; every cell holds one star at a position and magnitude fixed by
// a hash of the cell, so the same sky gives the same stars and a mount that moves moves them. Prints
// the stars within the radius in gsc's twelve columns (id ra dec pos-err mag mag-err band class plate
// origin distance direction). Plain JavaScript: the simulator runs it through /bin/sh for each frame.
const CELL = 2.5 / 60; // degrees
const MIN_MAG = 5;
const MAG_RANGE = 4.5;

function arg(flag, k = 1) {
  const i = process.argv.indexOf(flag);
  return i < 0 ? NaN : Number(process.argv[i + k]);
}

/** Three numbers in [0, 1) from a cell's indices (a small integer hash). */
function hash3(j, i) {
  let h = (Math.imul(j + 1, 0x9e3779b1) ^ Math.imul(i + 7, 0x85ebca77)) >>> 0;
  const out = [];
  for (let k = 0; k < 3; k++) {
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
    h = Math.imul(h ^ (h >>> 12), 0x297a2d39) >>> 0;
    h = (h ^ (h >>> 15)) >>> 0;
    out.push(h / 2 ** 32);
  }
  return out;
}

const rad = Math.PI / 180;
function separationDeg(ra1, dec1, ra2, dec2) {
  const c = Math.sin(dec1 * rad) * Math.sin(dec2 * rad) + Math.cos(dec1 * rad) * Math.cos(dec2 * rad) * Math.cos((ra1 - ra2) * rad);
  return Math.acos(Math.min(1, Math.max(-1, c))) / rad;
}

const ra0 = arg('-c');
const dec0 = arg('-c', 2);
const radius = arg('-r') / 60;
const maxMag = Number.isFinite(arg('-m', 2)) ? arg('-m', 2) : 99;
const limit = Number.isFinite(arg('-n')) ? arg('-n') : 3000;
const bands = Math.round(180 / CELL);
const lines = [];
for (let j = Math.max(0, Math.floor((dec0 - radius + 90) / CELL)); j <= Math.min(bands - 1, Math.floor((dec0 + radius + 90) / CELL)); j++) {
  const mid = -90 + (j + 0.5) * CELL;
  const cells = Math.max(1, Math.floor((360 * Math.cos(mid * rad)) / CELL));
  const width = 360 / cells;
  for (let i = 0; i < cells; i++) {
    const [u, v, w] = hash3(j, i);
    const ra = (i + u) * width;
    const dec = -90 + (j + v) * CELL;
    const mag = MIN_MAG + MAG_RANGE * w;
    const dist = separationDeg(ra, dec, ra0, dec0);
    if (dist > radius || mag > maxMag) continue;
    const id = `S${String(j).padStart(4, '0')}${String(i).padStart(5, '0')}`;
    lines.push(`${id} ${ra.toFixed(6)} ${dec.toFixed(6)} 0.2 ${mag.toFixed(2)} 0.3 0 0 0001 00 ${(dist * 60).toFixed(3)} 0`);
    if (lines.length >= limit) break;
  }
  if (lines.length >= limit) break;
}
process.stdout.write(lines.length ? `${lines.join('\n')}\n` : '');
