// Reading protobuf messages back field by field, for the tests of the ONNX files deepr writes.

export type Fields = Map<number, (bigint | Uint8Array)[]>;

/** Splits a protobuf message into its fields: varints as bigint, length-delimited as bytes. */
export function decode(bytes: Uint8Array): Fields {
  const fields: Fields = new Map();
  let at = 0;
  const varint = () => {
    let value = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const byte = bytes[at++];
      value |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return value;
    }
  };
  while (at < bytes.length) {
    const tag = Number(varint());
    const wire = tag & 7;
    if (wire !== 0 && wire !== 2) throw new Error(`unexpected wire type ${wire}`);
    let value: bigint | Uint8Array = 0n;
    if (wire === 0) value = varint();
    else {
      const length = Number(varint());
      value = bytes.subarray(at, at + length);
      at += length;
    }
    fields.set(tag >> 3, [...(fields.get(tag >> 3) ?? []), value]);
  }
  return fields;
}
/** The values of a packed repeated varint field. */
export const packed = (bytes: Uint8Array) => {
  const values: bigint[] = [];
  let value = 0n, shift = 0n;
  for (const byte of bytes) {
    value |= BigInt(byte & 0x7f) << shift;
    shift += 7n;
    if (byte < 0x80) [values[values.length], value, shift] = [value, 0n, 0n];
  }
  return values;
};
export const text = (value: bigint | Uint8Array) => new TextDecoder().decode(value as Uint8Array);
export const all = (fields: Fields, field: number) => (fields.get(field) ?? []) as Uint8Array[];
