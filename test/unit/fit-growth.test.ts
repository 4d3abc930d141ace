/**
 * How cost grows with size, as pure arithmetic: hand-made points whose fit
 * is known in advance (a line, a square, a square root, a small noisy set
 * worked out on paper), the projection and its 80% band, and the inputs the
 * fit refuses or survives. The sweep's end-to-end test fits real runs.
 */
import { describe, expect, it } from 'vitest';
import { backtest, fitGrowth, project, projectLarger, projectLinear, superLinear } from '../../harness/sweep/fit.ts';

const E = Math.E;

describe('fitGrowth', () => {
  it('a linear series: slope 1, R² 1, and the straight line y = 5x', () => {
    const xs = [1, 2, 4, 8, 16];
    const fit = fitGrowth(xs, xs.map((x) => 5 * x));
    expect(fit.slope).toBeCloseTo(1, 10);
    expect(fit.intercept).toBeCloseTo(Math.log(5), 10);
    expect(fit.r2).toBeCloseTo(1, 10);
    expect(fit.se).toBeCloseTo(0, 10);
    expect(fit.linear.b).toBeCloseTo(5, 10);
    expect(fit.linear.a).toBeCloseTo(0, 8);
    expect(fit.linear.r2).toBeCloseTo(1, 10);
    expect(fit.n).toBe(5);
    expect(superLinear(fit)).toBe(false);
  });

  it('a quadratic series is flagged super-linear; the straight line fits it worse than the power law', () => {
    const xs = [1, 2, 4, 8, 16];
    const fit = fitGrowth(xs, xs.map((x) => x * x));
    expect(fit.slope).toBeCloseTo(2, 10);
    expect(fit.r2).toBeCloseTo(1, 10);
    expect(fit.linear.r2).toBeLessThan(0.99);
    expect(superLinear(fit)).toBe(true);
  });

  it('flags growth only clearly above linear: x^1.2 is, x^1.05 and √x are not', () => {
    const xs = [1, 2, 4, 8];
    expect(superLinear(fitGrowth(xs, xs.map((x) => x ** 1.2)))).toBe(true);
    expect(superLinear(fitGrowth(xs, xs.map((x) => x ** 1.05)))).toBe(false);
    const root = fitGrowth(xs, xs.map(Math.sqrt));
    expect(root.slope).toBeCloseTo(0.5, 10);
    expect(superLinear(root)).toBe(false);
  });

  it('a small noisy set, worked out by hand in log space', () => {
    // log x = 0, 1, 2, 3 and log y = 0, 1.1, 1.9, 3: slope 4.9 / 5 = 0.98, intercept 1.5 − 0.98 × 1.5 = 0.03,
    // residuals −0.03, 0.09, −0.09, 0.03 (sum of squares 0.018), so se = √(0.018 / 2) and R² = 1 − 0.018 / 4.82.
    const fit = fitGrowth([1, E, E ** 2, E ** 3], [1, E ** 1.1, E ** 1.9, E ** 3]);
    expect(fit.slope).toBeCloseTo(0.98, 10);
    expect(fit.intercept).toBeCloseTo(0.03, 10);
    expect(fit.se).toBeCloseTo(Math.sqrt(0.009), 10);
    expect(fit.r2).toBeCloseTo(1 - 0.018 / 4.82, 10);
    expect(fit.meanLogX).toBeCloseTo(1.5, 10);
    expect(fit.sxx).toBeCloseTo(5, 10);
  });

  it.each([
    ['one point', [1], [1], /at least two/],
    ['lengths that differ', [1, 2, 3], [1, 2], /at least two/],
    ['a zero size', [0, 1, 2], [1, 2, 3], /positive/],
    ['a negative cost', [1, 2, 3], [1, -2, 3], /positive/],
    ['a NaN', [1, 2, Number.NaN], [1, 2, 3], /positive/],
  ])('refuses %s', (_what, xs, ys, message) => {
    expect(() => fitGrowth(xs, ys)).toThrow(message);
  });

  it('survives degenerate data: every point at one size, or a flat cost', () => {
    const sameSize = fitGrowth([1, 1, 1], [1, 2, 4]);
    expect(sameSize.slope).toBe(0);
    expect(sameSize.sxx).toBe(0);
    // With no spread in size the best guess is the geometric mean of the costs, with a finite band.
    const p = project(sameSize, 1);
    expect(p.value).toBeCloseTo(2, 10);
    expect(Number.isFinite(p.low) && Number.isFinite(p.high)).toBe(true);
    expect(p.low).toBeLessThan(2);
    const flat = fitGrowth([1, 2, 4], [1, 1, 1]);
    expect(flat.slope).toBe(0);
    expect(flat.r2).toBe(1);
    expect(flat.linear.r2).toBe(1);
  });
});

describe('project', () => {
  it('extends an exact law, with no band around it', () => {
    const xs = [1, 2, 4, 8, 16];
    const p = project(fitGrowth(xs, xs.map((x) => 5 * x)), 64);
    expect(p.value).toBeCloseTo(320, 6);
    expect(p.low).toBeCloseTo(320, 6);
    expect(p.high).toBeCloseTo(320, 6);
  });

  it('two points leave no residual to estimate a band from: the band is the value', () => {
    const p = project(fitGrowth([1, 4], [2, 8]), 16);
    expect(p.value).toBeCloseTo(32, 10);
    expect(p.low).toBe(p.value);
    expect(p.high).toBe(p.value);
  });

  it('the 80% band of the hand-worked set: Student t for 2 degrees of freedom (1.886), widest far from the data', () => {
    const fit = fitGrowth([1, E, E ** 2, E ** 3], [1, E ** 1.1, E ** 1.9, E ** 3]);
    // At log x = 4: centre 0.03 + 0.98 × 4 = 3.95; half-width 1.886 × √(0.009 × (1 + 1/4 + 2.5² / 5)) = 1.886 × 0.15.
    const far = project(fit, E ** 4);
    expect(Math.log(far.value)).toBeCloseTo(3.95, 10);
    expect(Math.log(far.low)).toBeCloseTo(3.95 - 1.886 * 0.15, 10);
    expect(Math.log(far.high)).toBeCloseTo(3.95 + 1.886 * 0.15, 10);
    // At the centre of the data (log x = 1.5) the band is narrower: 1.886 × √(0.009 × 1.25).
    const near = project(fit, E ** 1.5);
    expect(Math.log(near.high) - Math.log(near.value)).toBeCloseTo(1.886 * Math.sqrt(0.009 * 1.25), 10);
    expect(Math.log(near.high / near.low)).toBeLessThan(Math.log(far.high / far.low));
  });

  it.each([
    // n points leave n − 2 degrees of freedom; between listed ones the next larger is used (a wider band), past 20 the normal 1.282.
    [3, 3.078],
    [9, 1.397],
    [12, 1.372],
    [30, 1.282],
  ])('with %i points the band uses t = %f', (n, t) => {
    const xs = Array.from({ length: n }, (_, i) => i + 1);
    // A power law with alternating noise, so that there is a residual error to scale.
    const ys = xs.map((x, i) => 3 * x ** 1.1 * (i % 2 ? 1.05 : 0.95));
    const fit = fitGrowth(xs, ys);
    const at = 100;
    const p = project(fit, at);
    const unit = fit.se * Math.sqrt(1 + 1 / n + (Math.log(at) - fit.meanLogX) ** 2 / fit.sxx);
    expect(Math.log(p.high / p.value) / unit).toBeCloseTo(t, 10);
    expect(Math.log(p.value / p.low) / unit).toBeCloseTo(t, 10);
  });
});

describe('projectLinear', () => {
  it('a fixed part plus a part per unit: the straight line through it, where the power law bends', () => {
    // y = 9 + 2x at x = 1, 2, 4: the power law's slope is below 1 and it falls short at 32; the line does not.
    const xs = [1, 2, 4];
    const fit = fitGrowth(xs, xs.map((x) => 9 + 2 * x));
    const p = projectLinear(fit, 32);
    expect(p.value).toBeCloseTo(73, 10);
    expect(p.high - p.low).toBeCloseTo(0, 10);
    expect(project(fit, 32).value).toBeLessThan(60);
  });

  it('its 80% band: t(1) = 3.078 times the residual error, wider away from the points', () => {
    // Residuals +1, −2, +1 around y = 2x (x = 1, 2, 3): the line is y = 2x (a = 0, b = 2), sse = 6, se = √6.
    const fit = fitGrowth([1, 2, 3], [3, 2, 7]);
    expect(fit.linear.b).toBeCloseTo(2, 10);
    expect(fit.linear.a).toBeCloseTo(0, 10);
    expect(fit.linear.se).toBeCloseTo(Math.sqrt(6), 10);
    const p = projectLinear(fit, 10);
    // 1 + 1/3 + (10 − 2)² / 2 = 33.33...
    expect(p.high - p.value).toBeCloseTo(3.078 * Math.sqrt(6) * Math.sqrt(1 + 1 / 3 + 32), 8);
    expect(projectLinear(fit, 20).high - projectLinear(fit, 20).value).toBeGreaterThan(p.high - p.value);
    expect(projectLinear(fit, 1).low).toBe(0); // never below zero
  });
});

describe('backtest', () => {
  it('fits all but the largest point and says how far each model missed it, signed', () => {
    // y = x at 1 and 2, then 5 at 4: both models, fitted to the first two, say 4 there: −20 %.
    const b = backtest([4, 1, 2], [5, 1, 2])!;
    expect(b.fittedUpTo).toBe(2);
    expect(b.predicted).toBe(4);
    expect(b.powerLawPct).toBeCloseTo(-20, 10);
    expect(b.linearPct).toBeCloseTo(-20, 10);
  });

  it('tells the models apart where they part: a fixed cost plus a cost per unit', () => {
    // y = 10 + x: the line through (1, 11) and (2, 12) gives 14 at 4 (0 %); the power law 11·(12/11)^2 = 13.09 (−6.5 %).
    const b = backtest([1, 2, 4], [11, 12, 14])!;
    expect(b.linearPct).toBeCloseTo(0, 10);
    expect(b.powerLawPct).toBeCloseTo((100 * ((12 * 12) / 11 - 14)) / 14, 8);
  });

  it('needs three sizes, two of them below the largest and apart', () => {
    expect(backtest([1, 2], [1, 2])).toBeNull();
    expect(backtest([1, 1, 2], [1, 1, 2])).toBeNull();
    expect(backtest([1, 2, 2], [1, 2, 2])).toBeNull();
  });
});

describe('projectLarger', () => {
  const xs = [1, 2, 4];

  it('takes the straight line where a fixed cost bends the power law low', () => {
    // y = 10 + x: the line is exact (42 at 32); the power law, slope below 1, says less.
    const fit = fitGrowth(xs, xs.map((x) => 10 + x));
    const p = projectLarger(fit, 32);
    expect(p.from).toBe('linear');
    expect(p.value).toBeCloseTo(42, 8);
    expect(project(fit, 32).value).toBeLessThan(30);
    // Its band reaches down to the power law's figure: the two disagree, and the band says so.
    expect(p.low).toBeLessThanOrEqual(project(fit, 32).value);
    expect(p.high).toBeGreaterThanOrEqual(42);
  });

  it('takes the power law where cost per unit grows', () => {
    const fit = fitGrowth(xs, xs.map((x) => x * x));
    const p = projectLarger(fit, 32);
    expect(p.from).toBe('power-law');
    expect(p.value).toBeCloseTo(1024, 6);
    expect(p.low).toBeLessThanOrEqual(projectLinear(fit, 32).value);
  });

  it('is both when both agree: a straight line through the origin', () => {
    const fit = fitGrowth(xs, xs.map((x) => 3 * x));
    const p = projectLarger(fit, 32);
    expect(p.value).toBeCloseTo(96, 6);
    expect(p.low).toBeCloseTo(96, 6);
    expect(p.high).toBeCloseTo(96, 6);
  });

  it('its backtest is the larger model’s miss', () => {
    const b = backtest([1, 2, 4], [11, 12, 14])!;
    expect(b.largerPct).toBe(Math.max(b.powerLawPct, b.linearPct));
    expect(b.largerPct).toBeCloseTo(0, 8);
  });
});
