// lstm: one LSTM layer and a linear readout of its last output, the recurrent network of the
// paper's TIMIT experiment (Bellec et al. 2018, sec. 4) at 128 units; by default on sequential MNIST,
// an image read row by row ([28, 28]: 28 time steps of 28 pixels). The default connectivity keeps
// 10 % of the 81,152 weights on sequential MNIST: 9.35 % of both LSTM matrices, 50 % of the readout.
import { integer, MAX_SIZE } from "../checks.js";
import { built, checkOptions, linear, type Architecture, type CommonArchitectureOptions } from "./architecture.js";

export interface LstmOptions extends CommonArchitectureOptions {
  /** Units of the LSTM layer. Default 128. */
  units?: number;
}

/** [28, 28]: an MNIST image as 28 time steps of 28 features. */
export const LSTM_INPUT_SHAPE = [28, 28];

export function lstm(options?: LstmOptions): Architecture {
  const checked = checkOptions(options, {
    name: "lstm", inputShape: LSTM_INPUT_SHAPE, connectivity: [0.0935, 0.5], bias: true, keys: ["units"],
  });
  const { classes, connectivity, dense, bias, given } = checked;
  const units = given.units === undefined ? 128 : integer("options.units", given.units, 1, Math.floor(MAX_SIZE / 4));
  // No dense LSTM kind: with a dense rule the sparse one keeps every connection. Its bias is always there.
  const layers = [
    { kind: "sparse_lstm", units, connectivity: connectivity[0] },
    linear(classes, connectivity[1], dense, bias),
    { kind: "softmax_cross_entropy" },
  ];
  return built(layers, checked);
}
