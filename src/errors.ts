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
  | 'INTERNAL';

const TABLE: Record<ErrorCode, { exit: number; http: number }> = {
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
  CORRUPT: { exit: 1, http: 500 },
  GIT: { exit: 1, http: 500 },
  CAS_EXHAUSTED: { exit: 1, http: 503 },
  REMOTE: { exit: 1, http: 502 },
  FORBIDDEN: { exit: 2, http: 403 },
  INTERNAL: { exit: 1, http: 500 },
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

export function isAgentvError(err: unknown, code?: ErrorCode): err is AgentvError {
  return err instanceof AgentvError && (code === undefined || err.code === code);
}
