// A protocol buffers encoder for the two wire types an ONNX file needs: varints and length-delimited
// fields (strings, bytes, nested messages, packed repeated varints). Tensor data goes in bytes fields.
//
// A message is kept as a list of byte chunks, so large tensor data is referenced, not copied,
// until the file is written; a nested message costs one tag and one length prefix.

const WIRE_VARINT = 0;
const WIRE_LENGTH_DELIMITED = 2;

/** The base-128 varint of an integer in [-2^63, 2^64); negatives take 10 bytes (two's complement, as int64). */
export function encodeVarint(value: number | bigint): Uint8Array {
  let v = BigInt(value);
  if (v < -(1n << 63n) || v >= 1n << 64n) throw new RangeError(`protobuf: ${value} does not fit in 64 bits`);
  v = BigInt.asUintN(64, v);
  const bytes: number[] = [];
  while (v >= 0x80n) {
    bytes.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  bytes.push(Number(v));
  return Uint8Array.from(bytes);
}

/** A message under construction; fields are appended in call order. */
export class ProtoMessage {
  readonly chunks: Uint8Array[] = [];
  #byteLength = 0;

  get byteLength(): number {
    return this.#byteLength;
  }

  #push(chunk: Uint8Array): this {
    if (chunk.length > 0) this.chunks.push(chunk);
    this.#byteLength += chunk.length;
    return this;
  }

  #tag(field: number, wireType: number): this {
    if (!Number.isInteger(field) || field < 1 || field >= 2 ** 29) throw new RangeError(`protobuf: invalid field number ${field}`);
    return this.#push(encodeVarint(field * 8 + wireType));
  }

  /** An int32, int64 or enum field. */
  varint(field: number, value: number | bigint): this {
    return this.#tag(field, WIRE_VARINT).#push(encodeVarint(value));
  }

  /** A bytes field; the bytes are referenced, not copied. */
  bytes(field: number, value: Uint8Array): this {
    return this.#tag(field, WIRE_LENGTH_DELIMITED).#push(encodeVarint(value.length)).#push(value);
  }

  /** A string field, UTF-8 encoded. */
  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  /** A nested message field; `message` must not change afterwards. */
  message(field: number, message: ProtoMessage): this {
    this.#tag(field, WIRE_LENGTH_DELIMITED).#push(encodeVarint(message.byteLength));
    for (const chunk of message.chunks) this.#push(chunk);
    return this;
  }

  /** A packed repeated int32/int64 field: one length-delimited run of varints. */
  packedVarints(field: number, values: readonly (number | bigint)[]): this {
    const encoded = values.map(encodeVarint);
    const run = new Uint8Array(encoded.reduce((total, bytes) => total + bytes.length, 0));
    let offset = 0;
    for (const bytes of encoded) {
      run.set(bytes, offset);
      offset += bytes.length;
    }
    return this.bytes(field, run);
  }

  /** The encoded message as one array. */
  toBytes(): Uint8Array {
    const out = new Uint8Array(this.byteLength);
    let offset = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }
}
