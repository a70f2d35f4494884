// Loaded before every test file (vitest setupFiles): whatever a test started
// is killed when it ends, pass, fail or time out, and every temporary
// repository is removed when the file ends, so a failing test leaves nothing
// running and nothing in the temp folder.
import { afterAll, afterEach } from 'vitest';
import { killChildren, removeBundles } from './proc.js';
import { cleanupRepos } from './repo.js';

afterEach(() => {
  killChildren();
});

afterAll(() => {
  killChildren({ all: true });
  cleanupRepos();
  removeBundles();
});
