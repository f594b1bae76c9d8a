// Byte ⇄ text helpers for ids (lowercase hex, as OTLP/JSON and the spans table use) and bytes
// attribute values (base64 in OTLP/JSON).

// Buffer#hexSlice is what Buffer#toString('hex') runs after its argument checks. Calling it on
// the Uint8Array directly skips those and the Buffer view allocation: ids are converted three
// times per span on the ingestion hot path, and this halves their cost.
type HexSlice = (this: Uint8Array, start: number, end: number) => string;
const hexSlice: HexSlice =
  (Buffer.prototype as unknown as { hexSlice?: HexSlice }).hexSlice ??
  function (this: Uint8Array, start: number, end: number) {
    return Buffer.from(this.buffer, this.byteOffset, this.byteLength).toString('hex', start, end);
  };

export function bytesToHex(bytes: Uint8Array): string {
  return hexSlice.call(bytes, 0, bytes.length);
}

const HEX_PATTERN = /^(?:[0-9a-fA-F]{2})*$/;

/** Returns undefined for text that is not an even-length hex string. */
export function hexToBytes(hex: string): Uint8Array | undefined {
  if (!HEX_PATTERN.test(hex)) return undefined;
  return Buffer.from(hex, 'hex');
}

export function bytesToBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

const BASE64_PATTERN = /^[A-Za-z0-9+/\-_]*={0,2}$/;

/** Accepts standard and URL-safe base64, padded or not; undefined for anything else. */
export function base64ToBytes(text: string): Uint8Array | undefined {
  if (!BASE64_PATTERN.test(text) || text.length % 4 === 1) return undefined;
  return Buffer.from(text, 'base64');
}
