// The data layer for Node: everything in ./core.ts (browser-safe) plus the file loaders.

export * from './core.js';
export * from './files.js';
