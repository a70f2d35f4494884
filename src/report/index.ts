// Renderings of run and comparison documents for people and CI: Markdown,
// JUnit XML, CSV and the self-contained HTML report. Pure functions of the
// documents in src/schemas/; shared by the CLI and Studio's export route.
export * from './text.js';
export * from './junit.js';
export * from './markdown.js';
export * from './csv.js';
export * from './export.js';
export * from './html.js';
