export * from './sensors.js';
export * from './camera.js';
export * from './session.js';
export * from './stars.js';
