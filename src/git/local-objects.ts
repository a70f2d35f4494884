// Reading objects and refs from the repository's files in-process, so a
// one-shot read (`runs list`, `runs show`) starts no git at all: a process
// start costs ~20 ms here, most of it a synchronous fork on the main thread.
// It reads loose objects, pack files (index v2, whole and delta entries) and
// loose or packed refs. It only ever answers with an object or a ref it read
// whole; anything else (not found here, an alternate object store, a damaged
// or unfamiliar file, a pack that does not match its index, replacement
// objects, a symbolic ref, a reftable) is null, and the caller asks
// `git cat-file`, which decides as before (missing, damaged, ...).
// test/git/local-objects.test.ts holds it to cat-file's answers.
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, fstatSync } from 'node:fs';
import path from 'node:path';
import { inflateSync } from 'node:zlib';
import type { GitObject } from './cat-file.js';
import { oidBytes, type ObjectFormat } from './objects.js';
import { IDX_FANOUT_AT, IDX_IDS_AT, IDX_MAGIC, packIndexLayout } from './pack-index.js';
/**
 * An index is searched on disk (a lookup reads ~log2(n) ids) until it has served
 * this many lookups, then read whole if it is no larger than IDX_IN_MEMORY: a
 * one-shot read looks up a handful of objects, a long reader (Studio, an eval)
 * thousands. A small one is read whole at once.
 */
const LOOKUPS_BEFORE_LOAD = 16;
const IDX_SMALL = 64 << 10;
const IDX_IN_MEMORY = 8 << 20;
/** Delta bases kept for the next read (a tree's entries are often deltas of the same base). */
const BASE_CACHE_BYTES = 16 << 20;
const MAX_DELTA_DEPTH = 100;

const TYPE_NAMES = [null, 'commit', 'tree', 'blob', 'tag'] as const;
/** A loose object's header as git writes it (and accepts it). */
const LOOSE_HEADER = /^(commit|tree|blob|tag) (0|[1-9][0-9]*)$/;

interface Pack {
  name: string;
  fd: number;
  size: number;
  count: number;
  /** The whole index once read, else its descriptor. */
  idx: Buffer | null;
  idxFd: number | null;
  idxSize: number;
  lookups: number;
  fanout: Uint32Array;
}

function readAt(fd: number, length: number, position: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  const n = readSync(fd, buf, 0, length, position);
  return n === length ? buf : buf.subarray(0, n);
}

/** The result of applying a git delta to `base`. */
export function applyDelta(base: Buffer, delta: Buffer): Buffer {
  let i = 0;
  const size = () => {
    let v = 0;
    let shift = 0;
    let c: number;
    do {
      c = delta[i++]!;
      v += (c & 0x7f) * 2 ** shift;
      shift += 7;
    } while (c & 0x80);
    return v;
  };
  if (size() !== base.length) throw new Error('delta base size differs');
  const out = Buffer.allocUnsafe(size());
  let o = 0;
  while (i < delta.length) {
    const op = delta[i++]!;
    if (op & 0x80) {
      let offset = 0;
      let n = 0;
      for (let b = 0; b < 4; b++) if (op & (1 << b)) offset += delta[i++]! * 2 ** (8 * b);
      for (let b = 0; b < 3; b++) if (op & (0x10 << b)) n += delta[i++]! * 2 ** (8 * b);
      if (n === 0) n = 0x10000;
      if (offset + n > base.length || o + n > out.length) throw new Error('delta copies out of range');
      base.copy(out, o, offset, offset + n);
      o += n;
    } else if (op) {
      if (o + op > out.length || i + op > delta.length) throw new Error('delta inserts out of range');
      delta.copy(out, o, i, i + op);
      i += op;
      o += op;
    } else throw new Error('delta opcode 0');
  }
  if (o !== out.length) throw new Error('delta result size differs');
  return out;
}

export class LocalObjects {
  private packs: Pack[] | null = null;
  private readonly bases = new Map<string, { type: string; data: Buffer }>();
  private baseBytes = 0;
  private readonly width: number;
  private readonly objectsDir: string;
  private readonly hexId: RegExp;
  /** Replacement objects (`git replace`) change what cat-file answers: with any, everything is git's. */
  private replaced: boolean | null = null;

  constructor(
    private readonly commonDir: string,
    format: ObjectFormat,
    /** When an index is read whole (tests set both to 0 to search every index on disk). */
    private readonly limits = { small: IDX_SMALL, inMemory: IDX_IN_MEMORY },
  ) {
    this.width = oidBytes(format);
    this.objectsDir = path.join(commonDir, 'objects');
    this.hexId = new RegExp(`^[0-9a-f]{${this.width * 2}}$`);
  }

  /** The object, read whole; null when it is not here or not read with certainty (ask git). */
  read(oid: string): GitObject | null {
    if (!this.hexId.test(oid)) return null;
    try {
      // The first read looks at the packs; a miss looks again for packs written since (as git does).
      const scanned = this.packs === null;
      if (scanned) this.rescan();
      if (this.replacements()) return null;
      return this.loose(oid) ?? this.packed(oid, 0) ?? (!scanned && this.rescan() ? this.packed(oid, 0) : null);
    } catch {
      return null;
    }
  }

  /** The object id a ref names (a loose ref file, else packed-refs); null when absent or not plain (ask git). */
  ref(name: string): string | null {
    if (!/^refs\/[\w./-]+$/.test(name) || name.includes('..')) return null;
    const hex = this.hexId;
    try {
      if (existsSync(path.join(this.commonDir, 'reftable'))) return null;
      const text = readFileSync(path.join(this.commonDir, name), 'utf8').trim();
      return hex.test(text) ? text : null;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return null;
    }
    let packed: string;
    try {
      packed = readFileSync(path.join(this.commonDir, 'packed-refs'), 'utf8');
    } catch {
      return null;
    }
    for (const line of packed.split('\n')) {
      const sp = line.indexOf(' ');
      if (sp > 0 && line.slice(sp + 1) === name) {
        const oid = line.slice(0, sp);
        return hex.test(oid) ? oid : null;
      }
    }
    return null;
  }

  close(): void {
    for (const p of this.packs ?? []) this.closePack(p);
    this.packs = null;
    this.bases.clear();
    this.baseBytes = 0;
  }

  /** Whether the repository has replacement refs, looked up once per scan of the packs. */
  private replacements(): boolean {
    if (this.replaced !== null) return this.replaced;
    let packed = '';
    try {
      packed = readFileSync(path.join(this.commonDir, 'packed-refs'), 'latin1');
    } catch {
      // none
    }
    let loose: string[] = [];
    try {
      loose = readdirSync(path.join(this.commonDir, 'refs', 'replace'));
    } catch {
      // none
    }
    const steered = process.env.GIT_REPLACE_REF_BASE !== undefined;
    this.replaced = steered || loose.length > 0 || packed.includes(' refs/replace/');
    return this.replaced;
  }

  private loose(oid: string): GitObject | null {
    let raw: Buffer;
    try {
      raw = readFileSync(path.join(this.objectsDir, oid.slice(0, 2), oid.slice(2)));
    } catch {
      return null;
    }
    const body = inflateSync(raw);
    const nul = body.indexOf(0);
    const header = nul < 0 ? null : LOOSE_HEADER.exec(body.toString('latin1', 0, nul));
    if (!header || Number(header[2]) !== body.length - nul - 1) return null;
    return { oid, type: header[1]!, size: body.length - nul - 1, data: body.subarray(nul + 1) };
  }

  /**
   * Look at the packs again: open those written since the last look, let go of
   * those removed since (a roll-up's, git gc's). True when there are new ones.
   */
  private rescan(): boolean {
    this.replaced = null;
    let names: string[];
    try {
      names = readdirSync(path.join(this.objectsDir, 'pack'));
    } catch {
      names = [];
    }
    const present = new Set(names.flatMap((f) => /^pack-([0-9a-f]+)\.idx$/.exec(f)?.[1] ?? []));
    const kept: Pack[] = [];
    for (const p of this.packs ?? []) {
      if (present.has(p.name)) kept.push(p);
      else this.closePack(p);
    }
    const known = new Set(kept.map((p) => p.name));
    let added = false;
    for (const name of present) {
      if (known.has(name)) continue;
      const pack = this.openPack(name);
      if (pack) {
        kept.push(pack);
        added = true;
      }
    }
    this.packs = kept;
    return added;
  }

  private closePack(p: Pack): void {
    closeSync(p.fd);
    if (p.idxFd !== null) closeSync(p.idxFd);
    for (const [key, o] of this.bases) {
      if (!key.startsWith(`${p.name}:`)) continue;
      this.bases.delete(key);
      this.baseBytes -= o.data.length;
    }
  }

  private openPack(name: string): Pack | null {
    const dir = path.join(this.objectsDir, 'pack');
    let idxFd: number | null = null;
    let fd: number | null = null;
    try {
      idxFd = openSync(path.join(dir, `pack-${name}.idx`), 'r');
      fd = openSync(path.join(dir, `pack-${name}.pack`), 'r');
      const idxSize = fstatSync(idxFd).size;
      const size = fstatSync(fd).size;
      const head = readAt(idxFd, IDX_IDS_AT, 0);
      if (head.length < IDX_IDS_AT || !head.subarray(0, 4).equals(IDX_MAGIC) || head.readUInt32BE(4) !== 2) throw new Error('not an index v2');
      // The pack's trailing checksum is the one its index records: git refuses a pair that differ.
      if (!readAt(fd, this.width, size - this.width).equals(readAt(idxFd, this.width, idxSize - 2 * this.width))) throw new Error('pack does not match index');
      const fanout = new Uint32Array(256);
      for (let i = 0; i < 256; i++) fanout[i] = head.readUInt32BE(IDX_FANOUT_AT + i * 4);
      const count = fanout[255]!;
      // git's own check of an index's size: its tables, at most one large offset per object, two checksums.
      const least = packIndexLayout(count, this.width).largeAt + 2 * this.width;
      if (idxSize < least || idxSize > least + count * 8) throw new Error('index size does not fit its object count');
      const pack: Pack = { name, fd, size, count, idx: null, idxFd, idxSize, lookups: 0, fanout };
      if (idxSize <= Math.min(this.limits.small, this.limits.inMemory)) this.loadIndex(pack);
      return pack;
    } catch {
      if (idxFd !== null) closeSync(idxFd);
      if (fd !== null) closeSync(fd);
      return null;
    }
  }

  private loadIndex(p: Pack): void {
    p.idx = readAt(p.idxFd!, p.idxSize, 0);
    closeSync(p.idxFd!);
    p.idxFd = null;
  }

  private idxBytes(p: Pack, at: number, length: number): Buffer {
    return p.idx ? p.idx.subarray(at, at + length) : readAt(p.idxFd!, length, at);
  }

  /** The object's offset in pack `p`, or null. */
  private offsetIn(p: Pack, id: Buffer): number | null {
    if (!p.idx && ++p.lookups > LOOKUPS_BEFORE_LOAD && p.idxSize <= this.limits.inMemory) this.loadIndex(p);
    const first = id[0]!;
    let lo = first ? p.fanout[first - 1]! : 0;
    let hi = p.fanout[first]!;
    const { idsAt, offsetAt, largeAt } = packIndexLayout(p.count, this.width);
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = this.idxBytes(p, idsAt + mid * this.width, this.width).compare(id);
      if (c === 0) {
        const off = this.idxBytes(p, offsetAt + mid * 4, 4).readUInt32BE(0);
        return off & 0x80000000 ? Number(this.idxBytes(p, largeAt + (off & 0x7fffffff) * 8, 8).readBigUInt64BE(0)) : off;
      }
      if (c < 0) lo = mid + 1;
      else hi = mid;
    }
    return null;
  }

  private packed(oid: string, depth: number): GitObject | null {
    const id = Buffer.from(oid, 'hex');
    for (const p of this.packs ?? []) {
      const offset = this.offsetIn(p, id);
      if (offset === null) continue;
      const o = this.entry(p, offset, depth);
      return { oid, type: o.type, size: o.data.length, data: o.data };
    }
    return null;
  }

  /** The object at `offset` in pack `p`, deltas applied. Throws on anything unexpected. */
  private entry(p: Pack, offset: number, depth: number): { type: string; data: Buffer } {
    if (depth > MAX_DELTA_DEPTH) throw new Error('delta chain too deep');
    const key = `${p.name}:${offset}`;
    const cached = this.bases.get(key);
    if (cached) return cached;
    const head = readAt(p.fd, 16 + this.width, offset);
    let c = head[0]!;
    const code = (c >> 4) & 7;
    let size = c & 15;
    let i = 1;
    for (let shift = 4; c & 0x80; shift += 7) {
      c = head[i++]!;
      size += (c & 0x7f) * 2 ** shift;
    }
    let base: { type: string; data: Buffer } | null = null;
    if (code === 6) {
      c = head[i++]!;
      let back = c & 0x7f;
      while (c & 0x80) {
        c = head[i++]!;
        back = (back + 1) * 128 + (c & 0x7f);
      }
      base = this.entry(p, offset - back, depth + 1);
    } else if (code === 7) {
      const baseOid = head.toString('hex', i, i + this.width);
      i += this.width;
      const o = this.loose(baseOid) ?? this.packed(baseOid, depth + 1);
      if (!o) throw new Error('delta base not here');
      base = o;
    } else if (!TYPE_NAMES[code]) throw new Error(`pack entry type ${code}`);
    const start = offset + i;
    // A zlib stream of `size` bytes takes at most ~size + 5 bytes per 16 KiB block + its header and checksum.
    const end = Math.min(p.size - this.width, start + size + 5 * Math.ceil(size / 16384) + 64);
    const data = inflateSync(readAt(p.fd, end - start, start));
    if (data.length !== size) throw new Error('pack entry size differs');
    const o = base ? { type: base.type, data: applyDelta(base.data, data) } : { type: TYPE_NAMES[code]!, data };
    if (depth > 0) this.keepBase(key, o);
    return o;
  }

  private keepBase(key: string, o: { type: string; data: Buffer }): void {
    if (o.data.length > BASE_CACHE_BYTES / 4) return;
    this.bases.set(key, o);
    this.baseBytes += o.data.length;
    for (const [k, v] of this.bases) {
      if (this.baseBytes <= BASE_CACHE_BYTES) break;
      this.bases.delete(k);
      this.baseBytes -= v.data.length;
    }
  }
}
