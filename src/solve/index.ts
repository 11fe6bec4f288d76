export * from './wcs.js';
export * from './options.js';
export * from './hints.js';
export * from './engine.js';
