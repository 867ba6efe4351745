// The ONNX messages a layer kind's export is made of: nodes, tensors and value infos (field numbers
// from the ONNX spec's onnx.proto). lib/export/onnx.ts assembles the model; each layer kind
// (lib/layers/) adds its own nodes and initializers with these.
import { ProtoMessage } from "./protobuf.js";

export const FLOAT = 1;  // TensorProto.DataType
export const INT64 = 7;
const ATTRIBUTE_INT = 2;  // AttributeProto.AttributeType
const ATTRIBUTE_INTS = 7;

/** NodeProto: `opType` named `name`, reading `inputs`, writing `output`. */
export function node(opType: string, name: string, inputs: string[], output: string): ProtoMessage {
  const proto = new ProtoMessage();
  for (const input of inputs) proto.string(1, input);  // NodeProto.input
  return proto.string(2, output).string(3, name).string(4, opType);  // output, name, op_type
}

/** An integer attribute of a node. */
export function intAttribute(name: string, value: number): ProtoMessage {
  return new ProtoMessage().string(1, name).varint(20, ATTRIBUTE_INT).varint(3, value);  // AttributeProto: name, type, i
}

/** A float32 tensor of shape `dims`; a string is a symbolic dimension. */
export function valueInfo(name: string, dims: (number | string)[]): ProtoMessage {
  const shape = new ProtoMessage();
  for (const d of dims)
    shape.message(1, typeof d === "string" ? new ProtoMessage().string(2, d) : new ProtoMessage().varint(1, d));  // TensorShapeProto.dim: dim_param or dim_value
  const tensorType = new ProtoMessage().varint(1, FLOAT).message(2, shape);  // TypeProto.Tensor: elem_type, shape
  return new ProtoMessage().string(1, name).message(2, new ProtoMessage().message(1, tensorType));  // ValueInfoProto: name, type.tensor_type
}

export function tensor(name: string, dims: number[], dataType: number, data: Uint8Array): ProtoMessage {
  return new ProtoMessage().packedVarints(1, dims).varint(2, dataType).string(8, name).bytes(9, data);  // dims, data_type, name, raw_data
}

// raw_data is little-endian whatever the host.
export function floatBytes(values: ArrayLike<number>): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  for (let n = 0; n < values.length; n++) view.setFloat32(4 * n, values[n], true);
  return bytes;
}

/** A list-of-integers attribute of a node (kernel_shape, pads, strides). */
export function intsAttribute(name: string, values: readonly number[]): ProtoMessage {
  return new ProtoMessage().string(1, name).varint(20, ATTRIBUTE_INTS).packedVarints(8, values);  // AttributeProto: name, type, ints
}

/**
 * SparseTensorProto of shape `dims`: the values at the linearized indices `index` (row-major over
 * `dims`), written in ascending index order as the spec requires.
 */
export function sparseTensor(name: string, dims: number[], index: Float64Array, values: ArrayLike<number>): ProtoMessage {
  const k = index.length;
  const order = new Uint32Array(k).map((_, n) => n).sort((a, b) => index[a] - index[b]);
  const valueBytes = new Uint8Array(4 * k);
  const indexBytes = new Uint8Array(8 * k);
  const valueView = new DataView(valueBytes.buffer);
  const indexView = new DataView(indexBytes.buffer);
  order.forEach((n, rank) => {
    valueView.setFloat32(4 * rank, values[n], true);
    indexView.setBigInt64(8 * rank, BigInt(index[n]), true);
  });
  return new ProtoMessage()
    .message(1, tensor(name, [k], FLOAT, valueBytes))  // SparseTensorProto.values
    .message(2, tensor(`${name}.indices`, [k], INT64, indexBytes))  // indices
    .packedVarints(3, dims);  // dims
}
