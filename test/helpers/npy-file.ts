// Writes .npy files as NumPy does (version 1.0, C order), independently of the library's reader.

/** A version-1.0 .npy file of `data` with dtype `descr` (e.g. "<f4") and `shape`; data starts at a multiple of 64 bytes. */
export function npyFile(descr: string, shape: readonly number[], data: ArrayBufferView): Buffer {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(", ")}${shape.length === 1 ? "," : ""}), }`;
  header += " ".repeat(63 - ((10 + header.length) % 64)) + "\n";
  const prefix = Buffer.alloc(10);
  prefix.write("\x93NUMPY", 0, "latin1");
  prefix.writeUInt8(1, 6);
  prefix.writeUInt16LE(header.length, 8);
  return Buffer.concat([prefix, Buffer.from(header, "latin1"), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}
