// On-disk format of the write-ahead log.
//
// Directory: one file per segment, `<first key, 20 decimal digits>.wal` (e.g. 00000000000000000001.wal).
// A segment holds records back to back, no file header. Keys are written in steps of one (recovery may
// later cut records out); every key in a segment is >= the number in its name and < the next segment's.
// Side files: `<segment>.wal.corrupt` holds bytes cut out of a segment during recovery (kept for
// inspection, never read back); `<segment>.wal.tmp` is a half-written repair, deleted on open.
//
// Record (all integers little-endian):
//   offset  size  field
//        0     4  magic 0x4C574A4A ("JJWL" on disk)
//        4     4  CRC-32 (zlib/IEEE) of bytes [8, length): covers everything below, payload included
//        8     4  length: total record bytes, this header included
//       12     8  key (u64)
//       20     8  receivedAtMs (IEEE-754 double, ms since the Unix epoch)
//       28     1  format: 1 = traces protobuf, 2 = traces json, 3 = logs protobuf, 4 = logs json
//       29     2  apiKeyId byte length A (u16)
//       31     A  apiKeyId, UTF-8
//   31 + A     …  payload: the request body exactly as received (length - 31 - A bytes)
import { crc32 } from 'node:zlib';
import type { OtlpPayloadFormat, OtlpSignal } from '../../otlp/decode.ts';

export type WalFormat = OtlpPayloadFormat;

export interface WalRecordMeta {
  receivedAtMs: number;
  apiKeyId: string;
  format: WalFormat;
  /** Which export the payload is; absent: traces. */
  signal?: OtlpSignal;
}

export interface WalRecord extends WalRecordMeta {
  key: bigint;
  payload: Uint8Array;
  signal: OtlpSignal;
}

export const FIXED_HEADER_BYTES = 31;
/** Sanity bound for a length field read from disk; a larger value means the bytes are garbage. */
export const MAX_RECORD_BYTES = 1024 * 1024 * 1024;
export const MAX_API_KEY_ID_BYTES = 0xffff;
/** Keys are unsigned 64-bit integers on disk; the log never hands out a larger one. */
export const MAX_KEY = (1n << 64n) - 1n;

const MAGIC = 0x4c574a4a;
export const MAGIC_BYTES = Buffer.from([0x4a, 0x4a, 0x57, 0x4c]);
const FORMAT_CODES: Record<OtlpSignal, Record<WalFormat, number>> = {
  traces: { protobuf: 1, json: 2 },
  logs: { protobuf: 3, json: 4 },
};
const FORMATS: Record<number, { signal: OtlpSignal; format: WalFormat }> = {
  1: { signal: 'traces', format: 'protobuf' },
  2: { signal: 'traces', format: 'json' },
  3: { signal: 'logs', format: 'protobuf' },
  4: { signal: 'logs', format: 'json' },
};

/**
 * The header of one record. The payload is written from the caller's buffer next to it (writev),
 * so a record is never copied; the checksum is chained over header and payload.
 */
export function encodeHeader(
  key: bigint,
  meta: WalRecordMeta,
  apiKeyId: Buffer,
  payload: Uint8Array,
): Buffer {
  const headerBytes = FIXED_HEADER_BYTES + apiKeyId.length;
  const header = Buffer.allocUnsafe(headerBytes);
  header.writeUInt32LE(MAGIC, 0);
  header.writeUInt32LE(headerBytes + payload.length, 8);
  header.writeBigUInt64LE(key, 12);
  header.writeDoubleLE(meta.receivedAtMs, 20);
  header.writeUInt8(FORMAT_CODES[meta.signal ?? 'traces'][meta.format], 28);
  header.writeUInt16LE(apiKeyId.length, 29);
  apiKeyId.copy(header, FIXED_HEADER_BYTES);
  header.writeUInt32LE(crc32(payload, crc32(header.subarray(8))), 4);
  return header;
}

/** Total record length announced by a header, or null when the bytes cannot start a record. */
export function announcedLength(headerStart: Buffer): number | null {
  if (headerStart.length < FIXED_HEADER_BYTES || headerStart.readUInt32LE(0) !== MAGIC) return null;
  const length = headerStart.readUInt32LE(8);
  const minimum = FIXED_HEADER_BYTES + headerStart.readUInt16LE(29);
  return length >= minimum && length <= MAX_RECORD_BYTES ? length : null;
}

/**
 * Decodes one whole record (exactly `length` bytes). Returns null when anything is off — magic,
 * length, format or checksum — so callers treat it as corrupt. The payload is a view, not a copy.
 */
export function decodeRecord(bytes: Buffer): WalRecord | null {
  if (announcedLength(bytes) !== bytes.length) return null;
  if (bytes.readUInt32LE(4) !== crc32(bytes.subarray(8))) return null;
  const kind = FORMATS[bytes.readUInt8(28)];
  if (kind === undefined) return null;
  const apiKeyIdEnd = FIXED_HEADER_BYTES + bytes.readUInt16LE(29);
  return {
    key: bytes.readBigUInt64LE(12),
    receivedAtMs: bytes.readDoubleLE(20),
    ...kind,
    apiKeyId: bytes.toString('utf8', FIXED_HEADER_BYTES, apiKeyIdEnd),
    payload: bytes.subarray(apiKeyIdEnd),
  };
}
