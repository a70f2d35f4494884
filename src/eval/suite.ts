// The suite loader's public surface. The work is in src/eval/suite/: one YAML-with-limits
// reader, one module per dialect (agentv's own files, promptfoo configs, agentv eval
// files), tests files, prompt files and ids, all feeding one internal model (model.ts).
export { loadSuite } from './suite/load.js';
export { deriveTestId } from './suite/ids.js';
export { checkTemplate, promptToText, renderTemplate } from './template.js';
