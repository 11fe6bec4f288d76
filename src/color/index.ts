export * from './cfa.js';
export * from './debayer.js';
export * from './bin.js';
export * from './channels.js';
export * from './raw.js';
