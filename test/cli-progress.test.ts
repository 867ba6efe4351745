// The progress line: it must fit the terminal (a wrapped line leaves a copy per redraw) and always
// show the ETA and the samples per second.
import { describe, expect, it, vi } from "vitest";
import { count, duration, progressLine, ProgressDisplay, status, type ProgressState } from "../lib/cli/progress.js";

const state: ProgressState = {
  epoch: 3, epochs: 10, done: 2700, batches: 6000, loss: 0.123456, accuracy: 0.96123, samplesPerSecond: 123_456, etaSeconds: 3725,
};

describe("progressLine", () => {
  it("fits every width from 20 to 250 columns, with the ETA and samples/s", () => {
    for (let columns = 20; columns <= 250; columns++) {
      const line = progressLine(state, columns);
      expect(line.length, `${columns}: ${line}`).toBeLessThanOrEqual(columns - 1);
      expect(line, `${columns}`).toContain("ETA 1h02m");
      expect(line, `${columns}`).toContain("123.5k");
      expect(line, `${columns}`).toMatch(/\/s/);
    }
  });

  it("shows everything on a wide terminal, and the bar filled in proportion", () => {
    for (const columns of [80, 200]) {
      const line = progressLine(state, columns);
      expect(line).toMatch(/^epoch 3\/10 \[#+\.+\] loss 0\.1235 acc 96\.12 % 123\.5k samples\/s ETA 1h02m$/);
      const [, filled, empty] = /\[(#+)(\.+)\]/.exec(line)!;
      expect(filled.length / (filled.length + empty.length)).toBeCloseTo(2700 / 6000, 1);
    }
  });

  it("leaves out the accuracy a regression model does not have", () => {
    expect(progressLine({ ...state, accuracy: NaN }, 200)).toMatch(/^epoch 3\/10 \[#+\.+\] loss 0\.1235 123\.5k samples\/s ETA 1h02m$/);
  });

  it("drops the bar and the labels, not the rate and the ETA, on narrow terminals", () => {
    expect(progressLine(state, 50)).toBe("3/10 [#####......] loss 0.1235 123.5k/s ETA 1h02m");
    expect(progressLine(state, 20)).toBe("123.5k/s ETA 1h02m");
    expect(progressLine({ ...state, samplesPerSecond: undefined, etaSeconds: undefined }, 20)).toBe("3/10 --/s ETA --");
  });

  it("never exceeds the width, even below 20 columns", () => {
    for (let columns = 1; columns < 20; columns++) expect(progressLine(state, columns).length).toBeLessThanOrEqual(Math.max(1, columns - 1));
  });
});

describe("formats", () => {
  it("writes durations and rates compactly (known answers)", () => {
    expect([0, 7.4, 59.6, 67, 3599, 3725].map(duration)).toEqual(["0s", "7s", "1m00s", "1m07s", "59m59s", "1h02m"]);
    expect([950, 999.4, 12_345, 999_949, 1_234_567].map(count)).toEqual(["950", "999", "12.3k", "999.9k", "1.2M"]);
  });
});

describe("ProgressDisplay", () => {
  it("redraws in place within the terminal's width, and clears the line at the end of an epoch", () => {
    const writes: string[] = [];
    const stream = { isTTY: true, columns: 50, write: (s: string) => writes.push(s) } as unknown as NodeJS.WriteStream;
    const display = new ProgressDisplay(stream, 2, 10);
    for (let batch = 0; batch < 600; batch++) display.batch({ epoch: 0, batch, batches: 600, loss: 0.5, accuracy: 0.9 });
    display.epochEnd();
    expect(writes.length).toBeGreaterThanOrEqual(2);  // the first batch and the last are always drawn
    for (const w of writes.slice(0, -1)) {
      expect(w.startsWith("\r") && w.endsWith("\x1b[K")).toBe(true);
      const text = w.slice(1, -3);
      expect(text.length).toBeLessThanOrEqual(49);
      expect(text).toMatch(/ETA/);
    }
    expect(writes.at(-2)).toMatch(/\[#+\] |\/s ETA/);  // the last batch: a full bar when there is room
    expect(writes.at(-1)).toBe("\r\x1b[K");
  });

  it("measures samples/s over the epoch and the ETA over the batches left in the run (known answer)", () => {
    let now = 0;
    const clock = vi.spyOn(performance, "now").mockImplementation(() => now);
    try {
      const writes: string[] = [];
      const stream = { isTTY: true, columns: 200, write: (s: string) => writes.push(s) } as unknown as NodeJS.WriteStream;
      const display = new ProgressDisplay(stream, 2, 10);
      // 600 batches of 10 samples, 1 ms each: 10 000 samples/s; then 600 batches (6000 samples) are left: 0.6 s.
      for (let batch = 0; batch < 600; batch++) {
        now = batch + 1;
        display.batch({ epoch: 0, batch, batches: 600, loss: 0.5, accuracy: 0.9 });
      }
      expect(writes[0]).toMatch(/--\/s|ETA --/);  // nothing measured after 1 ms
      expect(writes.at(-1)).toMatch(/ 10\.0k samples\/s ETA 1s\x1b\[K$/);
    } finally {
      clock.mockRestore();
    }
  });

  it("writes nothing off a terminal", () => {
    const writes: string[] = [];
    const stream = { isTTY: false, write: (s: string) => writes.push(s) } as unknown as NodeJS.WriteStream;
    const display = new ProgressDisplay(stream, 1, 10);
    display.batch({ epoch: 0, batch: 0, batches: 1, loss: 1, accuracy: 0 });
    display.epochEnd();
    expect(writes).toEqual([]);
  });
});

describe("status", () => {
  it("shows a line while the data loads, cut to the width, and clears it when done", () => {
    const writes: string[] = [];
    const stream = { isTTY: true, columns: 20, write: (s: string) => writes.push(s) } as unknown as NodeJS.WriteStream;
    const done = status(stream, "loading MNIST (bundled) ...");
    expect(writes).toEqual(["loading MNIST (bund\x1b[K"]);
    done();
    expect(writes.at(-1)).toBe("\r\x1b[K");
    const quiet: string[] = [];
    status({ isTTY: false, write: (s: string) => quiet.push(s) } as unknown as NodeJS.WriteStream, "loading")();
    expect(quiet).toEqual([]);
  });
});
