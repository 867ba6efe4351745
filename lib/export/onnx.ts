// A trained network as an ONNX model (field numbers from the ONNX spec's onnx.proto).
//
// Graph: input "input" float32 [batch, features], then each layer of the model's graph as its
// kind exports it (lib/layers/), numbered by the layers with parameters l = 0 .. L-1 (a layer
// without parameters takes the number of the one before it; a second of its kind there, as two
// poolings in a row, adds its index in the graph, layers.{l}.{index}, so names stay unique):
//   sparse_linear: MatMul with layers.{l}.weight [in, out] (W[i, j] = sign * theta at the active
//                  positions, 0 elsewhere, y = x W + b as in the checkpoints), Add layers.{l}.bias [out]
//                  when the model has biases
//   relu:          Relu
//   sparse_conv2d, dense_conv2d: Reshape to [batch, channels, height, width], Conv with
//                  layers.{l}.weight [outChannels, channels, kh, kw] (and layers.{l}.bias), Flatten
//   max_pool2d:    Reshape, MaxPool, Flatten
//   sparse_lstm:   Reshape to [batch, time, features], Transpose to time-major, LSTM with dense
//                  layers.{l}.W, .R and .B (gates reordered to ONNX's i, o, f, c), Y_h reshaped to
//                  [batch, units], or with `sequence` Y to [batch, time * units]
//   dense_linear:  MatMul with the dense layers.{l}.weight [in, out], Add layers.{l}.bias [out]
//   softmax_cross_entropy: outputs "logits" [batch, classes] and "probabilities" = Softmax(logits)
//                  over the last axis
//   mean_squared_error: outputs "predictions" [batch, outputs], the result of the layer before it as it is
// The weights are sparse initializers by default (values and linearized indices of the K active
// connections, so the file grows with K), or dense initializers for runtimes without them.
import { createRequire } from "node:module";
import { graphOf } from "../checkpoint/graph.js";
import { layerKindOf, type GraphLayer } from "../layers/registry.js";
import { Model, type LayerState } from "../model.js";
import { describe, isLayerList, networkWidths, nonEmptyString, object } from "../options.js";
import { writeFileAtomic } from "../atomic-file.js";
import { ExportError } from "./export-error.js";
import { valueInfo } from "./onnx-nodes.js";
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
// Protobuf parsers, and so ONNX runtimes, refuse messages over 2 GiB.
const MAX_PROTOBUF_BYTES = 2 ** 31 - 1;

const version: string = createRequire(import.meta.url)("../../package.json").version;

/** The model as ONNX file bytes. */
export async function toOnnx(model: Model, options: OnnxOptions = {}): Promise<Uint8Array> {
  return (await encode(model, options)).toBytes();
}

/** Writes the model as an ONNX file, atomically (the previous file survives any failure). */
export async function exportOnnx(model: Model, path: string, options: OnnxOptions = {}): Promise<void> {
  nonEmptyString("path", path);
  const message = await encode(model, options, path);
  await writeFileAtomic(path, message.chunks, "ONNX model", ExportError);
}

async function encode(model: Model, options: OnnxOptions, path?: string): Promise<ProtoMessage> {
  if (!(model instanceof Model)) throw new TypeError(`model must be a deepr Model, got ${describe(model)}`);
  object("options", options);
  const weights = options.weights ?? "sparse";
  if (weights !== "sparse" && weights !== "dense")
    throw new RangeError(`options.weights must be "sparse" or "dense", got ${describe(options.weights)}`);
  const layers = await model.exportLayers();
  layers.forEach((layer, l) => {
    for (const [store, arrays] of Object.entries(layer.stores))
      for (const field of ["theta", "value"])
        if ((arrays[field] as Float32Array | undefined)?.some((v) => !Number.isFinite(v)))
          throw new ExportError(
            `deepr: cannot export ${path ?? "the model"}: layers.${l}.${store}.${field} holds non-finite values (training diverged); load the last good checkpoint`,
          );
  });
  // Checked before the dense matrices are allocated. ONNX's external data files, which lift the
  // limit, are not written.
  const graph = graphOf(model.options, "sgd");
  const states = layers.values();
  const bytes = graph.reduce((total, layer) => total + (layerKindOf(layer).stores?.onnxBytes(states.next().value!, weights) ?? 0), 0);
  if (bytes > MAX_PROTOBUF_BYTES)
    throw new ExportError(
      `deepr: cannot export ${path ?? "the model"}: its ${weights} weights take ${bytes} bytes, more than the 2 GiB a protobuf file can hold` +
        (weights === "dense" ? '; export with { weights: "sparse" }' : ""),
    );
  return modelProto(model, graph, layers, weights);
}

function modelProto(model: Model, graph: GraphLayer[], layers: LayerState[], weights: "sparse" | "dense"): ProtoMessage {
  const { layers: given, inputShape, connectivity, budgets, budget, globalShare, bias, seed } = model.options;
  const list = isLayerList(given);
  const active = layers.reduce((total, layer) => total + Object.values(layer.stores).reduce((sum, arrays) => sum + (arrays.theta?.length ?? 0), 0), 0);
  const proto = new ProtoMessage()
    .varint(1, IR_VERSION)  // ModelProto.ir_version
    .string(2, "deepr")  // producer_name
    .string(3, version)  // producer_version
    .string(6, `DEEP R sparse network ${list ? `of ${given.length} layers` : JSON.stringify(given)} with ${active} active connections`)  // doc_string
    .message(7, graphProto(graph, layers, weights, networkWidths(model.options)))  // graph
    .message(8, new ProtoMessage().string(1, "").varint(2, OPSET));  // opset_import: domain, version
  const options = JSON.stringify({ layers: given, ...(list ? { inputShape } : {}), connectivity, budgets, budget, globalShare, bias, seed });
  return proto.message(14, new ProtoMessage().string(1, "deepr.model").string(2, options));  // metadata_props: key, value
}

function graphProto(
  layers: GraphLayer[], states: LayerState[], weights: "sparse" | "dense", { inputs: features, outputs: classes }: { inputs: number; outputs: number },
): ProtoMessage {
  const graph = new ProtoMessage().string(2, "deepr");  // GraphProto.name
  let x = "input";
  let parameterLayer = -1;
  const outputs: string[] = [];
  // Prefixes of the layers without parameters, by kind: a second one of a kind after the same layer with parameters adds its graph index.
  const taken = new Set<string>();
  layers.forEach((layer, l) => {
    const kind = layerKindOf(layer);
    if (kind.stores) parameterLayer++;
    let prefix = `layers.${parameterLayer}`;
    if (!kind.stores) {
      if (taken.has(`${prefix} ${layer.kind}`)) prefix = `${prefix}.${l}`;
      taken.add(`${prefix} ${layer.kind}`);
    }
    const next = layers[l + 1] && layerKindOf(layers[l + 1]);
    x = kind.onnx(layer, {
      graph, input: x, prefix, output: next?.onnxInput, state: kind.stores ? states[parameterLayer] : undefined, weights,
    });
    outputs.push(...(kind.onnxOutputs ?? []));
  });
  graph.message(11, valueInfo("input", ["batch", features]));  // input
  for (const output of outputs) graph.message(12, valueInfo(output, ["batch", classes]));  // output
  return graph;
}
