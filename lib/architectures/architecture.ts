// What the ready-made architectures share: the options every one takes (the input shape, the
// classes, the connectivity, the rule, biases), their checks, and the connectivity each layer with
// connections gets. A rule that trains every connection ("dense") gets the dense layer kinds where
// they exist, and the sparse kinds at connectivity 1 elsewhere.
import { boolean, integer, MAX_SIZE, object, oneOf, real, rejectUnknown } from "../checks.js";
import type { LayerSpec } from "../layers/layer-kind.js";
import { sampleShapeOption } from "../options.js";
import { findRule, ruleNames, type RuleName } from "../rules/registry.js";

/** A network for `Model.create`: its layer list, the shape of one sample, and the rule when one was given. */
export interface Architecture {
  layers: LayerSpec[];
  inputShape: number[];
  rule?: RuleName;
}

/** The options every architecture takes. */
export interface CommonArchitectureOptions {
  /** The shape of one sample; each architecture has its own default (MNIST's). */
  inputShape?: number[];
  /** The number of classes of the softmax head. Default 10. */
  classes?: number;
  /**
   * The fraction of the possible connections kept active, in (0, 1]: one number for every layer
   * with connections, or one per such layer, input first. Each architecture has its own default.
   * Left out with rule "dense", which trains every connection.
   */
  connectivity?: number | number[];
  /** The rule the model will train with, passed on to Model.create: "dense" builds dense layers. Default "deep-r". */
  rule?: RuleName;
  /** Whether every layer with parameters has a bias. */
  bias?: boolean;
}

/** The common options as checked, with the architecture's defaults filled in. */
export interface CheckedOptions {
  inputShape: number[];
  classes: number;
  /** Per layer with connections; all 1 with a dense rule. */
  connectivity: number[];
  /** As given. */
  rule?: RuleName;
  dense: boolean;
  bias: boolean;
  /** The given options, for the architecture's own keys. */
  given: Record<string, unknown>;
}

export interface ArchitectureDefaults {
  name: string;
  inputShape: number[];
  /** One per layer with connections. */
  connectivity: number[];
  bias: boolean;
  /** The architecture's own option keys. */
  keys: readonly string[];
}

const COMMON_KEYS = ["inputShape", "classes", "connectivity", "rule", "bias"];

/** The common options of `input`, checked against architecture `d`; errors name `options.key`. */
export function checkOptions(input: unknown, d: ArchitectureDefaults): CheckedOptions {
  const given = input === undefined ? {} : object("options", input);
  rejectUnknown("options", given, [...COMMON_KEYS, ...d.keys], `the ${d.name} architecture`);
  const inputShape = given.inputShape === undefined ? [...d.inputShape] : sampleShapeOption("options.inputShape", given.inputShape);
  if (inputShape.length !== d.inputShape.length)
    throw new RangeError(`options.inputShape of the ${d.name} architecture has ${d.inputShape.length} dimensions, e.g. [${d.inputShape.join(", ")}]; got [${inputShape.join(", ")}]`);
  const classes = given.classes === undefined ? 10 : integer("options.classes", given.classes, 2, MAX_SIZE);
  const rule = given.rule === undefined ? undefined : oneOf("options.rule", given.rule, ruleNames);
  const dense = findRule(rule ?? "deep-r")!.dense;
  const bias = given.bias === undefined ? d.bias : boolean("options.bias", given.bias);
  return { inputShape, classes, connectivity: connectivityOf(given.connectivity, d, dense), rule, dense, bias, given };
}

/** One connectivity per layer with connections: as given (one for all, or one each), else the default. */
function connectivityOf(given: unknown, d: ArchitectureDefaults, dense: boolean): number[] {
  const count = d.connectivity.length;
  if (given === undefined) return dense ? new Array<number>(count).fill(1) : [...d.connectivity];
  const list = Array.isArray(given) ? given : new Array<unknown>(count).fill(given);
  if (list.length !== count)
    throw new RangeError(`options.connectivity of the ${d.name} architecture has one value for every layer or one per layer with connections (${count}), got ${list.length}`);
  const connectivity = list.map((p, l) => real(Array.isArray(given) ? `options.connectivity[${l}]` : "options.connectivity", p, 0, 1, true));
  const partial = connectivity.findIndex((p) => p !== 1);
  if (dense && partial >= 0)
    throw new RangeError(`options.connectivity is ${connectivity[partial]}, but rule "dense" trains every connection; leave connectivity out, or use rule "fixed" for a fixed sparse network`);
  return connectivity;
}

/** A fully connected layer of `outputs`: dense_linear with a dense rule, else sparse_linear at `connectivity`. */
export function linear(outputs: number, connectivity: number, dense: boolean, bias: boolean): LayerSpec {
  return dense ? { kind: "dense_linear", outputs, bias } : { kind: "sparse_linear", outputs, connectivity, bias };
}

/** The architecture of `layers` on the checked options' input shape, with their rule when given. */
export function built(layers: LayerSpec[], { inputShape, rule }: CheckedOptions): Architecture {
  return { layers, inputShape, ...(rule !== undefined ? { rule } : {}) };
}
