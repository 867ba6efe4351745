// The progress line shown on a terminal while training: drawn to fit the terminal's width, so it
// never wraps (a wrapped line cannot be redrawn in place and leaves a copy per redraw).
import type { BatchStats } from "../model.js";

export interface ProgressState {
  /** 1-based epoch being trained, of `epochs`. */
  epoch: number;
  epochs: number;
  /** Batches done in this epoch, of `batches`. */
  done: number;
  batches: number;
  /** Running means over the epoch's batches so far. */
  loss: number;
  accuracy: number;
  /** Undefined until there is a measurement. */
  samplesPerSecond?: number;
  etaSeconds?: number;
}

const MIN_BAR = 10;
const MAX_BAR = 30;

/**
 * The progress line for a terminal `columns` wide: at most columns - 1 characters (a full-width
 * line makes some terminals wrap). As the width shrinks, long labels, then accuracy, loss and the
 * epoch give way, a bar of at least MIN_BAR staying as long as the epoch does; samples per second
 * and the ETA stay to the last.
 */
export function progressLine(s: ProgressState, columns: number): string {
  const limit = Math.max(1, columns - 1);
  const epochLong = `epoch ${s.epoch}/${s.epochs}`, epochShort = `${s.epoch}/${s.epochs}`;
  const loss = `loss ${s.loss.toFixed(4)}`, accuracy = `acc ${(100 * s.accuracy).toFixed(2)} %`;
  const rate = s.samplesPerSecond === undefined ? "--" : count(s.samplesPerSecond);
  const rateLong = `${rate} samples/s`, rateShort = `${rate}/s`;
  const eta = `ETA ${s.etaSeconds === undefined ? "--" : duration(s.etaSeconds)}`;
  // A regression model's batches have no accuracy (NaN): its line leaves it out.
  const layouts: string[][] = [
    [epochLong, loss, accuracy, rateLong, eta],
    [epochLong, loss, accuracy, rateShort, eta],
    [epochShort, loss, accuracy, rateShort, eta],
    [epochShort, loss, rateShort, eta],
    [epochShort, rateShort, eta],
    [rateShort, eta],
  ].map((pieces) => (Number.isNaN(s.accuracy) ? pieces.filter((piece) => piece !== accuracy) : pieces));
  for (const pieces of layouts.slice(0, -1)) {
    const room = limit - pieces.join(" ").length - 3;  // " [" and "]"
    if (room >= MIN_BAR) return [pieces[0], bar(s.done / s.batches, Math.min(room, MAX_BAR)), ...pieces.slice(1)].join(" ");
  }
  for (const pieces of layouts) if (pieces.join(" ").length <= limit) return pieces.join(" ");
  return layouts[layouts.length - 1].join(" ").slice(0, limit);
}

function bar(fraction: number, width: number): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}]`;
}

/** 950, 12.3k, 1.2M */
export function count(x: number): string {
  if (x < 1000) return `${Math.round(x)}`;
  if (x < 999_950) return `${(x / 1000).toFixed(1)}k`;
  return `${(x / 1e6).toFixed(1)}M`;
}

/** 7s, 1m07s, 2h05m */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, "0")}m`;
}

/** Redraws the progress line on stderr at most every REDRAW_MS; does nothing off a terminal. */
export class ProgressDisplay {
  static readonly REDRAW_MS = 100;
  // Rates measured over less than this are mostly start-up noise; the line shows "--" until then.
  static readonly MEASURE_MS = 250;
  #epochStart = performance.now();
  #lastDraw = 0;
  #epoch = -1;
  #loss = 0;
  #accuracy = 0;
  #seen = 0;
  #rate: number | undefined;
  #shown = false;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly epochs: number,
    private readonly batchSize: number,
  ) {}

  batch(b: BatchStats): void {
    if (b.epoch !== this.#epoch) [this.#epoch, this.#loss, this.#accuracy, this.#seen] = [b.epoch, 0, 0, 0];
    this.#loss += b.loss;
    this.#accuracy += b.accuracy;
    this.#seen++;
    const now = performance.now();
    if (!this.stream.isTTY || (now - this.#lastDraw < ProgressDisplay.REDRAW_MS && b.batch + 1 < b.batches)) return;
    this.#lastDraw = now;
    const ms = now - this.#epochStart;
    if (ms >= ProgressDisplay.MEASURE_MS) this.#rate = (this.#seen * this.batchSize) / (ms / 1000);
    const rate = this.#rate;  // early in an epoch: the previous epoch's
    const left = b.batches - b.batch - 1 + (this.epochs - b.epoch - 1) * b.batches;
    const state: ProgressState = {
      epoch: b.epoch + 1,
      epochs: this.epochs,
      done: b.batch + 1,
      batches: b.batches,
      loss: this.#loss / this.#seen,
      accuracy: this.#accuracy / this.#seen,
      samplesPerSecond: rate,
      etaSeconds: rate ? (left * this.batchSize) / rate : undefined,
    };
    this.stream.write(`\r${progressLine(state, this.stream.columns ?? 80)}\x1b[K`);
    this.#shown = true;
  }

  /** Clears the line (before an epoch's summary is printed) and starts timing the next epoch. */
  epochEnd(): void {
    this.clear();
    this.#epochStart = performance.now();
  }

  clear(): void {
    if (this.#shown) this.stream.write("\r\x1b[K");
    this.#shown = false;
  }
}

/** A one-line status ("loading MNIST ...") shown on a terminal until `done` is called. */
export function status(stream: NodeJS.WriteStream, text: string): () => void {
  if (!stream.isTTY) return () => {};
  stream.write(`${text.slice(0, Math.max(1, (stream.columns ?? 80) - 1))}\x1b[K`);
  return () => stream.write("\r\x1b[K");
}
