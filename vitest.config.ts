import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Limits are generous on purpose: tests wait for conditions, never for time,
    // and a busy 2-core machine may run one test many times slower than a quiet one.
    testTimeout: 600_000,
    hookTimeout: 600_000,
    // expect.poll waits for a condition; its 1 s default is a speed assumption a loaded machine breaks.
    expect: { poll: { timeout: 120_000, interval: 100 } },
    // Kills what a test started and removes temp repositories, pass or fail.
    setupFiles: ['test/helpers/setup.ts'],
    // Tests spawn git and child processes; two cores do not gain from more.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    projects: [
      { extends: true, test: { name: 'default', include: ['test/**/*.test.ts'] } },
      // The store tests again, in SHA-256 repositories (test/helpers/repo.ts makeRepo).
      {
        extends: true,
        test: { name: 'sha256', include: ['test/store/**/*.test.ts'], env: { AGENTV_TEST_OBJECT_FORMAT: 'sha256' } },
      },
    ],
  },
  define: { __AGENTV_VERSION__: JSON.stringify('0.0.0-test') },
});
