// A trained network as an ONNX model (field numbers from the ONNX spec's onnx.proto).
//
// Graph, for layers l = 0 .. L-1 (y = x W + b as in the checkpoints):
//   input "input" float32 [batch, features]
//   MatMul with layers.{l}.weight [in, out] (W[i, j] = sign * theta at the active positions, 0 elsewhere)
//   Add layers.{l}.bias [out]      when the model has biases
//   Relu                           between layers
//   outputs "logits" [batch, classes] and "probabilities" = Softmax(logits) over the last axis
// The weights are sparse initializers by default (values and linearized indices of the K active
// connections, so the file grows with K), or dense initializers for runtimes without them.
import { createRequire } from "node:module";
import { Model, type LayerState } from "../model.js";
import { describe } from "../options.js";
import { writeFileAtomic } from "../atomic-file.js";
import { ExportError } from "./export-error.js";
import { ProtoMessage } from "./protobuf.js";

export interface OnnxOptions {
  /**
   * `"sparse"` (default): each weight matrix is a sparse initializer holding only its K active
   * connections (12 bytes each). `"dense"`: a dense in x out float32 initializer, for runtimes that
   * do not read sparse initializers.
   */
  weights?: "sparse" | "dense";
}

// Opset 13 (ONNX 1.8, 2020) is widely supported; IR version 7 is the one it came with. Softmax
// from opset 13 on normalises along one axis, which is what "probabilities" needs.
const OPSET = 13;
const IR_VERSION = 7;
const FLOAT = 1;  // TensorProto.DataType
const INT64 = 7;
const ATTRIBUTE_INT = 2;  // AttributeProto.AttributeType
// Protobuf parsers, and so ONNX runtimes, refuse messages over 2 GiB.
const MAX_PROTOBUF_BYTES = 2 ** 31 - 1;

const version: string = createRequire(import.meta.url)("../../package.json").version;

/** The model as ONNX file bytes. */
export async function toOnnx(model: Model, options: OnnxOptions = {}): Promise<Uint8Array> {
  return (await encode(model, options)).toBytes();
}

/** Writes the model as an ONNX file, atomically (the previous file survives any failure). */
export async function exportOnnx(model: Model, path: string, options: OnnxOptions = {}): Promise<void> {
  if (typeof path !== "string" || path === "") throw new TypeError(`path must be a non-empty string, got ${describe(path)}`);
  const message = await encode(model, options, path);
  await writeFileAtomic(path, message.chunks, "ONNX model", ExportError);
}

async function encode(model: Model, options: OnnxOptions, path?: string): Promise<ProtoMessage> {
  if (!(model instanceof Model)) throw new TypeError(`model must be a deepr Model, got ${describe(model)}`);
  if (options === null || typeof options !== "object") throw new TypeError(`options must be an object, got ${describe(options)}`);
  const weights = options.weights ?? "sparse";
  if (weights !== "sparse" && weights !== "dense")
    throw new RangeError(`options.weights must be "sparse" or "dense", got ${describe(options.weights)}`);
  const layers = await model.exportLayers();
  layers.forEach((layer, l) => {
    for (const [name, values] of [["theta", layer.theta], ["bias", layer.bias]] as const)
      if (values?.some((v) => !Number.isFinite(v)))
        throw new ExportError(
          `deepr: cannot export ${path ?? "the model"}: layers.${l}.${name} holds non-finite values (training diverged); load the last good checkpoint`,
        );
  });
  // Checked before the dense matrices are allocated. ONNX's external data files, which lift the
  // limit, are not written.
  const bytes = layers.reduce((total, l) => total + (weights === "dense" ? 4 * l.inputs * l.outputs : 12 * l.theta.length) + 4 * (l.bias?.length ?? 0), 0);
  if (bytes > MAX_PROTOBUF_BYTES)
    throw new ExportError(
      `deepr: cannot export ${path ?? "the model"}: its ${weights} weights take ${bytes} bytes, more than the 2 GiB a protobuf file can hold` +
        (weights === "dense" ? '; export with { weights: "sparse" }' : ""),
    );
  return modelProto(model, layers, weights);
}

function modelProto(model: Model, layers: LayerState[], weights: "sparse" | "dense"): ProtoMessage {
  const { layers: widths, connectivity, budgets, budget, globalShare, bias, seed } = model.options;
  const active = layers.reduce((total, layer) => total + layer.theta.length, 0);
  const proto = new ProtoMessage()
    .varint(1, IR_VERSION)  // ModelProto.ir_version
    .string(2, "deepr")  // producer_name
    .string(3, version)  // producer_version
    .string(6, `DEEP R sparse network ${JSON.stringify(widths)} with ${active} active connections`)  // doc_string
    .message(7, graphProto(layers, weights))  // graph
    .message(8, new ProtoMessage().string(1, "").varint(2, OPSET));  // opset_import: domain, version
  const options = JSON.stringify({ layers: widths, connectivity, budgets, budget, globalShare, bias, seed });
  return proto.message(14, new ProtoMessage().string(1, "deepr.model").string(2, options));  // metadata_props: key, value
}

function graphProto(layers: LayerState[], weights: "sparse" | "dense"): ProtoMessage {
  const graph = new ProtoMessage().string(2, "deepr");  // GraphProto.name
  const features = layers[0].inputs;
  const classes = layers[layers.length - 1].outputs;
  let x = "input";
  layers.forEach((layer, l) => {
    const last = l === layers.length - 1;
    const weight = `layers.${l}.weight`;
    if (weights === "sparse") graph.message(15, sparseWeight(weight, layer));  // sparse_initializer
    else graph.message(5, denseWeight(weight, layer));  // initializer
    let y = last && !layer.bias ? "logits" : `layers.${l}.matmul`;
    graph.message(1, node("MatMul", `layers.${l}/MatMul`, [x, weight], y));  // node
    if (layer.bias) {
      const name = `layers.${l}.bias`;
      graph.message(5, tensor(name, [layer.outputs], FLOAT, floatBytes(layer.bias)));
      const sum = last ? "logits" : `layers.${l}.add`;
      graph.message(1, node("Add", `layers.${l}/Add`, [y, name], sum));
      y = sum;
    }
    if (!last) {
      graph.message(1, node("Relu", `layers.${l}/Relu`, [y], `layers.${l}.relu`));
      y = `layers.${l}.relu`;
    }
    x = y;
  });
  const softmax = node("Softmax", "Softmax", ["logits"], "probabilities");
  softmax.message(5, new ProtoMessage().string(1, "axis").varint(20, ATTRIBUTE_INT).varint(3, -1));  // attribute: name, type, i
  graph.message(1, softmax);
  graph.message(11, valueInfo("input", ["batch", features]));  // input
  graph.message(12, valueInfo("probabilities", ["batch", classes]));  // output
  graph.message(12, valueInfo("logits", ["batch", classes]));
  return graph;
}

function node(opType: string, name: string, inputs: string[], output: string): ProtoMessage {
  const proto = new ProtoMessage();
  for (const input of inputs) proto.string(1, input);  // NodeProto.input
  return proto.string(2, output).string(3, name).string(4, opType);  // output, name, op_type
}

/** A float32 tensor of shape `dims`; a string is a symbolic dimension. */
function valueInfo(name: string, dims: (number | string)[]): ProtoMessage {
  const shape = new ProtoMessage();
  for (const d of dims)
    shape.message(1, typeof d === "string" ? new ProtoMessage().string(2, d) : new ProtoMessage().varint(1, d));  // TensorShapeProto.dim: dim_param or dim_value
  const tensorType = new ProtoMessage().varint(1, FLOAT).message(2, shape);  // TypeProto.Tensor: elem_type, shape
  return new ProtoMessage().string(1, name).message(2, new ProtoMessage().message(1, tensorType));  // ValueInfoProto: name, type.tensor_type
}

function tensor(name: string, dims: number[], dataType: number, data: Uint8Array): ProtoMessage {
  return new ProtoMessage().packedVarints(1, dims).varint(2, dataType).string(8, name).bytes(9, data);  // dims, data_type, name, raw_data
}

// raw_data is little-endian whatever the host.
function floatBytes(values: ArrayLike<number>): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  for (let n = 0; n < values.length; n++) view.setFloat32(4 * n, values[n], true);
  return bytes;
}

function denseWeight(name: string, layer: LayerState): ProtoMessage {
  const { inputs, outputs, positions, theta, sign } = layer;
  const dense = new Float32Array(inputs * outputs);
  for (let k = 0; k < theta.length; k++) dense[positions[2 * k] * outputs + positions[2 * k + 1]] = sign[k] * theta[k];
  return tensor(name, [inputs, outputs], FLOAT, floatBytes(dense));
}

/** SparseTensorProto: values [K] and linearized indices [K] (i * out + j), ascending as the spec requires. */
function sparseWeight(name: string, layer: LayerState): ProtoMessage {
  const { inputs, outputs, positions, theta, sign } = layer;
  if (inputs * outputs > Number.MAX_SAFE_INTEGER)
    throw new ExportError(`deepr: a layer of ${inputs} x ${outputs} has more positions than ONNX indices can be computed for here (2^53)`);
  const k = theta.length;
  const index = new Float64Array(k);
  for (let n = 0; n < k; n++) index[n] = positions[2 * n] * outputs + positions[2 * n + 1];
  const order = new Uint32Array(k).map((_, n) => n).sort((a, b) => index[a] - index[b]);
  const values = new Uint8Array(4 * k);
  const indices = new Uint8Array(8 * k);
  const valueView = new DataView(values.buffer);
  const indexView = new DataView(indices.buffer);
  order.forEach((n, rank) => {
    valueView.setFloat32(4 * rank, sign[n] * theta[n], true);
    indexView.setUint32(8 * rank, index[n] % 2 ** 32, true);
    indexView.setUint32(8 * rank + 4, Math.floor(index[n] / 2 ** 32), true);
  });
  return new ProtoMessage()
    .message(1, tensor(name, [k], FLOAT, values))  // SparseTensorProto.values
    .message(2, tensor(`${name}.indices`, [k], INT64, indices))  // indices
    .packedVarints(3, [inputs, outputs]);  // dims
}
