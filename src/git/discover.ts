// Finding the repository without starting git, for the common layout: a work
// tree with a `.git` directory, owned by this user, found by walking up from
// the folder. Every one-shot command opens a repository, and asking
// `git rev-parse` costs a process start (~15-20 ms here, most of it a
// synchronous fork on the main thread). Anything this reader is not sure of
// returns null and git is asked: environment variables that steer discovery,
// symbolic links on the way, gitfiles (linked worktrees, submodules), bare
// repositories, filesystem boundaries, another owner (safe.directory), config
// that includes other files or moves the work tree, unknown repository
// formats. test/git/discover.test.ts holds it to `git rev-parse`'s answers.
import { lstatSync, readFileSync, realpathSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import type { ObjectFormat } from './objects.js';

/** The repository git would find, as openRepo describes it. */
export interface FoundRepo {
  root: string;
  commonDir: string;
  bare: false;
  objectFormat: ObjectFormat;
}

/** Variables that change where git looks, what it reads or whom it trusts: with any set, git is asked. */
const STEERING_ENV = [
  'GIT_DIR',
  'GIT_WORK_TREE',
  'GIT_COMMON_DIR',
  'GIT_CEILING_DIRECTORIES',
  'GIT_DISCOVERY_ACROSS_FILESYSTEM',
  'GIT_OBJECT_DIRECTORY',
  'GIT_ALTERNATE_OBJECT_DIRECTORIES',
  'GIT_CONFIG_PARAMETERS',
  'GIT_CONFIG_COUNT',
  'GIT_NAMESPACE',
  'GIT_TEST_ASSUME_DIFFERENT_OWNER',
];

const stat = (p: string, link = false): Stats | null => {
  try {
    return link ? lstatSync(p) : statSync(p);
  } catch {
    return null;
  }
};

/** A HEAD git accepts: a symbolic ref into refs/, or an object id. */
const HEAD_LINE = /^(?:ref: refs\/\S+|[0-9a-f]{40}|[0-9a-f]{64})\n?$/;

/** What git checks before it treats a folder as a git directory (HEAD, objects/, refs/). */
function isGitDir(dir: string): boolean {
  if (!stat(path.join(dir, 'objects'))?.isDirectory() || !stat(path.join(dir, 'refs'))?.isDirectory()) return false;
  try {
    return HEAD_LINE.test(readFileSync(path.join(dir, 'HEAD'), 'utf8'));
  } catch {
    return false;
  }
}

const FALSE = new Set(['false', 'no', 'off', '0', '']);

/**
 * What a repository's own config says about its layout and format, when the
 * file is plain enough to read with certainty; null otherwise.
 */
function layoutOf(configText: string): { objectFormat: ObjectFormat } | null {
  let section = '';
  const core = new Map<string, string | true>();
  const extensions = new Map<string, string | true>();
  for (const raw of configText.split('\n')) {
    // Quotes, escapes and continued lines: not read here.
    if (/["\\]/.test(raw)) return null;
    const line = raw.replace(/[#;].*$/, '').trim();
    if (line === '') continue;
    const header = /^\[([A-Za-z0-9.-]+)\]$/.exec(line);
    if (header) {
      section = header[1]!.toLowerCase();
      continue;
    }
    // Subsections ([remote "origin"], [includeIf "..."]) need quotes, refused above; [include] has none.
    if (line.startsWith('[')) return null;
    if (section === 'include') return null;
    const kv = /^([A-Za-z][A-Za-z0-9-]*)\s*(?:=\s*(.*))?$/.exec(line);
    if (!kv) return null;
    const key = kv[1]!.toLowerCase();
    // Booleans are case-insensitive to git; the object format's name is not.
    const value = kv[2] === undefined ? true : kv[2].trim();
    if (section === 'core') core.set(key, value);
    else if (section === 'extensions') extensions.set(key, value);
  }
  const version = core.get('repositoryformatversion') ?? '0';
  if (version !== '0' && version !== '1') return null;
  const bare = core.get('bare') ?? 'false';
  if (bare === true || !FALSE.has(bare.toLowerCase())) return null;
  if (core.has('worktree')) return null;
  // Format 0 ignores extensions; format 1 must know each one.
  if (version === '0') return extensions.size === 0 ? { objectFormat: 'sha1' } : null;
  for (const [key, value] of extensions) {
    if (key === 'objectformat') continue;
    // Extensions that leave the layout and object format alone.
    if (key === 'noop' || key === 'preciousobjects' || key === 'partialclone') continue;
    if (key === 'worktreeconfig' && value !== true && FALSE.has(value.toLowerCase())) continue;
    return null;
  }
  const format = extensions.get('objectformat') ?? 'sha1';
  return format === 'sha1' || format === 'sha256' ? { objectFormat: format } : null;
}

/**
 * The repository containing `cwd` as `git rev-parse` would find it, or null
 * when that needs git's own answer (see the file's comment).
 * @example discoverRepo('/home/me/project/src') // { root: '/home/me/project', commonDir: '/home/me/project/.git', ... }
 */
export function discoverRepo(cwd: string, env: NodeJS.ProcessEnv = process.env): FoundRepo | null {
  if (STEERING_ENV.some((k) => env[k] !== undefined)) return null;
  // Ownership is compared with the effective user; as root under sudo git compares with SUDO_UID.
  const uid = process.geteuid?.();
  if (uid === undefined || (uid === 0 && env.SUDO_UID !== undefined)) return null;
  let dir = path.resolve(cwd);
  try {
    // git walks the physical path; a path through a symbolic link is left to it.
    if (realpathSync(dir) !== dir) return null;
  } catch {
    return null;
  }
  const start = stat(dir);
  // git starts in a folder: a file given as one is an error git reports.
  if (!start?.isDirectory()) return null;
  const device = start.dev;
  for (;;) {
    const dotGit = path.join(dir, '.git');
    const found = stat(dotGit, true);
    if (found) {
      // A gitfile (linked worktree, submodule), a link, or a .git git would pass over: git decides.
      if (!found.isDirectory() || !isGitDir(dotGit) || stat(path.join(dotGit, 'commondir'))) return null;
      if (found.uid !== uid || stat(dir)?.uid !== uid) return null;
      let config: string;
      try {
        config = readFileSync(path.join(dotGit, 'config'), 'utf8');
      } catch {
        return null;
      }
      const layout = layoutOf(config);
      return layout && { root: dir, commonDir: dotGit, bare: false, objectFormat: layout.objectFormat };
    }
    // Inside what may be a git directory (a bare repository, or .git itself, whatever its HEAD says): git's rules apply.
    if (stat(path.join(dir, 'objects'))?.isDirectory() && stat(path.join(dir, 'refs'))?.isDirectory()) return null;
    const parent = path.dirname(dir);
    // The top, or a filesystem boundary git stops at.
    if (parent === dir || stat(parent)?.dev !== device) return null;
    dir = parent;
  }
}
