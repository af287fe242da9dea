/**
 * Bytes per second over a sliding window (the last few seconds), for a job's
 * progress: samples of the running byte count, at most one per `sampleMs`.
 */

export class SpeedMeter {
  private samples: Array<{ t: number; bytes: number }> = [];

  constructor(
    private readonly windowMs = 5_000,
    private readonly sampleMs = 200,
  ) {}

  /** Forgets everything and starts counting from `bytes` now. */
  reset(bytes = 0, now = Date.now()): void {
    this.samples = [{ t: now, bytes }];
  }

  /** Records the running total `bytes` at `now`. */
  record(bytes: number, now = Date.now()): void {
    const last = this.samples[this.samples.length - 1];
    if (last && now - last.t < this.sampleMs) return;
    this.samples.push({ t: now, bytes });
    this.prune(now);
  }

  /** Bytes per second between the oldest sample in the window and `bytes` at `now`; 0 when idle. */
  rate(bytes: number, now = Date.now()): number {
    this.prune(now);
    const first = this.samples[0];
    if (!first) return 0;
    const seconds = (now - first.t) / 1000;
    if (seconds < 0.05) return 0;
    return Math.max(0, Math.round((bytes - first.bytes) / seconds));
  }

  private prune(now: number): void {
    const from = now - this.windowMs;
    // Keep the newest sample older than the window as the window's start.
    let drop = 0;
    while (drop + 1 < this.samples.length && this.samples[drop + 1]!.t <= from) drop++;
    if (drop > 0) this.samples.splice(0, drop);
    if (this.samples.length === 1 && this.samples[0]!.t < from) {
      // Nothing recorded for a whole window: idle.
      this.samples[0] = { t: from, bytes: this.samples[0]!.bytes };
    }
  }
}
