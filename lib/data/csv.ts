// CSV data sets: one sample per line, a label column and numeric features (RFC 4180 quoting:
// fields in double quotes may hold the delimiter, line breaks and "" for a quote). Line and column
// numbers in error messages count from 1, as in an editor.
import { shapedDataset } from "./arrays.js";
import type { Dataset } from "./dataset.js";
import { DataFormatError, readDataFile } from "./idx.js";
import { describe, integer, MAX_SIZE, nonEmptyString, object } from "../options.js";

/** How `loadCsv` reads a file. */
export interface CsvOptions {
  /**
   * Whether the first line names the columns. Default: detected; the first line is a header when
   * `labelColumn` is a name, when its label field is "label", or when any of its other fields is not a number.
   */
  header?: boolean;
  /**
   * The column holding the labels: a column name (needs a header) or a 0-based index. Default: the
   * column named "label" (any case) when the header has one, else the first column. Every other column is a feature.
   */
  labelColumn?: string | number;
  /** The field separator, one character. Default "," (a tab for files ending in .tsv). */
  delimiter?: string;
  /**
   * The number of classes. Default: the largest label + 1 when every label is an integer from 0;
   * otherwise labels are names, numbered 0, 1, ... in sorted order (JavaScript's default string sort)
   * and kept in `Dataset.classNames`, and the default is their count.
   */
  classes?: number;
}

const CSV_KEYS = ["header", "labelColumn", "delimiter", "classes"];
const NUMBER = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;
const INTEGER = /^\s*\d+\s*$/;
const FLOAT32_MAX = 3.4028234663852886e38;

/** Reads a CSV file whole and parses it with `parseCsv`. */
export async function loadCsv(path: string, options: CsvOptions = {}): Promise<Dataset> {
  nonEmptyString("path", path);
  checkOptions(options);
  const text = (await readDataFile(path)).toString("utf8");
  const delimiter = options.delimiter ?? (path.toLowerCase().endsWith(".tsv") ? "\t" : ",");
  return parseCsv(text, path, { ...options, delimiter });
}

/** Parses CSV text into a Dataset; `source` names the file in error messages. */
export function parseCsv(text: string, source: string, options: CsvOptions = {}): Dataset {
  if (typeof text !== "string") throw new TypeError(`text must be a string, got ${describe(text)}`);
  const o = checkOptions(options);
  const fail = (line: number, problem: string) => new DataFormatError(`${source}: line ${line}: ${problem}`);
  const rows = records(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, o.delimiter, fail);

  const first = rows.next();
  if (first.done) throw new DataFormatError(`${source}: the file holds no rows.`);
  const { fields: firstFields, line: firstLine } = first.value;
  const width = firstFields.length;
  if (width < 2) throw fail(firstLine, `has one column; a data set needs a label column and at least one feature column (is the delimiter ${JSON.stringify(o.delimiter)} right?).`);
  const guessIndex = typeof o.labelColumn === "number" ? o.labelColumn : 0;
  const hasHeader =
    o.header ??
    (typeof o.labelColumn === "string" ||
      firstFields[guessIndex]?.trim().toLowerCase() === "label" ||
      firstFields.some((field, i) => i !== guessIndex && !NUMBER.test(field)));
  const names = hasHeader ? firstFields.map((name) => name.trim()) : undefined;
  const labelIndex = labelColumnIndex(o.labelColumn, names, width, source);
  const column = (i: number) => (names ? `column ${i + 1} (${JSON.stringify(names[i])})` : `column ${i + 1}`);

  const features = width - 1;
  // At most one sample per line: allocating that up front avoids growing (and copying) the inputs.
  let lines = 1;
  for (let at = text.indexOf("\n"); at >= 0; at = text.indexOf("\n", at + 1)) lines++;
  const inputs = new Float32Array(lines * features);
  const labelText: string[] = [];
  const labelLines: number[] = [];
  const add = (fields: string[], line: number) => {
    if (fields.length !== width)
      throw fail(line, `has ${fields.length} fields but ${hasHeader ? "the header" : `line ${firstLine}`} has ${width}; every row needs the label and ${features} features.`);
    let to = labelText.length * features;
    for (let i = 0; i < width; i++) {
      const field = fields[i];
      if (i === labelIndex) {
        if (field.trim() === "") throw fail(line, `${column(i)}: the label is empty.`);
        labelText.push(field.trim());
        labelLines.push(line);
        continue;
      }
      const x = parseNumber(field);
      if (Number.isNaN(x))
        throw fail(
          line,
          `${column(i)}: ${field.trim() === "" ? "the field is empty (fill in or drop missing values)" : `${JSON.stringify(field)} is not a number (if this column holds the labels, set labelColumn to ${i})`}.`,
        );
      if (Math.abs(x) > FLOAT32_MAX) throw fail(line, `${column(i)}: ${field.trim()} is outside the float32 range (about ±3.4e38).`);
      inputs[to++] = x;
    }
  };
  if (!hasHeader) add(firstFields, firstLine);
  for (const { fields, line } of rows) add(fields, line);
  const count = labelText.length;
  if (count === 0) throw new DataFormatError(`${source}: the file has a header but no data rows.`);

  const { labels, classes, classNames } = classIndices(labelText, labelLines, o.classes, (line, problem) => fail(line, `${column(labelIndex)}: ${problem}`), source);
  return shapedDataset({ inputs: inputs.subarray(0, count * features), labels, sampleShape: [features], classes, classNames });
}

/**
 * The decimal number in `field`, or NaN when it is not one (Number() alone would also take "",
 * "0x10" and "Infinity"). Plain integers, the whole of a pixel file, are read digit by digit:
 * exact below 2^53 and about twice as fast as the pattern test and Number() together.
 */
function parseNumber(field: string): number {
  const length = field.length;
  if (length > 0 && length < 16) {
    const negative = field.charCodeAt(0) === 45; // "-"
    let value = 0;
    let i = negative ? 1 : 0;
    for (; i < length; i++) {
      const digit = field.charCodeAt(i) - 48;
      if (digit < 0 || digit > 9) break;
      value = value * 10 + digit;
    }
    if (i === length && length > (negative ? 1 : 0)) return negative ? -value : value;
  }
  return NUMBER.test(field) ? Number(field) : NaN;
}

interface CheckedOptions {
  header?: boolean;
  labelColumn?: string | number;
  delimiter: string;
  classes?: number;
}

function checkOptions(options: unknown): CheckedOptions {
  object("options", options);
  const o = options as CsvOptions;
  for (const key of Object.keys(o)) if (!CSV_KEYS.includes(key)) throw new TypeError(`options.${key} is not a CSV option; the options are ${CSV_KEYS.join(", ")}`);
  if (o.header !== undefined && typeof o.header !== "boolean") throw new TypeError(`options.header must be true or false, got ${describe(o.header)}`);
  if (o.labelColumn !== undefined && typeof o.labelColumn !== "string") integer("options.labelColumn", o.labelColumn, 0, MAX_SIZE);
  if (typeof o.labelColumn === "string" && o.header === false)
    throw new TypeError(`options.labelColumn ${JSON.stringify(o.labelColumn)} is a column name, but options.header is false; give a 0-based index instead`);
  const delimiter = o.delimiter ?? ",";
  if (typeof delimiter !== "string" || delimiter.length !== 1 || delimiter === '"' || delimiter === "\n" || delimiter === "\r")
    throw new TypeError(`options.delimiter must be one character other than a quote or line break, got ${describe(delimiter)}`);
  const classes = o.classes === undefined ? undefined : integer("options.classes", o.classes, 2, MAX_SIZE);
  return { header: o.header, labelColumn: o.labelColumn, delimiter, classes };
}

function labelColumnIndex(given: string | number | undefined, names: string[] | undefined, width: number, source: string): number {
  if (typeof given === "number") {
    if (given >= width) throw new DataFormatError(`${source}: options.labelColumn is ${given} but the file has ${width} columns (0-based indices 0 to ${width - 1}).`);
    return given;
  }
  if (typeof given === "string") {
    const index = names!.indexOf(given);
    if (index < 0) throw new DataFormatError(`${source}: no column is named ${JSON.stringify(given)}; the header names ${names!.map((n) => JSON.stringify(n)).join(", ")}.`);
    return index;
  }
  const named = names?.findIndex((name) => name.toLowerCase() === "label") ?? -1;
  return named >= 0 ? named : 0;
}

/** Integer labels as they are, or names numbered in sorted order. */
function classIndices(
  text: string[], lines: number[], given: number | undefined, fail: (line: number, problem: string) => DataFormatError, source: string,
): { labels: Int32Array; classes: number; classNames?: string[] } {
  const labels = new Int32Array(text.length);
  if (text.every((label) => INTEGER.test(label))) {
    let top = 0;
    for (let n = 0; n < text.length; n++) {
      const label = Number(text[n]);
      if (label > MAX_SIZE || (given !== undefined && label >= given))
        throw fail(lines[n], `label ${label} is not below ${given === undefined ? "2^31" : `classes (${given})`}.`);
      labels[n] = label;
      top = Math.max(top, label);
    }
    if (given === undefined && top === 0) throw new DataFormatError(`${source}: every label is 0; a classifier needs at least 2 classes (give classes to set the count).`);
    return { labels, classes: given ?? top + 1 };
  }
  const classNames = [...new Set(text)].sort();
  if (classNames.length < 2) throw new DataFormatError(`${source}: every label is ${JSON.stringify(classNames[0])}; a classifier needs at least 2 classes.`);
  if (given !== undefined && given < classNames.length)
    throw new DataFormatError(`${source}: the labels name ${classNames.length} classes but options.classes is ${given}.`);
  const index = new Map(classNames.map((name, i) => [name, i]));
  for (let n = 0; n < text.length; n++) labels[n] = index.get(text[n])!;
  return { labels, classes: given ?? classNames.length, classNames };
}

/** The records of CSV text with the line each starts on; blank lines are skipped. */
function* records(
  text: string, delimiter: string, fail: (line: number, problem: string) => DataFormatError,
): Generator<{ fields: string[]; line: number }> {
  const DELIMITER = delimiter.charCodeAt(0), QUOTE = 34, LF = 10, CR = 13;
  let at = 0;
  let line = 1;
  while (at < text.length) {
    const start = line;
    const fields: string[] = [];
    for (;;) {
      if (text.charCodeAt(at) === QUOTE) {
        let value = "";
        let from = at + 1;
        for (;;) {
          const close = text.indexOf('"', from);
          if (close < 0) throw fail(start, `a quoted field in column ${fields.length + 1} is never closed.`);
          value += text.slice(from, close);
          if (text.charCodeAt(close + 1) !== QUOTE) {
            at = close + 1;
            break;
          }
          value += '"';
          from = close + 2;
        }
        for (let i = value.indexOf("\n"); i >= 0; i = value.indexOf("\n", i + 1)) line++;
        fields.push(value);
        const next = text.charCodeAt(at);
        if (next === CR && text.charCodeAt(at + 1) === LF) at++;
        else if (at < text.length && next !== DELIMITER && text.charCodeAt(at) !== LF)
          throw fail(line, `column ${fields.length}: text follows the closing quote of a quoted field (write a quote inside quotes as "").`);
      } else {
        let end = at;
        for (let c = text.charCodeAt(end); end < text.length && c !== DELIMITER && c !== LF; c = text.charCodeAt(++end));
        // A CR before the line feed ends a CRLF line; it is not part of the last field.
        fields.push(text.slice(at, end > at && text.charCodeAt(end - 1) === CR && text.charCodeAt(end) !== DELIMITER ? end - 1 : end));
        at = end;
      }
      if (at < text.length && text.charCodeAt(at) === DELIMITER) {
        at++;
        continue;
      }
      at++; // past the line feed (or the end)
      break;
    }
    if (!(fields.length === 1 && fields[0] === "")) yield { fields, line: start };
    line++;
  }
}
