// The data set a command reads, from --dataset and --data: both splits to train, the test split to evaluate.
import type { Dataset, DatasetSplits } from "../data/dataset.js";
import { loadCifar10, loadCifar10Test } from "../data/cifar10.js";
import { loadMnist, loadMnistTest } from "../data/mnist.js";
import type { Flags } from "./args.js";
import { status } from "./progress.js";
import { UsageError } from "./usage-error.js";

/** What every sample of a data set has; `features` where the format fixes it (MNIST images may come in any size). */
export interface SampleShape {
  features?: number;
  classes: number;
}

interface Source {
  name: string;
  /** Not bundled: needs --data. */
  needsDir: boolean;
  shape: SampleShape;
  all(dir: string | undefined): Promise<DatasetSplits>;
  test(dir: string | undefined): Promise<Dataset>;
}

const sources: Record<string, Source> = {
  mnist: { name: "MNIST", needsDir: false, shape: { classes: 10 }, all: loadMnist, test: loadMnistTest },
  cifar10: {
    name: "CIFAR-10",
    needsDir: true,
    shape: { features: 3 * 32 * 32, classes: 10 },
    all: (dir) => loadCifar10(dir!),
    test: (dir) => loadCifar10Test(dir!),
  },
};

function source(flags: Flags): Source {
  const chosen = sources[flags.choice("dataset") ?? "mnist"];
  if (chosen.needsDir && !flags.has("data"))
    throw new UsageError(`--dataset ${flags.text("dataset")} needs --data DIR: ${chosen.name} is not bundled; download the binary version and point at it`);
  return chosen;
}

/** The shape of the samples, as far as it is known before loading them. */
export function sampleShape(flags: Flags): SampleShape {
  return source(flags).shape;
}

/** "MNIST (bundled)" or "CIFAR-10 from DIR", for messages. */
export function dataName(flags: Flags): string {
  const dir = flags.text("data");
  return `${source(flags).name} ${dir === undefined ? "(bundled)" : `from ${dir}`}`;
}

/** Training and test split; says on a terminal that it is loading, which takes a second or two. */
export async function loadSplits(flags: Flags): Promise<DatasetSplits> {
  const { all } = source(flags);
  const done = status(process.stderr, `loading ${dataName(flags)} ...`);
  try {
    return await all(flags.text("data"));
  } finally {
    done();
  }
}

/** The test split alone (eval needs nothing else). */
export async function loadTestSplit(flags: Flags): Promise<Dataset> {
  const { test } = source(flags);
  const done = status(process.stderr, `loading the ${dataName(flags)} test split ...`);
  try {
    return await test(flags.text("data"));
  } finally {
    done();
  }
}
