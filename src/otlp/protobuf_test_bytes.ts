// Hand-built protobuf bytes for tests that need what an encoder will not write: repeated fields
// (the last wins), nesting deeper than encoders allow.

/** A length-delimited field: `payload` under field number `field`. */
export function lengthDelimited(field: number, payload: Buffer): Buffer {
  return Buffer.concat([varint((field << 3) | 2), varint(payload.length), payload]);
}

function varint(value: number): Buffer {
  const bytes: number[] = [];
  while (value > 0x7f) {
    bytes.push((value & 0x7f) | 0x80);
    value >>>= 7;
  }
  bytes.push(value);
  return Buffer.from(bytes);
}
