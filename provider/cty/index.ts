export * from './types.js';
export * from './values.js';
export * from './msgpack.js';
export * from './json.js';
