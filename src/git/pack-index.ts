// The layout of a pack index (git's index v2, docs/gitformat-pack): a magic and
// version, a 256-entry fan-out, the ids sorted, each entry's CRC-32, its 4-byte
// offset (or a pointer into the 8-byte large-offset table), then the pack's and
// the index's own checksums. Shared by the pack writer (pack.ts) and the reader
// (local-objects.ts).

export const IDX_MAGIC = Buffer.from([0xff, 0x74, 0x4f, 0x63]);
export const IDX_FANOUT_AT = 8;
export const IDX_IDS_AT = IDX_FANOUT_AT + 256 * 4;

/** Where each table of an index v2 with `count` objects of `width`-byte ids starts. */
export function packIndexLayout(count: number, width: number) {
  const crcAt = IDX_IDS_AT + count * width;
  const offsetAt = crcAt + count * 4;
  return { idsAt: IDX_IDS_AT, crcAt, offsetAt, largeAt: offsetAt + count * 4 };
}
