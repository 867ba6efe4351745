// SHA-256 of each tensor's data in a safetensors file, and the comparison of two files by them.
// Only dtype, shape and data bytes count: the header's metadata (version, training record,
// checksum) and the order of the tensors in the file do not. Read independently of lib/, so that
// files from any two versions of deepr compare the same way.
import { createHash } from "node:crypto";

/** name -> { dtype, shape, sha256 } for every tensor of the safetensors `bytes` (a Buffer). */
export function tensorDigests(bytes, source = "file") {
  const fail = (what) => {
    throw new Error(`${source}: ${what}`);
  };
  if (bytes.length < 8) fail("too short for a safetensors file");
  const headerLength = bytes.readBigUInt64LE(0);
  if (headerLength > BigInt(bytes.length - 8)) fail(`header length ${headerLength} runs past the end of the file`);
  const dataStart = 8 + Number(headerLength);
  let header;
  try {
    header = JSON.parse(bytes.subarray(8, dataStart).toString("utf8"));
  } catch (e) {
    fail(`header is not JSON (${e.message})`);
  }
  const digests = new Map();
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const [begin, end] = entry.data_offsets ?? [];
    if (!(Number.isInteger(begin) && Number.isInteger(end) && begin >= 0 && begin <= end && dataStart + end <= bytes.length))
      fail(`tensor "${name}" has data_offsets ${JSON.stringify(entry.data_offsets)} outside the data section`);
    const sha256 = createHash("sha256").update(bytes.subarray(dataStart + begin, dataStart + end)).digest("hex");
    digests.set(name, { dtype: entry.dtype, shape: entry.shape, sha256 });
  }
  return digests;
}

/**
 * One row per tensor name of either digest map (sorted): { name, ours, theirs, same }, where
 * `ours`/`theirs` is undefined for a tensor missing from that side, and `same` requires the
 * tensor on both sides with equal dtype, shape and data digest.
 */
export function compareDigests(ours, theirs) {
  const names = [...new Set([...ours.keys(), ...theirs.keys()])].sort();
  return names.map((name) => {
    const a = ours.get(name), b = theirs.get(name);
    const same = a !== undefined && b !== undefined && a.dtype === b.dtype && JSON.stringify(a.shape) === JSON.stringify(b.shape) && a.sha256 === b.sha256;
    return { name, ours: a, theirs: b, same };
  });
}
