// The results store's public surface.
export * from './layout.js';
export * from './store.js';
export * from './journal.js';
export * from './owner.js';
export * from './run-index.js';
export * from './runs.js';
export * from './tally.js';
export * from './lifecycle.js';
export * from './writer.js';
export * from './recover.js';
export * from './queries.js';
export * from './results-page.js';
export * from './reindex.js';
export * from './merge.js';
export * from './remote.js';
export * from './config.js';
export * from './link.js';
