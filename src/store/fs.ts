// Local files beside the ref (journals, run locks) need their folders. Node's
// recursive mkdir reports ENOENT when a read-only file system refuses a missing
// parent; asking level by level surfaces the real cause (EROFS, EACCES), which
// classifyFault turns into "the repository is read-only".
import { mkdirSync } from 'node:fs';
import path from 'node:path';

export function ensureDirSync(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    const parent = path.dirname(dir);
    if (parent === dir) throw e;
    ensureDirSync(parent);
    mkdirSync(dir);
  }
}
