export * from './overscan.js';
export * from './darkopt.js';
export * from './light.js';
export * from './cosmetic.js';
export * from './masters.js';
