import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCsv, parseCsv, type CsvOptions } from "../lib/data/csv.js";
import { loadDataFile } from "../lib/data/data-file.js";
import { DataFormatError } from "../lib/data/idx.js";
import { Model } from "../lib/model.js";

function csvError(text: string, message: RegExp, options: CsvOptions = {}): void {
  let caught: unknown;
  try {
    parseCsv(text, "bad.csv", options);
  } catch (error) {
    caught = error;
  }
  expect(caught, message.source).toBeInstanceOf(DataFormatError);
  expect((caught as Error).message).toMatch(/^bad\.csv: /);
  expect((caught as Error).message).toMatch(message);
}

describe("parseCsv", () => {
  it("reads a header, integer labels in the first column and numeric features", () => {
    const data = parseCsv("label,x1,x2\n1,0.5,-2\n0,3e2,.25\n2,+4,7.\n", "a.csv");
    expect(data).toMatchObject({ count: 3, features: 2, classes: 3, shape: [2] });
    expect(Array.from(data.inputs)).toEqual([0.5, -2, 300, 0.25, 4, 7]);
    expect(Array.from(data.labels)).toEqual([1, 0, 2]);
    expect(data.classNames).toBeUndefined();
  });

  it("reads a file without a header, and takes the first row as data when header is false", () => {
    expect(Array.from(parseCsv("1,2,3\n0,4,5", "a.csv").inputs)).toEqual([2, 3, 4, 5]);
    // Numeric column names are indistinguishable from data: header: true says they are names.
    const named = parseCsv("9,10,11\n1,2,3\n0,4,5\n", "a.csv", { header: true });
    expect(named.count).toBe(2);
    expect(parseCsv("label,x\n1,2\n0,3\n", "a.csv").count).toBe(2);
    expect(() => parseCsv("label,x\n1,2\n0,3\n", "a.csv", { header: false })).toThrow(/line 1: column 2: "x" is not a number/);
  });

  it("finds the label column by the name 'label' in any case, by a given name, or by a 0-based index", () => {
    const byName = parseCsv("x1,x2,Label\n1,2,0\n3,4,1\n", "a.csv");
    expect(Array.from(byName.inputs)).toEqual([1, 2, 3, 4]);
    expect(Array.from(byName.labels)).toEqual([0, 1]);
    const bySpecies = parseCsv("x1,species\n1,b\n3,a\n", "a.csv", { labelColumn: "species" });
    expect(Array.from(bySpecies.labels)).toEqual([1, 0]);
    const byIndex = parseCsv("5,6,1\n7,8,0\n", "a.csv", { labelColumn: 2 });
    expect(Array.from(byIndex.inputs)).toEqual([5, 6, 7, 8]);
    expect(Array.from(byIndex.labels)).toEqual([1, 0]);
    // Names in the last column of a file without a header: the index of the label column says which is which.
    const iris = "5.1,3.5,Iris-setosa\n6.2,2.9,Iris-versicolor\n";
    expect(Array.from(parseCsv(iris, "iris.csv", { labelColumn: 2 }).inputs)).toEqual([5.1, 3.5, 6.2, 2.9].map(Math.fround));
    csvError(iris, /line 2: column 3 \("Iris-setosa"\): "Iris-versicolor" is not a number \(if this column holds the labels, set labelColumn to 2\)/);
  });

  it("numbers class names in sorted order (JavaScript's default sort) and keeps them", () => {
    const data = parseCsv("kind,size\ncat,1\nDog,2\nant,3\ncat,4\n", "a.csv");
    expect(data.classNames).toEqual(["Dog", "ant", "cat"]);
    expect(Array.from(data.labels)).toEqual([2, 0, 1, 2]);
    expect(data.classes).toBe(3);
    // Mixed labels are names too: "10" sorts before "2".
    expect(parseCsv("2,1\n10,2\nx,3\n", "a.csv").classNames).toEqual(["10", "2", "x"]);
    expect(parseCsv("cat,1\ndog,2\n", "a.csv", { classes: 4 }).classes).toBe(4);
  });

  it("handles quotes, CRLF, blank lines, a byte-order mark, spaces and other delimiters", () => {
    const quoted = '\ufeffname,"x, first",x2\r\n"a ""big"" one",1, 2\r\n\r\n"two\r\nlines","3",4\r\n';
    const data = parseCsv(quoted, "q.csv", { labelColumn: "name" });
    expect(data.classNames).toEqual(['a "big" one', "two\r\nlines"]);
    expect(Array.from(data.inputs)).toEqual([1, 2, 3, 4]);
    const semicolons = parseCsv("1;2.5; 3 \n0;4;5\n", "s.csv", { delimiter: ";" });
    expect(Array.from(semicolons.inputs)).toEqual([2.5, 3, 4, 5]);
    expect(Array.from(semicolons.labels)).toEqual([1, 0]);
  });

  it("counts lines across quoted line breaks in its messages", () => {
    csvError('label,x\n"a\nb",1\nc,oops\n', /^bad\.csv: line 4: column 2 \("x"\): "oops" is not a number \(if this column holds the labels, set labelColumn to 1\)\.$/);
  });

  it("rejects malformed rows, naming the line, the column and what is wrong", () => {
    csvError("label,x,y\n1,2,3\n0,4\n", /line 3: has 2 fields but the header has 3/);
    csvError("1,2,3\n0,4,5,6\n", /line 2: has 4 fields but line 1 has 3/);
    csvError("label,x,y\n1,2,3\n0,,5\n", /line 3: column 2 \("x"\): the field is empty \(fill in or drop missing values\)/);
    csvError("1,2\n0,NaN\n", /line 2: column 2: "NaN" is not a number/);
    csvError("1,2\n0,0x10\n", /line 2: column 2: "0x10" is not a number/);
    csvError("1,2\n0,1e39\n", /line 2: column 2: 1e39 is outside the float32 range/);
    csvError("label,x\n1,2\n ,3\n", /line 3: column 1 \("label"\): the label is empty/);
    csvError('label,x\n1,2\n0,"3\n', /line 3: a quoted field in column 2 is never closed/);
    csvError('label,x\n1,"2"3\n', /line 2: column 2: text follows the closing quote/);
    csvError("1\n2\n", /line 1: has one column; .* \(is the delimiter "," right\?\)/);
    csvError("", /the file holds no rows/);
    csvError("label,x\n\n", /has a header but no data rows/);
    csvError("label,x\n1,2\n0,3\n", /no column is named "y"; the header names "label", "x"/, { labelColumn: "y" });
    csvError("1,2\n0,3\n", /options\.labelColumn is 2 but the file has 2 columns \(0-based indices 0 to 1\)/, { labelColumn: 2 });
    csvError("label,x\n1,2\n3,3\n", /line 3: column 1 \("label"\): label 3 is not below classes \(3\)/, { classes: 3 });
    csvError("label,x\n0,2\n0,3\n", /every label is 0; a classifier needs at least 2 classes/);
    csvError("label,x\na,2\na,3\n", /every label is "a"/);
    csvError("label,x\na,2\nb,3\nc,3\n", /the labels name 3 classes but options\.classes is 2/, { classes: 2 });
  });

  it("rejects bad options with a TypeError or RangeError naming the option", () => {
    expect(() => parseCsv("1,2\n", "a.csv", { labelColumn: "y", header: false })).toThrow(/labelColumn "y" is a column name, but options\.header is false/);
    expect(() => parseCsv("1,2\n", "a.csv", { labelColumn: -1 })).toThrow(/options\.labelColumn must be an integer in \[0,/);
    expect(() => parseCsv("1,2\n", "a.csv", { delimiter: "||" })).toThrow(/options\.delimiter must be one character/);
    expect(() => parseCsv("1,2\n", "a.csv", { header: "yes" } as never)).toThrow(/options\.header must be true or false/);
    expect(() => parseCsv("1,2\n", "a.csv", { label: 0 } as never)).toThrow(/options\.label is not a CSV option/);
  });
});

describe("loadCsv and loadDataFile with CSV files", () => {
  let dir: string;
  const path = (name: string) => join(dir, name);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "deepr-csv-"));
    await writeFile(path("tabs.tsv"), "label\tx\ty\n1\t2\t3\n0\t4\t5\n");
    await writeFile(path("ragged.csv"), "label,x\n1,2\n0,3\n1\n");
    // 30 samples: feature a is the index n, b is a constant; the label is n % 3.
    await writeFile(path("ramp.csv"), "a,b,label\n" + Array.from({ length: 30 }, (_, n) => `${n},7,${n % 3}`).join("\n"));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads a file, taking a tab as the delimiter of a .tsv file", async () => {
    const data = await loadCsv(path("tabs.tsv"));
    expect(Array.from(data.inputs)).toEqual([2, 3, 4, 5]);
    expect(Array.from(data.labels)).toEqual([1, 0]);
  });

  it("names the file and line in its errors, and a file it cannot read", async () => {
    await expect(loadCsv(path("ragged.csv"))).rejects.toThrow(/ragged\.csv: line 4: has 1 fields but the header has 2/);
    await expect(loadCsv(path("absent.csv"))).rejects.toThrow(/absent\.csv: cannot read the file \(ENOENT/);
    await expect(loadCsv(dir)).rejects.toThrow(/cannot read the file \(EISDIR/);
  });

  it("loadDataFile splits by seed and standardises with the training part's statistics", async () => {
    const { train, test } = await loadDataFile(path("ramp.csv"), { testFraction: 0.2, seed: 9, normalize: "standard" });
    expect([train.count, test.count]).toEqual([24, 6]);
    const raw = await loadDataFile(path("ramp.csv"), { testFraction: 0.2, seed: 9 });
    const a = Array.from({ length: 24 }, (_, n) => raw.train.inputs[2 * n]);
    const mean = a.reduce((s, x) => s + x, 0) / 24;
    const sd = Math.sqrt(a.reduce((s, x) => s + (x - mean) ** 2, 0) / 24);
    for (let n = 0; n < 6; n++) {
      expect(test.inputs[2 * n]).toBeCloseTo((raw.test.inputs[2 * n] - mean) / sd, 5);
      expect(test.inputs[2 * n + 1]).toBe(0); // the constant feature
      expect(test.labels[n]).toBe(raw.test.inputs[2 * n] % 3);
    }
  });

  it("rejects bad split and normalisation options before reading the file", async () => {
    await expect(loadDataFile(path("absent.csv"), { normalize: "zscore" as never })).rejects.toThrow(/normalize must be "none", "minmax", "standard"/);
    await expect(loadDataFile(path("absent.csv"), { testFraction: 1.5 })).rejects.toThrow(/options\.testFraction must be in \(0, 1\) so that both parts get samples, got 1\.5/);
    await expect(loadDataFile(path("absent.csv"), { seed: 0.5 })).rejects.toThrow(/options\.seed must be an integer/);
  });

  it("rejects options that do not apply to a CSV file", async () => {
    await expect(loadDataFile(path("ramp.csv"), { labels: path("y.npy") })).rejects.toThrow(/is a CSV file \(its labels are a column: use options\.labelColumn\)/);
  });

  it("end to end: a model trained on a generated CSV file with named classes learns it", async () => {
    // Three classes, each the argmax of a fixed linear score of 6 features: linearly separable.
    let state = 12345;
    const random = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
    const weights = [[1, -1, 0.5, 0, 0.3, -0.2], [-0.5, 1, 0, -1, 0.2, 0.4], [0, -0.3, -1, 1, -0.4, 0.1]];
    const names = ["blue", "green", "red"];
    const lines = ["colour,f1,f2,f3,f4,f5,f6"];
    for (let n = 0; n < 900; n++) {
      const x = Array.from({ length: 6 }, () => random() * 10 + 50); // far from 0 and 1: needs the normalisation
      const scores = weights.map((w) => w.reduce((s, wi, i) => s + wi * (x[i] - 50), 0));
      lines.push([names[scores.indexOf(Math.max(...scores))], ...x.map((v) => v.toFixed(4))].join(","));
    }
    await writeFile(path("colours.csv"), lines.join("\r\n") + "\r\n");
    const { train, test } = await loadDataFile(path("colours.csv"), { labelColumn: "colour", normalize: "standard", seed: 3 });
    expect(train.classNames).toEqual(names);
    const model = Model.create({ layers: [6, 32, 3], connectivity: [0.5, 0.5], seed: 2 });
    try {
      await model.fit(train, { epochs: 15, lr: 0.1, batchSize: 10, noise: 1e-3, lrDecay: 0.95 });
      const { accuracy } = await model.evaluate(test);
      expect(accuracy).toBeGreaterThan(0.9);
    } finally {
      model.dispose();
    }
  });
});

describe("mutated CSV text", () => {
  it("parses or fails with a DataFormatError naming a line, never another error (4000 seeded mutations)", () => {
    let state = 1127;
    const random = (n: number) => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return (state >>> 0) % n;
    };
    const seed = 'label,x,"y ""q"""\r\n1,0.5,-2\r\n0,"3e2",.25\n2,4,7\n\ncat," 1",1\n';
    expect(parseCsv(seed, "seed.csv").classNames).toEqual(["0", "1", "2", "cat"]);
    let parsed = 0;
    for (let n = 0; n < 4000; n++) {
      let text = seed;
      for (let edits = 1 + random(3); edits > 0; edits--) {
        const at = random(text.length + 1);
        const piece = [",", '"', "\n", "\r", "\r\n", "a", "1", ".", "-", "e", " ", "\ufeff", ""][random(13)];
        text = random(2) === 0 ? text.slice(0, at) + piece + text.slice(at) : text.slice(0, at) + piece + text.slice(at + 1);
      }
      const options: CsvOptions = [{}, { header: true }, { labelColumn: 1 }, { classes: 3 }][random(4)];
      try {
        const data = parseCsv(text, "fuzz.csv", options);
        expect(data.inputs.length).toBe(data.count * data.features);
        expect(data.labels.every((label) => label >= 0 && label < data.classes)).toBe(true);
        parsed++;
      } catch (error) {
        if (!(error instanceof DataFormatError)) throw new Error(`case ${n} (${JSON.stringify(text)}, ${JSON.stringify(options)}) threw ${String(error)}`);
        expect((error as Error).message).toMatch(/^fuzz\.csv: /);
      }
    }
    expect(parsed).toBeGreaterThan(100);
  });
});
