// cnn: the paper's CIFAR-10 network (Bellec et al. 2018, sec. 4), two convolutions with max-pooling
// then two fully connected layers: conv 5 x 5 (32 channels) -> relu -> max_pool 2 -> conv 5 x 5
// (64 channels) -> relu -> max_pool 2 -> linear 256 -> relu -> linear classes -> softmax, all with
// biases and without padding. On MNIST's [1, 28, 28] the second pooling outputs [64, 4, 4] (1024
// features); on CIFAR-10's [3, 32, 32], [64, 5, 5] (1600). The default connectivity keeps 10 % of
// MNIST's 316,704 weights, more of them in the small first and last layers (50 / 20 / 7.5 / 50 %):
// the 10 % recipe measured in the README.
import { integer, MAX_SIZE } from "../checks.js";
import type { LayerSpec } from "../layers/layer-kind.js";
import { built, checkOptions, linear, type Architecture, type CommonArchitectureOptions } from "./architecture.js";

export interface CnnOptions extends CommonArchitectureOptions {
  /** Output channels of the two convolutions. Default [32, 64]. */
  channels?: [number, number];
  /** The side of the convolutions' square kernels. Default 5. */
  kernel?: number;
  /** The side of the max-pooling windows (and their stride). Default 2. */
  pool?: number;
  /** Units of the hidden fully connected layer. Default 256. */
  hidden?: number;
}

/** [1, 28, 28]: an MNIST image. */
export const CNN_INPUT_SHAPE = [1, 28, 28];

export function cnn(options?: CnnOptions): Architecture {
  const checked = checkOptions(options, {
    name: "cnn", inputShape: CNN_INPUT_SHAPE, connectivity: [0.5, 0.2, 0.075, 0.5], bias: true, keys: ["channels", "kernel", "pool", "hidden"],
  });
  const { classes, connectivity, dense, bias, given } = checked;
  const channels = channelsOf(given.channels);
  const kernel = given.kernel === undefined ? 5 : integer("options.kernel", given.kernel, 1, MAX_SIZE);
  const pool = given.pool === undefined ? 2 : integer("options.pool", given.pool, 1, MAX_SIZE);
  const hidden = given.hidden === undefined ? 256 : integer("options.hidden", given.hidden, 1, MAX_SIZE);
  const convolution = (outChannels: number, l: number): LayerSpec =>
    dense ? { kind: "dense_conv2d", outChannels, kernel, bias } : { kind: "sparse_conv2d", outChannels, kernel, connectivity: connectivity[l], bias };
  const layers = [
    convolution(channels[0], 0), { kind: "relu" }, { kind: "max_pool2d", kernel: pool },
    convolution(channels[1], 1), { kind: "relu" }, { kind: "max_pool2d", kernel: pool },
    linear(hidden, connectivity[2], dense, bias), { kind: "relu" },
    linear(classes, connectivity[3], dense, bias), { kind: "softmax_cross_entropy" },
  ];
  return built(layers, checked);
}

function channelsOf(given: unknown): number[] {
  if (given === undefined) return [32, 64];
  if (!Array.isArray(given) || given.length !== 2) throw new TypeError("options.channels must be the output channels of the two convolutions, e.g. [32, 64]");
  return given.map((c, l) => integer(`options.channels[${l}]`, c, 1, MAX_SIZE));
}
