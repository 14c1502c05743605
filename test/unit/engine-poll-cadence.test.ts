import { describe, expect, it } from 'vitest';
import { nextInterval } from '../../daemon/engine/backup.js';

const limits = { pollMinMs: 5_000, pollMaxMs: 60_000 };

describe('backup job poll cadence', () => {
  it('grows by half up to the maximum while progress is unknown', () => {
    const seq = [5_000];
    for (let i = 0; i < 8; i++) seq.push(nextInterval(seq.at(-1)!, null, null, seq.at(-1)!, limits));
    expect(seq).toEqual([5_000, 7_500, 11_250, 16_875, 25_313, 37_970, 56_955, 60_000, 60_000]);
  });

  it('does not sleep much past the end the progress rate predicts', () => {
    // 10% done in 20 s → 90% left takes 180 s: the growth limit decides
    expect(nextInterval(20_000, 0.1, 0.2, 20_000, limits)).toBe(30_000);
    // 90% → 95% in 20 s: 20 s left → 21 s
    expect(nextInterval(40_000, 0.9, 0.95, 20_000, limits)).toBe(21_000);
    // nearly done: never below the minimum
    expect(nextInterval(40_000, 0.98, 0.999, 20_000, limits)).toBe(5_000);
  });

  it('ignores progress that did not move', () => {
    expect(nextInterval(10_000, 0.5, 0.5, 10_000, limits)).toBe(15_000);
  });
});
