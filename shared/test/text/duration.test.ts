import { parseDuration } from '../../src/text/duration';

describe('parseDuration: one parser for alerting config and InfluxDB retention', () => {
  it('reads what the alerting config accepted: ms..d, compound parts, decimals, bare 0, blanks around', () => {
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('2d')).toBe(172_800_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseDuration('0.0015s')).toBe(2); // rounded to whole ms
    expect(parseDuration('0')).toBe(0);
    expect(parseDuration(' 5m ')).toBe(300_000);
  });

  it('reads what retention accepted: d, h, w and INF (only where infinity is allowed)', () => {
    expect(parseDuration('40d', { infinite: true })).toBe(40 * 86_400_000);
    expect(parseDuration('12h', { infinite: true })).toBe(12 * 3_600_000);
    expect(parseDuration('2w', { infinite: true })).toBe(14 * 86_400_000);
    expect(parseDuration('INF', { infinite: true })).toBe(Infinity);
    expect(parseDuration('inf', { infinite: true })).toBe(Infinity);
    expect(() => parseDuration('INF')).toThrow(/"INF" is not a duration/);
  });

  it('refuses anything else, naming the setting and giving examples', () => {
    for (const bad of ['', '5', '5 minutes', 'ten minutes', '-5m', '5x', '1h 30m', 'forever', '1e3s']) {
      expect(() => parseDuration(bad)).toThrow(/is not a duration \(e\.g\. 30s, 5m, 1h30m, 2d\)/);
    }
    expect(() => parseDuration('forever', { infinite: true, what: 'retention policy raw' })).toThrow(
      'retention policy raw: "forever" is not a duration (e.g. 40d, 12h or INF)',
    );
  });
});
