// Every error agentv raises on purpose carries a stable `code` and structured
// `data`. One table maps a code to a CLI exit code and an HTTP status; tests
// assert on codes, never on message text.

export type ErrorCode =
  | 'USAGE'
  | 'CONFIG'
  | 'SUITE_INVALID'
  | 'TARGETS_INVALID'
  | 'NOT_A_REPO'
  | 'RUN_NOT_FOUND'
  | 'SUITE_NOT_FOUND'
  | 'TARGET_NOT_FOUND'
  | 'RUN_LIVE'
  | 'RUN_COMPLETE'
  | 'INPUT_CHANGED'
  | 'RUN_LOCKED'
  | 'CORRUPT'
  | 'GIT'
  | 'CAS_EXHAUSTED'
  | 'REMOTE'
  | 'FORBIDDEN'
  | 'INTERNAL'
  | 'GIT_NOT_FOUND'
  | 'REPO_UNSAFE'
  | 'REF_LOCKED'
  | 'REPO_UNWRITABLE'
  | 'DISK_FULL'
  | 'RUNNER_FAILED';

/**
 * `expose`: a 5xx whose message is safe and useful to show (it names objects on
 * the ref, never a path of the machine), so Studio says what is damaged
 * instead of a bare "internal error".
 */
const TABLE: Record<ErrorCode, { exit: number; http: number; expose?: boolean }> = {
  USAGE: { exit: 2, http: 400 },
  CONFIG: { exit: 2, http: 400 },
  SUITE_INVALID: { exit: 2, http: 400 },
  TARGETS_INVALID: { exit: 2, http: 400 },
  NOT_A_REPO: { exit: 2, http: 500 },
  RUN_NOT_FOUND: { exit: 2, http: 404 },
  SUITE_NOT_FOUND: { exit: 2, http: 404 },
  TARGET_NOT_FOUND: { exit: 2, http: 404 },
  RUN_LIVE: { exit: 2, http: 409 },
  RUN_COMPLETE: { exit: 2, http: 409 },
  INPUT_CHANGED: { exit: 2, http: 409 },
  RUN_LOCKED: { exit: 2, http: 409 },
  // Exit 3: a read found the store damaged; any answer would be wrong (SPEC 1).
  CORRUPT: { exit: 3, http: 500, expose: true },
  GIT: { exit: 1, http: 500 },
  CAS_EXHAUSTED: { exit: 1, http: 503 },
  REMOTE: { exit: 1, http: 502 },
  FORBIDDEN: { exit: 2, http: 403 },
  INTERNAL: { exit: 1, http: 500 },
  GIT_NOT_FOUND: { exit: 2, http: 500 },
  REPO_UNSAFE: { exit: 2, http: 500 },
  REF_LOCKED: { exit: 2, http: 503, expose: true },
  REPO_UNWRITABLE: { exit: 2, http: 500, expose: true },
  DISK_FULL: { exit: 3, http: 507, expose: true },
  // The runner failed after the run started: the run is marked failed, finished rows kept.
  RUNNER_FAILED: { exit: 3, http: 500 },
};

export class AgentvError<D extends Record<string, unknown> = Record<string, unknown>> extends Error {
  readonly code: ErrorCode;
  readonly data: D;
  constructor(code: ErrorCode, message: string, data: D = {} as D) {
    super(message);
    this.name = 'AgentvError';
    this.code = code;
    this.data = data;
  }
}

export function exitCodeOf(err: unknown): number {
  return err instanceof AgentvError ? TABLE[err.code].exit : 1;
}

export function httpStatusOf(err: unknown): number {
  return err instanceof AgentvError ? TABLE[err.code].http : 500;
}

/** Whether a 5xx of this error may show its message (see TABLE). */
export function isExposed(err: unknown): boolean {
  return err instanceof AgentvError && TABLE[err.code].expose === true;
}

/**
 * What the operating system (or git, in its stderr) said, as agentv's error:
 * a full disk and an unwritable repository get their own codes and a message
 * that says so; anything else comes back unchanged.
 * @example throw classifyFault(e)
 */
export function classifyFault(err: unknown): unknown {
  if (err instanceof AgentvError && err.code !== 'GIT' && err.code !== 'INTERNAL') return err;
  const e = err as NodeJS.ErrnoException & { data?: { stderr?: string } };
  const text = `${e?.message ?? ''} ${e?.data?.stderr ?? ''}`;
  if (e?.code === 'ENOSPC' || e?.code === 'EDQUOT' || /No space left on device|Disk quota exceeded/i.test(text)) {
    return new AgentvError('DISK_FULL', 'the disk is full (no space left on device): free some space, then resume the run', { cause: text.trim().slice(0, 500) });
  }
  if (e?.code === 'EISDIR') {
    return new AgentvError('CONFIG', 'a directory was found where a file belongs (EISDIR); replace it with the file agentv expects', { cause: text.trim().slice(0, 500) });
  }
  if (e?.code === 'EROFS' || /Read-only file system/i.test(text)) {
    return new AgentvError('REPO_UNWRITABLE', 'the repository is on a read-only file system: agentv cannot write runs there; use a writable clone, or --repo DIR', {
      cause: text.trim().slice(0, 500),
    });
  }
  if (e?.code === 'EACCES' || e?.code === 'EPERM' || /Permission denied/i.test(text)) {
    return new AgentvError('REPO_UNWRITABLE', `agentv may not write to the repository (permission denied): ${e?.message ?? ''}`.trim(), {
      cause: text.trim().slice(0, 500),
    });
  }
  return err;
}

export function isAgentvError(err: unknown, code?: ErrorCode): err is AgentvError {
  return err instanceof AgentvError && (code === undefined || err.code === code);
}
