// mlp: the paper's MNIST network (Bellec et al. 2018, sec. 4), LeNet-300-100: two hidden layers of
// 300 and 100 units with ReLU, at the reference script's 1 %, 3 % and 30 % connectivity and without
// biases; the same network as the widths [784, 300, 100, 10] that `deepr train` builds by default.
import { built, checkOptions, linear, type Architecture, type CommonArchitectureOptions } from "./architecture.js";

export type MlpOptions = CommonArchitectureOptions;

const HIDDEN = [300, 100];

export function mlp(options?: MlpOptions): Architecture {
  const checked = checkOptions(options, {
    name: "mlp", inputShape: [784], connectivity: [0.01, 0.03, 0.3], bias: false, keys: [],
  });
  const { classes, connectivity, dense, bias } = checked;
  const layers = [...HIDDEN, classes].flatMap((outputs, l) => [
    linear(outputs, connectivity[l], dense, bias),
    l < HIDDEN.length ? { kind: "relu" } : { kind: "softmax_cross_entropy" },
  ]);
  return built(layers, checked);
}
