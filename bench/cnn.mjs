// The small convolutional network at batch 32: DEEP R with every convolution and linear layer
// sparse at 1, 2, 5, 10, 20 and 50 % against the same network dense (deepr's dense_conv2d and
// dense_linear; PyTorch nn.Conv2d/nn.Linear, bench/cnn_torch.py; NumPy, bench/cnn_numpy.py), with
// the break-even density.
// Network (the `cnn` architecture): [1, 28, 28] -> conv 5x5 32 -> relu -> max_pool 2 -> conv 5x5 64 -> relu
// -> max_pool 2 -> linear 1024 -> 256 -> relu -> linear 256 -> 10 -> softmax cross-entropy, every layer with a bias.
// Synthetic pixels and labels: a step's cost does not depend on the values.
//
//   node bench/cnn.mjs                  the table (about a minute on 2 cores)
//   node bench/cnn.mjs '{"quick":true}'  few steps, to check that it runs; '{"json":true}' for bench/run.mjs
import { sparseVsDense, report } from "./sparse-vs-dense.mjs";

const BATCH = 32;
const DENSITIES = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5];
const convs = [
  { in_channels: 1, height: 28, width: 28, out_channels: 32 },
  { in_channels: 32, height: 12, width: 12, out_channels: 64 },
].map((c) => ({ ...c, kernel_height: 5, kernel_width: 5, stride: 1, padding: 0, bias: true }));
const pools = [{ channels: 32, height: 24, width: 24 }, { channels: 64, height: 8, width: 8 }].map((p) => ({ kind: "max_pool2d", ...p, kernel_height: 2, kernel_width: 2, stride: 2 }));
const linears = [{ inputs: 1024, outputs: 256, bias: true }, { inputs: 256, outputs: 10, bias: true }];

const budget = (positions, p) => Math.max(1, Math.floor(positions * p));
const kernelPositions = (c) => c.out_channels * c.in_channels * c.kernel_height * c.kernel_width;

/** The network with each convolution and linear layer made by `conv` and `linear`. */
const network = (conv, linear) => [
  conv(convs[0]), { kind: "relu" }, pools[0],
  conv(convs[1]), { kind: "relu" }, pools[1],
  linear(linears[0]), { kind: "relu" },
  linear(linears[1]), { kind: "softmax_cross_entropy" },
];

const spec = JSON.parse(process.argv[2] ?? "{}");
const parameters = convs.reduce((n, c) => n + kernelPositions(c) + c.out_channels, 0) + linears.reduce((n, l) => n + l.inputs * l.outputs + l.outputs, 0);
const result = await sparseVsDense({
  title: `CNN 28x28 -> conv 32 -> pool -> conv 64 -> pool -> 256 -> 10, batch ${BATCH}`,
  batch: BATCH,
  data: { features: 28 * 28, classes: 10 },
  sweep: DENSITIES.map((p) => ({
    connectivity: p,
    layers: network(
      (c) => ({ kind: "sparse_conv2d", ...c, budget: budget(kernelPositions(c), p) }),
      (l) => ({ kind: "sparse_linear", ...l, budget: budget(l.inputs * l.outputs, p) }),
    ),
  })),
  dense: {
    name: "dense_conv2d + dense_linear",
    layers: network((c) => ({ kind: "dense_conv2d", ...c }), (l) => ({ kind: "dense_linear", ...l })),
    rule: { optimiser: "sgd", prior: "none", structure: "fixed", budget: "layer", globalShare: "budget" },
    parameters,
  },
  baselines: [
    { script: "cnn_torch.py", python: "torch", label: "nn.Conv2d + nn.Linear (PyTorch)" },
    { script: "cnn_numpy.py", python: "numpy", label: "im2col + matmul (NumPy)" },
  ],
  quick: spec.quick,
  log: (m) => console.error(`[cnn] ${m}`),
});
report(result, spec);
