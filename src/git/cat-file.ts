// A long-lived `git cat-file --batch-command` process: one spawn serves every
// object and ref lookup of a command (or of Studio's lifetime). Requests are
// answered in order; if git dies, pending requests fail with GIT and the next
// request starts a fresh process. close() ends it; nothing outlives the owner.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { AgentvError } from '../errors.js';
import { gitEnv, spawnFailure } from './exec.js';

export interface ObjectInfo {
  oid: string;
  type: string;
  size: number;
}

export interface GitObject extends ObjectInfo {
  data: Buffer;
}

interface Pending {
  kind: 'info' | 'contents';
  spec: string;
  resolve: (v: GitObject | ObjectInfo | null) => void;
  reject: (e: Error) => void;
}

const live = new Set<CatFile>();
process.once('exit', () => {
  for (const c of live) c.close();
});

export class CatFile {
  private child: ChildProcessWithoutNullStreams | null = null;
  private queue: Pending[] = [];
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** When reading a body: the header of the object being read. */
  private body: (ObjectInfo & { buf: Buffer; filled: number }) | null = null;
  /** Number of processes started; a test hook for the restart path. */
  spawned = 0;

  constructor(private readonly cwd: string) {}

  /** Resolve a name (`<ref>`, `<oid>`, `<rev>:<path>`) to its id, type and size; null when missing. */
  info(spec: string): Promise<ObjectInfo | null> {
    return this.request('info', spec) as Promise<ObjectInfo | null>;
  }

  /** Read an object; null when missing. */
  read(spec: string): Promise<GitObject | null> {
    return this.request('contents', spec) as Promise<GitObject | null>;
  }

  /** Ends the process; later requests start a new one. */
  close(): void {
    const child = this.child;
    if (!child) return;
    this.child = null;
    live.delete(this);
    this.fail(new AgentvError('GIT', 'cat-file reader closed'), child);
    child.stdin.end();
    child.kill();
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  private request(kind: Pending['kind'], spec: string): Promise<GitObject | ObjectInfo | null> {
    if (/[\n\r]/.test(spec)) return Promise.reject(new AgentvError('USAGE', 'object name contains a newline'));
    const child = this.ensure();
    // Hold the event loop open only while an answer is awaited.
    if (this.queue.length === 0) (child.stdout as unknown as { ref?: () => void }).ref?.();
    return new Promise((resolve, reject) => {
      this.queue.push({ kind, spec, resolve, reject });
      child.stdin.write(`${kind} ${spec}\n`);
    });
  }

  private ensure(): ChildProcessWithoutNullStreams {
    if (this.child) return this.child;
    const child = spawn('git', ['cat-file', '--batch-command'], { cwd: this.cwd, env: gitEnv(), stdio: 'pipe' });
    this.spawned++;
    this.child = child;
    this.chunks = [];
    this.buffered = 0;
    this.body = null;
    live.add(this);
    // An idle reader must never keep a finished command alive.
    child.unref();
    for (const s of [child.stdin, child.stdout, child.stderr] as unknown as { unref?: () => void }[]) s.unref?.();
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-2000)));
    child.stdout.on('data', (d: Buffer) => this.onData(d));
    const onGone = (why: string | AgentvError) => {
      if (this.child !== child) return;
      this.child = null;
      live.delete(this);
      this.fail(typeof why === 'string' ? new AgentvError('GIT', `git cat-file ${why}${stderr ? `: ${stderr.trim()}` : ''}`) : why, child);
    };
    // Not started (no git on PATH, a folder gone): said as runGit says it.
    child.on('error', (e) => onGone(spawnFailure(e, this.cwd, ['cat-file', '--batch-command'])));
    child.on('exit', (code, sig) => onGone(`exited (${sig ?? code})`));
    child.stdin.on('error', () => onGone('closed its input'));
    return child;
  }

  private fail(err: Error, _child: ChildProcessWithoutNullStreams): void {
    const pending = this.queue;
    this.queue = [];
    this.body = null;
    for (const p of pending) p.reject(err);
  }

  private onData(d: Buffer): void {
    this.chunks.push(d);
    this.buffered += d.length;
    this.parse();
    if (this.queue.length === 0) (this.child?.stdout as unknown as { unref?: () => void } | undefined)?.unref?.();
  }

  private parse(): void {
    for (;;) {
      if (this.body) {
        if (!this.fillBody()) return;
        continue;
      }
      const headerEnd = this.findNewline();
      if (headerEnd < 0) return;
      const header = this.take(headerEnd + 1).toString('utf8', 0, headerEnd);
      const p = this.queue[0];
      if (!p) return;
      const parts = header.split(' ');
      if (parts.length === 2 || parts[parts.length - 1] === 'missing' || parts[parts.length - 1] === 'ambiguous') {
        this.queue.shift();
        p.resolve(null);
        continue;
      }
      const [oid, type, sizeText] = parts as [string, string, string];
      const size = Number(sizeText);
      if (p.kind === 'info') {
        this.queue.shift();
        p.resolve({ oid, type, size });
        continue;
      }
      this.body = { oid, type, size, buf: Buffer.allocUnsafe(size), filled: 0 };
    }
  }

  /** Copy buffered bytes into the current body; true when it (and its newline) is complete. */
  private fillBody(): boolean {
    const b = this.body!;
    while (b.filled < b.size && this.chunks.length > 0) {
      const c = this.chunks[0]!;
      const n = Math.min(c.length, b.size - b.filled);
      c.copy(b.buf, b.filled, 0, n);
      b.filled += n;
      this.consume(n);
    }
    if (b.filled < b.size || this.buffered < 1) return false;
    this.consume(1); // the newline after the body
    this.body = null;
    const p = this.queue.shift();
    p?.resolve({ oid: b.oid, type: b.type, size: b.size, data: b.buf });
    return true;
  }

  private findNewline(): number {
    let offset = 0;
    for (const c of this.chunks) {
      const i = c.indexOf(0x0a);
      if (i >= 0) return offset + i;
      offset += c.length;
    }
    return -1;
  }

  private take(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length, n - filled);
      c.copy(out, filled, 0, k);
      filled += k;
      this.consume(k);
    }
    return out;
  }

  private consume(n: number): void {
    this.buffered -= n;
    const c = this.chunks[0]!;
    if (n >= c.length) this.chunks.shift();
    else this.chunks[0] = c.subarray(n);
  }
}
