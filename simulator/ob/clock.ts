// Simulated time: runs at `scale` times real time (0 = frozen) plus whatever tests advance by hand.

export class SimClock {
  private baseSimMs: number;
  private baseRealMs: number;
  private scale: number;

  constructor(startMs = Date.now(), scale = 1) {
    this.baseSimMs = startMs;
    this.baseRealMs = Date.now();
    this.scale = scale;
  }

  nowMs(): number {
    return this.baseSimMs + (Date.now() - this.baseRealMs) * this.scale;
  }

  nowUsec(): number {
    return Math.floor(this.nowMs() * 1000);
  }

  get timeScale(): number {
    return this.scale;
  }

  setScale(scale: number): void {
    this.rebase();
    this.scale = scale;
  }

  advance(ms: number): void {
    this.rebase();
    this.baseSimMs += ms;
  }

  /** jumps to an absolute simulated time (used when restoring persisted state) */
  set(ms: number): void {
    this.baseSimMs = ms;
    this.baseRealMs = Date.now();
  }

  private rebase(): void {
    const now = this.nowMs();
    this.baseSimMs = now;
    this.baseRealMs = Date.now();
  }
}
