// Reading objects and refs from the repository's files in-process, so a
// one-shot read (`runs list`, `runs show`) starts no git at all: a process
// start costs ~20 ms here, most of it a synchronous fork on the main thread.
// It reads loose objects, pack files (index v2, whole and delta entries) and
// loose or packed refs. It only ever answers with an object or a ref it read
// whole; anything else (not found here, an alternate object store, a damaged
// or unfamiliar file, a symbolic ref, a reftable) is null, and the caller asks
// `git cat-file`, which decides as before (missing, damaged, ...).
// test/git/local-objects.test.ts holds it to cat-file's answers.
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, fstatSync } from 'node:fs';
import path from 'node:path';
import { inflateSync } from 'node:zlib';
import type { GitObject } from './cat-file.js';
import { oidBytes, type ObjectFormat } from './objects.js';

export const IDX_MAGIC = Buffer.from([0xff, 0x74, 0x4f, 0x63]);
const FANOUT_AT = 8;
const IDS_AT = FANOUT_AT + 256 * 4;
/** An index up to this size is held in memory; a larger one is searched on disk (a lookup reads ~log2(n) ids). */
const IDX_IN_MEMORY = 8 << 20;
/** Delta bases kept for the next read (a tree's entries are often deltas of the same base). */
const BASE_CACHE_BYTES = 16 << 20;
const MAX_DELTA_DEPTH = 100;

const TYPE_NAMES = [null, 'commit', 'tree', 'blob', 'tag'] as const;

interface Pack {
  name: string;
  fd: number;
  size: number;
  count: number;
  /** The whole index when small, else its descriptor. */
  idx: Buffer | null;
  idxFd: number | null;
  fanout: Uint32Array;
}

/** Where each table of an index v2 with `count` objects starts. */
export function packIndexLayout(count: number, width: number) {
  const crcAt = IDS_AT + count * width;
  const offsetAt = crcAt + count * 4;
  return { idsAt: IDS_AT, crcAt, offsetAt, largeAt: offsetAt + count * 4 };
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

  constructor(
    private readonly commonDir: string,
    format: ObjectFormat,
    /** Indexes up to this many bytes are read whole (tests set 0 to search every index on disk). */
    private readonly idxInMemory = IDX_IN_MEMORY,
  ) {
    this.width = oidBytes(format);
    this.objectsDir = path.join(commonDir, 'objects');
  }

  /** The object, read whole; null when it is not here or not read with certainty (ask git). */
  read(oid: string): GitObject | null {
    if (oid.length !== this.width * 2 || !/^[0-9a-f]+$/.test(oid)) return null;
    try {
      return this.loose(oid) ?? this.packed(oid, 0) ?? (this.rescan() ? this.packed(oid, 0) : null);
    } catch {
      return null;
    }
  }

  /** The object id a ref names (a loose ref file, else packed-refs); null when absent or not plain (ask git). */
  ref(name: string): string | null {
    if (!/^refs\/[\w./-]+$/.test(name) || name.includes('..')) return null;
    const hex = new RegExp(`^[0-9a-f]{${this.width * 2}}$`);
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
    for (const p of this.packs ?? []) {
      closeSync(p.fd);
      if (p.idxFd !== null) closeSync(p.idxFd);
    }
    this.packs = null;
    this.bases.clear();
    this.baseBytes = 0;
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
    const [type, sizeText] = body.toString('latin1', 0, nul).split(' ');
    const size = Number(sizeText);
    if (nul < 0 || !TYPE_NAMES.includes(type as never) || size !== body.length - nul - 1) return null;
    return { oid, type: type!, size, data: body.subarray(nul + 1) };
  }

  /** Look for packs written since the last look; true when there are new ones. */
  private rescan(): boolean {
    const known = new Set((this.packs ?? []).map((p) => p.name));
    const before = known.size;
    this.packs ??= [];
    let names: string[];
    try {
      names = readdirSync(path.join(this.objectsDir, 'pack'));
    } catch {
      return false;
    }
    for (const f of names) {
      const m = /^pack-([0-9a-f]+)\.idx$/.exec(f);
      if (!m || known.has(m[1]!)) continue;
      const pack = this.openPack(m[1]!);
      if (pack) {
        this.packs.push(pack);
        known.add(pack.name);
      }
    }
    return known.size > before;
  }

  private openPack(name: string): Pack | null {
    const dir = path.join(this.objectsDir, 'pack');
    let idxFd: number | null = null;
    let fd: number | null = null;
    try {
      idxFd = openSync(path.join(dir, `pack-${name}.idx`), 'r');
      fd = openSync(path.join(dir, `pack-${name}.pack`), 'r');
      const idxSize = fstatSync(idxFd).size;
      const head = readAt(idxFd, IDS_AT, 0);
      if (head.length < IDS_AT || !head.subarray(0, 4).equals(IDX_MAGIC) || head.readUInt32BE(4) !== 2) throw new Error('not an index v2');
      const fanout = new Uint32Array(256);
      for (let i = 0; i < 256; i++) fanout[i] = head.readUInt32BE(FANOUT_AT + i * 4);
      const count = fanout[255]!;
      const idx = idxSize <= this.idxInMemory ? readAt(idxFd, idxSize, 0) : null;
      if (idx) {
        closeSync(idxFd);
        idxFd = null;
      }
      return { name, fd, size: fstatSync(fd).size, count, idx, idxFd, fanout };
    } catch {
      if (idxFd !== null) closeSync(idxFd);
      if (fd !== null) closeSync(fd);
      return null;
    }
  }

  private idxBytes(p: Pack, at: number, length: number): Buffer {
    return p.idx ? p.idx.subarray(at, at + length) : readAt(p.idxFd!, length, at);
  }

  /** The object's offset in pack `p`, or null. */
  private offsetIn(p: Pack, id: Buffer): number | null {
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
    if (!this.packs) this.rescan();
    const id = Buffer.from(oid, 'hex');
    for (const p of this.packs!) {
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
