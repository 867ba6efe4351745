// scripts/tensor-digests.mjs, which scripts/same-results.mjs uses to decide that two builds trained
// bit-identical tensors: files made by the package's own safetensors writer, digests checked
// against SHA-256 computed here from the arrays themselves.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { encodeSafetensors, type Tensor } from "../lib/checkpoint/safetensors.js";
import { compareDigests, tensorDigests } from "../scripts/tensor-digests.mjs";

const encode = (tensors: Record<string, Tensor>, metadata: Record<string, string> = {}) => Buffer.concat(encodeSafetensors(tensors, metadata));
const sha256 = (t: Tensor) => createHash("sha256").update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)).digest("hex");

const theta: Tensor = { dtype: "F32", shape: [4], data: new Float32Array([0.5, -1.25, 3e-8, 7]) };
const positions: Tensor = { dtype: "I32", shape: [2, 2], data: new Int32Array([0, 1, 5, 2]) };
const sign: Tensor = { dtype: "I8", shape: [4], data: new Int8Array([1, -1, -1, 1]) };
const tensors = { "layers.0.weight.theta": theta, "layers.0.weight.positions": positions, "layers.0.weight.sign": sign };

describe("tensorDigests", () => {
  it("gives each tensor's dtype, shape and the SHA-256 of exactly its data bytes", () => {
    const digests = tensorDigests(encode(tensors, { "deepr.version": "2" }));
    expect([...digests.keys()].sort()).toEqual(Object.keys(tensors).sort());
    for (const [name, t] of Object.entries(tensors)) expect(digests.get(name)).toEqual({ dtype: t.dtype, shape: t.shape, sha256: sha256(t) });
  });

  it("says which file is broken when a tensor's data lies outside the file", () => {
    const bytes = encode(tensors);
    expect(() => tensorDigests(bytes.subarray(0, bytes.length - 3), "cut.safetensors")).toThrow(/^cut\.safetensors: tensor "layers\.0\.weight\.\w+" has data_offsets \[\d+,\d+\] outside the data section$/);
  });
});

describe("compareDigests", () => {
  it("finds files identical whose metadata and tensor order differ but whose tensors do not", () => {
    const reordered = Object.fromEntries(Object.entries(tensors).reverse());
    const a = tensorDigests(encode(tensors, { "deepr.version": "1", "deepr.training": '{"seconds":1.5}' }));
    const b = tensorDigests(encode(reordered, { "deepr.version": "2" }));
    const rows = compareDigests(a, b);
    expect(rows.map((r) => r.name)).toEqual(Object.keys(tensors).sort());
    expect(rows.every((r) => r.same)).toBe(true);
  });

  it("flags exactly the tensor one ULP away, and no other", () => {
    const nudged = new Float32Array(theta.data as Float32Array);
    new Int32Array(nudged.buffer)[2] += 1; // the next float after 3e-8
    expect(nudged[2]).not.toBe((theta.data as Float32Array)[2]);
    const rows = compareDigests(tensorDigests(encode(tensors)), tensorDigests(encode({ ...tensors, "layers.0.weight.theta": { ...theta, data: nudged } })));
    expect(rows.filter((r) => !r.same).map((r) => r.name)).toEqual(["layers.0.weight.theta"]);
  });

  it("flags a tensor missing from either side, and one with the same bytes under another dtype or shape", () => {
    const { "layers.0.weight.sign": _dropped, ...withoutSign } = tensors;
    const asU8: Tensor = { dtype: "U8", shape: [4], data: new Uint8Array(sign.data.buffer.slice(0)) };
    const flat: Tensor = { dtype: "I32", shape: [4], data: positions.data };
    const ours = tensorDigests(encode({ ...withoutSign, extra: theta }));
    const theirs = tensorDigests(encode({ ...tensors, "layers.0.weight.positions": flat }));
    expect(compareDigests(ours, theirs).map((r) => [r.name, r.same, r.ours !== undefined, r.theirs !== undefined])).toEqual([
      ["extra", false, true, false],
      ["layers.0.weight.positions", false, true, true],
      ["layers.0.weight.sign", false, false, true],
      ["layers.0.weight.theta", true, true, true],
    ]);
    const retyped = compareDigests(tensorDigests(encode(tensors)), tensorDigests(encode({ ...tensors, "layers.0.weight.sign": asU8 })));
    expect(retyped.find((r) => r.name === "layers.0.weight.sign")).toMatchObject({ same: false, ours: { sha256: sha256(sign) }, theirs: { sha256: sha256(sign) } });
  });
});
