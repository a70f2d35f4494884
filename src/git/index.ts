// The git layer's public surface. Nothing outside src/git spawns git.
export * from './exec.js';
export * from './repo.js';
export * from './cat-file.js';
export * from './local-objects.js';
export * from './objects.js';
export * from './refs.js';
export * from './source.js';
export * from './remote.js';
export * from './notes.js';
export * from './verify.js';
export * from './history.js';
export * from './pack.js';
