// mayHaveRefs lets a reader skip `git for-each-ref`: it may say "maybe" when
// there are none, never "none" when git would list one (loose or packed).
import { afterEach, describe, expect, it } from 'vitest';
import path from 'node:path';
import { listRefs, mayHaveRefs } from '../../src/git/index.js';
import { cleanupRepos, git, makeRepo } from '../helpers/repo.js';

afterEach(cleanupRepos);

const PREFIX = 'refs/agentv/incoming/';

describe('mayHaveRefs', () => {
  it('says no only when git lists none, for loose refs, packed refs and after a delete', async () => {
    const dir = makeRepo();
    const commonDir = path.join(dir, '.git');
    const agree = async () => {
      const listed = (await listRefs({ cwd: dir, prefix: PREFIX })).length > 0;
      if (listed) expect(mayHaveRefs({ commonDir, prefix: PREFIX })).toBe(true);
      return listed;
    };
    expect(await agree()).toBe(false);
    expect(mayHaveRefs({ commonDir, prefix: PREFIX })).toBe(false);
    git(dir, 'update-ref', `${PREFIX}host-1`, 'HEAD');
    expect(await agree()).toBe(true);
    git(dir, 'pack-refs', '--all');
    expect(await agree()).toBe(true);
    // An unrelated ref sharing the prefix's start is not one of them.
    git(dir, 'update-ref', '-d', `${PREFIX}host-1`);
    git(dir, 'update-ref', 'refs/agentv/incomingx', 'HEAD');
    git(dir, 'pack-refs', '--all');
    expect(await agree()).toBe(false);
    expect(mayHaveRefs({ commonDir, prefix: PREFIX })).toBe(false);
  });
});
