import { ClockOffsetEstimator } from '../../src/influx';

/** The HTTP Date header InfluxDB would send when its clock reads serverMs (whole seconds). */
const dateHeader = (serverMs: number) => new Date(Math.floor(serverMs / 1000) * 1000).toUTCString();

describe('ClockOffsetEstimator', () => {
  test('answers with 1 s Date headers at varied phases pin a 90 s skew to well under a second', () => {
    const clock = new ClockOffsetEstimator();
    expect(clock.offsetMs).toBeUndefined();
    const skewMs = 90_437;
    let local = 1_790_000_000_123;
    for (let i = 0; i < 12; i++) {
      const latency = 5 + (i % 3) * 7;
      const stamped = local + latency / 2 + skewMs;
      clock.observe(dateHeader(stamped), local, local + latency);
      local += 1_370; // answers fall at different points of the server's second
    }
    expect(Math.abs((clock.offsetMs as number) - skewMs)).toBeLessThan(150);
  });

  test('after the server clock is stepped, the estimate follows the newest answers', () => {
    const clock = new ClockOffsetEstimator();
    let local = 1_790_000_000_000;
    for (let i = 0; i < 10; i++, local += 733) clock.observe(dateHeader(local + 5), local, local + 10);
    expect(Math.abs(clock.offsetMs as number)).toBeLessThan(1000);
    for (let i = 0; i < 3; i++, local += 733) clock.observe(dateHeader(local + 5 - 3_600_000), local, local + 10);
    expect(Math.abs((clock.offsetMs as number) + 3_600_000)).toBeLessThan(1000);
  });

  test('answers without a usable Date header are ignored', () => {
    const clock = new ClockOffsetEstimator();
    clock.observe(undefined, 1, 2);
    clock.observe('yesterday', 1, 2);
    expect(clock.offsetMs).toBeUndefined();
  });
});
