export * from './header.js';
export * from './reader.js';
export * from './writer.js';
export * from './validate.js';
