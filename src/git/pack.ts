// Packs written in-process: a group commit's objects land as one pack file and
// its index instead of hundreds of loose objects (each a temp file, a write and
// a rename: the bulk of an eval's time on a machine with slow file system
// calls), and the packs this module wrote are rolled up geometrically so a
// long history keeps a handful of them, not one per commit.
//
// Format (git's pack v2 and index v2, docs/gitformat-pack): a pack is "PACK",
// version, object count, then per object a type-and-size header and its zlib
// body, then the hash of all of that. The index lists the ids sorted, with a
// 256-entry fan-out, each entry's CRC-32 and offset, then both checksums.
// Only whole objects are written (no deltas), so an entry is position-free and
// a roll-up copies entries byte for byte, dropping duplicates.
//
// Visibility and safety: the pack and index are written under temp names and
// renamed, the index last, so git (and our readers, cat-file and local-objects.ts,
// which look for new packs when an id is not found) sees a pack only once it is whole. A roll-up
// writes the new pack, synced to disk with its directory, before deleting the
// old ones (index first), so every object stays readable throughout, power loss
// included; two roll-ups racing at worst both write.
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { IDX_FANOUT_AT, IDX_IDS_AT, IDX_MAGIC, packIndexLayout } from './pack-index.js';
import { objectId, oidBytes, type ObjectFormat, type ObjectType } from './objects.js';

const TYPE_CODE: Record<ObjectType, number> = { commit: 1, tree: 2, blob: 3 };
/** A marker whose pack is not (yet) there is dropped only after this long: its writer may be renaming it now. */
const MARKER_GRACE_MS = 60_000;
/** Packs larger than this are left out of roll-ups. */
const ROLL_UP_MAX_BYTES = 512 << 20;
/** Where the names of the packs this module wrote are kept (only those are rolled up). */
const MARKERS = ['agentv', 'packs'];

/** Objects held in memory until they are written together; ids are known at once. */
export class ObjectBatch {
  private readonly objects = new Map<string, { type: ObjectType; body: Buffer }>();

  constructor(readonly format: ObjectFormat) {}

  /** Add an object; returns its id. Adding the same object twice keeps one. */
  add(type: ObjectType, body: Buffer): string {
    const oid = objectId(type, body, this.format);
    if (!this.objects.has(oid)) this.objects.set(oid, { type, body });
    return oid;
  }

  get size(): number {
    return this.objects.size;
  }

  entries(): IterableIterator<[string, { type: ObjectType; body: Buffer }]> {
    return this.objects.entries();
  }
}

/** Below this size an object is stored, not compressed: creating a zlib stream costs more than it saves. */
const STORE_BELOW = 2048;

/** A zlib stream holding `body` uncompressed (one stored deflate block; body < 64 KiB). */
function zlibStored(body: Buffer): Buffer {
  let a = 1;
  let b = 0;
  for (let i = 0; i < body.length; i++) {
    a = (a + body[i]!) % 65521;
    b = (b + a) % 65521;
  }
  const head = Buffer.from([0x78, 0x01, 0x01, body.length & 0xff, body.length >> 8, ~body.length & 0xff, (~body.length >> 8) & 0xff]);
  const tail = Buffer.alloc(4);
  tail.writeUInt32BE(((b << 16) | a) >>> 0);
  return Buffer.concat([head, body, tail]);
}

/** One encoded pack entry: header + zlib body, with the CRC-32 the index records. */
interface Entry {
  oid: string;
  bytes: Buffer;
  crc: number;
}

function encodeEntry(oid: string, type: ObjectType, body: Buffer): Entry {
  const head: number[] = [];
  let size = body.length;
  let byte = (TYPE_CODE[type] << 4) | (size & 0x0f);
  size = Math.floor(size / 16);
  while (size > 0) {
    head.push(byte | 0x80);
    byte = size & 0x7f;
    size = Math.floor(size / 128);
  }
  head.push(byte);
  const data = body.length < STORE_BELOW ? zlibStored(body) : deflateSync(body, { level: 1 });
  const bytes = Buffer.concat([Buffer.from(head), data]);
  return { oid, bytes, crc: crc32(bytes) };
}

/** Index v2 for entries at the given offsets, ids sorted. */
function encodeIndex(entries: { oid: string; crc: number; offset: number }[], packHash: Buffer, format: ObjectFormat): Buffer {
  const sorted = [...entries].sort((a, b) => (a.oid < b.oid ? -1 : a.oid > b.oid ? 1 : 0));
  const n = sorted.length;
  const fanout = Buffer.alloc(256 * 4);
  const counts = new Array<number>(256).fill(0);
  for (const e of sorted) counts[parseInt(e.oid.slice(0, 2), 16)]! += 1;
  let run = 0;
  counts.forEach((c, i) => fanout.writeUInt32BE((run += c), i * 4));
  const ids = Buffer.concat(sorted.map((e) => Buffer.from(e.oid, 'hex')));
  const crcs = Buffer.alloc(n * 4);
  const offsets = Buffer.alloc(n * 4);
  const large: Buffer[] = [];
  sorted.forEach((e, i) => {
    crcs.writeUInt32BE(e.crc >>> 0, i * 4);
    if (e.offset < 0x80000000) offsets.writeUInt32BE(e.offset, i * 4);
    else {
      offsets.writeUInt32BE((0x80000000 | large.length) >>> 0, i * 4);
      const b = Buffer.alloc(8);
      b.writeBigUInt64BE(BigInt(e.offset));
      large.push(b);
    }
  });
  const version = Buffer.alloc(4);
  version.writeUInt32BE(2);
  const body = Buffer.concat([IDX_MAGIC, version, fanout, ids, crcs, offsets, ...large, packHash]);
  return Buffer.concat([body, createHash(format).update(body).digest()]);
}

let tmpCounter = 0;

/** Write a file, and with `durable` sync it to disk before it is renamed into place. */
async function writeFileSynced(file: string, data: Buffer, durable: boolean): Promise<void> {
  const fh = await fsp.open(file, 'w', 0o444);
  try {
    await fh.writeFile(data);
    if (durable) await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Write encoded entries as one pack + index (and mark it as ours); returns the pack's hash.
 * `durable`: the files and the directory are synced (a roll-up deletes the packs it replaces).
 */
async function writeEntries(commonDir: string, entries: Entry[], format: ObjectFormat, durable = false): Promise<string> {
  const header = Buffer.alloc(12);
  header.write('PACK', 0, 'latin1');
  header.writeUInt32BE(2, 4);
  header.writeUInt32BE(entries.length, 8);
  const hash = createHash(format).update(header);
  const placed: { oid: string; crc: number; offset: number }[] = [];
  let offset = 12;
  for (const e of entries) {
    hash.update(e.bytes);
    placed.push({ oid: e.oid, crc: e.crc, offset });
    offset += e.bytes.length;
  }
  const packHash = hash.digest();
  const name = packHash.toString('hex');
  const dir = path.join(commonDir, 'objects', 'pack');
  await fsp.mkdir(dir, { recursive: true });
  await fsp.mkdir(path.join(commonDir, ...MARKERS), { recursive: true });
  const tag = `${process.pid}_${++tmpCounter}`;
  const tmpPack = path.join(dir, `tmp_pack_agentv_${tag}`);
  const tmpIdx = path.join(dir, `tmp_idx_agentv_${tag}`);
  try {
    await writeFileSynced(tmpPack, Buffer.concat([header, ...entries.map((e) => e.bytes), packHash]), durable);
    await writeFileSynced(tmpIdx, encodeIndex(placed, packHash, format), durable);
    // The marker first: a pack without one would never be rolled up; a marker
    // without a pack (a crash right here) is dropped by the next roll-up.
    await fsp.writeFile(path.join(commonDir, ...MARKERS, name), '');
    await fsp.rename(tmpPack, path.join(dir, `pack-${name}.pack`));
    await fsp.rename(tmpIdx, path.join(dir, `pack-${name}.idx`));
    if (durable) await syncDir(dir);
  } catch (e) {
    await Promise.all([fsp.rm(tmpPack, { force: true }), fsp.rm(tmpIdx, { force: true })]);
    throw e;
  }
  return name;
}

async function syncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Write these objects as one pack. Readers find them as soon as this resolves.
 * @example const name = await writePack(repo.commonDir, batch)
 */
export async function writePack(commonDir: string, batch: ObjectBatch): Promise<string> {
  const entries = [...batch.entries()].map(([oid, o]) => encodeEntry(oid, o.type, o.body));
  return writeEntries(commonDir, entries, batch.format);
}

/** Parse an index v2: each object's id, CRC-32 and offset, in id order. */
function parsePackIndex(idx: Buffer, format: ObjectFormat): { oid: string; crc: number; offset: number }[] {
  if (idx.length < IDX_IDS_AT || !idx.subarray(0, 4).equals(IDX_MAGIC) || idx.readUInt32BE(4) !== 2) throw new Error('not a version 2 pack index');
  const width = oidBytes(format);
  const n = idx.readUInt32BE(IDX_FANOUT_AT + 255 * 4);
  const { idsAt, crcAt, offsetAt: offAt, largeAt } = packIndexLayout(n, width);
  return Array.from({ length: n }, (_, i) => {
    const off = idx.readUInt32BE(offAt + i * 4);
    return {
      oid: idx.toString('hex', idsAt + i * width, idsAt + (i + 1) * width),
      crc: idx.readUInt32BE(crcAt + i * 4),
      offset: off & 0x80000000 ? Number(idx.readBigUInt64BE(largeAt + (off & 0x7fffffff) * 8)) : off,
    };
  });
}

/** Objects in a pack, read from its index's fan-out alone. */
async function packCount(file: string): Promise<number | null> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(file, 'r');
    const b = Buffer.alloc(4);
    await fh.read(b, 0, 4, IDX_FANOUT_AT + 255 * 4);
    return b.readUInt32BE(0);
  } catch {
    return null;
  } finally {
    await fh?.close();
  }
}

/**
 * Which of these packs (object counts) to roll into one so that, afterwards,
 * each pack holds at least twice the objects of all smaller ones together
 * (git's --geometric=2): the history keeps O(log n) packs and each object is
 * copied O(log n) times.
 */
export function geometricRollUp(counts: number[]): number {
  const sorted = [...counts].sort((a, b) => a - b);
  let split = 0;
  let below = 0;
  sorted.forEach((c, i) => {
    if (c < 2 * below) split = i + 1;
    below += c;
  });
  return split >= 2 ? split : 0;
}

/**
 * Roll up the packs this module wrote (geometrically, see geometricRollUp).
 * Returns how many packs were merged into one (0: nothing to do). Anything
 * that goes wrong leaves the packs as they were: every object stays readable.
 */
export async function rollUpPacks(commonDir: string, format: ObjectFormat): Promise<number> {
  const markerDir = path.join(commonDir, ...MARKERS);
  const packDir = path.join(commonDir, 'objects', 'pack');
  let names: string[];
  try {
    names = (await fsp.readdir(markerDir)).filter((n) => /^[0-9a-f]{40,64}$/.test(n));
  } catch {
    return 0;
  }
  const packs: { name: string; count: number }[] = [];
  for (const name of names) {
    const idx = path.join(packDir, `pack-${name}.idx`);
    const [count, size] = await Promise.all([packCount(idx), fsp.stat(path.join(packDir, `pack-${name}.pack`)).then((st) => st.size, () => null)]);
    if (count === null || size === null) {
      // Rolled up by another process or removed by git gc; or a pack being written right now
      // (its marker comes first): only a marker older than a minute is dropped.
      const marker = path.join(markerDir, name);
      const age = await fsp.stat(marker).then((st) => Date.now() - st.mtimeMs, () => 0);
      if (age > MARKER_GRACE_MS) await fsp.rm(marker, { force: true });
    } else if (size <= ROLL_UP_MAX_BYTES) packs.push({ name, count });
    // A pack past ROLL_UP_MAX_BYTES stays as it is (a roll-up reads whole packs into memory).
  }
  packs.sort((a, b) => a.count - b.count || (a.name < b.name ? -1 : 1));
  const take = packs.slice(0, geometricRollUp(packs.map((p) => p.count)));
  if (take.length < 2) return 0;
  const entries: Entry[] = [];
  const seen = new Set<string>();
  try {
    for (const { name } of take) {
      const [idxBytes, pack] = await Promise.all([
        fsp.readFile(path.join(packDir, `pack-${name}.idx`)),
        fsp.readFile(path.join(packDir, `pack-${name}.pack`)),
      ]);
      const order = parsePackIndex(idxBytes, format).sort((a, b) => a.offset - b.offset);
      const ends = [...order.slice(1).map((e) => e.offset), pack.length - oidBytes(format)];
      order.forEach(({ oid, crc, offset }, k) => {
        const type = ((pack[offset] ?? 0) >> 4) & 7;
        if (type < 1 || type > 4) throw new Error(`pack-${name} holds a delta: not one of ours`);
        if (seen.has(oid)) return;
        seen.add(oid);
        entries.push({ oid, bytes: pack.subarray(offset, ends[k]), crc });
      });
    }
  } catch {
    return 0; // a pack vanished under us (another roll-up, git gc) or is not ours
  }
  const merged = await writeEntries(commonDir, entries, format, true);
  for (const { name } of take) {
    if (name === merged) continue;
    await fsp.rm(path.join(packDir, `pack-${name}.idx`), { force: true });
    await fsp.rm(path.join(packDir, `pack-${name}.pack`), { force: true });
    await fsp.rm(path.join(markerDir, name), { force: true });
  }
  return take.length;
}
