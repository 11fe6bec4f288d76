export * from './robust.js';
export * from './gain.js';
export * from './darkcurrent.js';
export * from './temperature.js';
export * from './ampglow.js';
export * from './checks.js';
export * from './plot.js';
