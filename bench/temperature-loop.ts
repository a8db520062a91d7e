/**
 * Temperature loop benchmark (issue 14: "the loop's band excursions over a simulated 24 h"). One simulated container
 * of Braiins OS units (REST over real sockets) with the whole edge path of exporters/test/control/loop-harness.ts:
 * climate exporter → container-climate.json → miner exporter sweep → control agent → write path → simulator, on a
 * simulated clock. The day: outside −12 °C before dawn to 35 °C mid-afternoon, and a recirculation damper staff left
 * at 45 % for the cold season (nobody drives it: the loop only recommends), so the miners' heat comes back to the
 * intake day and night. Settings are control.yaml's defaults (band 5..35 °C, hysteresis 1.5, chipMaxC 85, dwell 5m,
 * 5 miners a step, 15 % of the range a step).
 *
 * Baseline, same run: the same container (same miners, same seed, same weather, same clock) without the loop.
 * Figures for each: degree-minutes of intake above and below the band, degree-minutes of chips above chipMaxC
 * (summed over miners), energy; for the loop also its actions and direction changes per miner. Ratios loop/baseline.
 *
 * Run: npx tsx bench/temperature-loop.ts [miners=10] [stepMinutes=2]
 */
import { BaselineContainer, ClosedLoop, HOUR, MINUTE, directionChanges, type Observation } from '../exporters/test/control/loop-harness';

const MINERS = Number(process.argv[2] ?? 10);
const STEP_MIN = Number(process.argv[3] ?? 2);
const BAND = { low: 5, high: 35 };
const CHIP_MAX = 85;
const DAMPER = 0.45;

/** Outside air over the day: coldest 04:00, warmest 15:00 (a continental spring day), on the simulated clock. */
function outsideAt(hour: number): number {
  const coldest = -12;
  const warmest = 35;
  // Half a cosine from 04:00 up to 15:00, the other half down to 04:00 the next day.
  const h = (((hour - 4) % 24) + 24) % 24;
  const phase = h <= 11 ? h / 11 : 1 - (h - 11) / 13;
  return coldest + ((warmest - coldest) * (1 - Math.cos(Math.PI * phase))) / 2;
}

interface Tally {
  aboveDegMin: number;
  belowDegMin: number;
  chipDegMin: number;
  minutesOutside: number;
  energyKwh: number;
  peakIntakeC: number;
  lowestIntakeC: number;
  hottestChipC: number;
}

function tally(): Tally {
  return { aboveDegMin: 0, belowDegMin: 0, chipDegMin: 0, minutesOutside: 0, energyKwh: 0, peakIntakeC: -Infinity, lowestIntakeC: Infinity, hottestChipC: -Infinity };
}

function add(t: Tally, o: Observation, minutes: number): void {
  const above = Math.max(0, o.intakeC - BAND.high);
  const below = Math.max(0, BAND.low - o.intakeC);
  t.aboveDegMin += above * minutes;
  t.belowDegMin += below * minutes;
  if (above > 0 || below > 0) t.minutesOutside += minutes;
  for (const c of o.chips.values()) t.chipDegMin += Math.max(0, c - CHIP_MAX) * minutes;
  t.energyKwh += (o.powerW / 1000) * (minutes / 60);
  t.peakIntakeC = Math.max(t.peakIntakeC, o.intakeC);
  t.lowestIntakeC = Math.min(t.lowestIntakeC, o.intakeC);
  t.hottestChipC = Math.max(t.hottestChipC, ...o.chips.values());
}

const round = (v: number, digits = 1): number => Math.round(v * 10 ** digits) / 10 ** digits;
const ratio = (a: number, b: number): number | null => (b === 0 ? null : round(a / b, 3));

async function main(): Promise<void> {
  const day = new Date(Date.now() + 24 * HOUR);
  const start = Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate());
  const loop = await ClosedLoop.start({
    miners: MINERS,
    baseAddress: '127.218.1.1',
    startMs: start,
    // control.yaml's defaults, with the damper's real maximum (the simulator's is 80 %).
    temperature: { enabled: true, damperMaxPercent: 80 },
  });
  const baseline = new BaselineContainer({ miners: MINERS, baseAddress: '127.218.128.1', startMs: start, temperature: {} }, () => loop.nowMs);
  loop.setDamper(DAMPER);
  baseline.setDamper(DAMPER);
  const withLoop = tally();
  const without = tally();
  const wallStart = Date.now();
  try {
    for (let minute = STEP_MIN; minute <= 24 * 60; minute += STEP_MIN) {
      const outsideC = outsideAt((minute / 60) % 24);
      loop.setWeather({ outsideC: round(outsideC, 2) });
      baseline.setWeather({ outsideC: round(outsideC, 2) });
      const o = await loop.step(STEP_MIN * MINUTE);
      add(withLoop, o, STEP_MIN);
      add(without, baseline.observe(loop.nowMs), STEP_MIN);
      if (minute % 120 === 0) process.stderr.write(`${String(minute / 60).padStart(2)} h  outside ${round(outsideC)} °C  intake ${o.intakeC} (baseline ${baseline.observe(loop.nowMs).intakeC}) °C  power ${round(o.powerW / 1000)} kW\n`);
    }
    const changes = loop.specs.map((s) => directionChanges(loop.writes(s.id)));
    const actions = loop.sink.points('control_action');
    const decisions = loop.sink.points('control_decision');
    const byKind: Record<string, number> = {};
    for (const d of decisions) byKind[d.tags.decision ?? '?'] = (byKind[d.tags.decision ?? '?'] ?? 0) + 1;
    const shape = (t: Tally) => ({
      intakeDegreeMinutesAboveBand: round(t.aboveDegMin),
      intakeDegreeMinutesBelowBand: round(t.belowDegMin),
      minutesOutsideBand: t.minutesOutside,
      chipDegreeMinutesAboveMax: round(t.chipDegMin),
      peakIntakeC: t.peakIntakeC,
      lowestIntakeC: t.lowestIntakeC,
      hottestChipC: round(t.hottestChipC),
      energyKwh: round(t.energyKwh),
    });
    const result = {
      bench: 'temperature-loop',
      miners: MINERS,
      hours: 24,
      stepMinutes: STEP_MIN,
      weather: 'outside -12 °C at 04:00 to 35 °C at 15:00; recirculation damper fixed at 45 % (of 80 %)',
      settings: { intakeBandC: [BAND.low, BAND.high], chipMaxC: CHIP_MAX, hysteresisC: 1.5, dwell: '5m', stepMiners: 5, powerStepShare: 0.15 },
      loop: {
        ...shape(withLoop),
        actions: actions.length,
        actionsByOutcome: countBy(actions.map((a) => a.tags.outcome ?? '?')),
        decisions: byKind,
        directionChangesTotal: changes.reduce((a, b) => a + b, 0),
        directionChangesMaxPerMiner: Math.max(...changes),
      },
      baseline: shape(without),
      ratioLoopToBaseline: {
        intakeDegreeMinutesOutsideBand: ratio(withLoop.aboveDegMin + withLoop.belowDegMin, without.aboveDegMin + without.belowDegMin),
        intakeDegreeMinutesAboveBand: ratio(withLoop.aboveDegMin, without.aboveDegMin),
        intakeDegreeMinutesBelowBand: ratio(withLoop.belowDegMin, without.belowDegMin),
        chipDegreeMinutesAboveMax: ratio(withLoop.chipDegMin, without.chipDegMin),
        energy: ratio(withLoop.energyKwh, without.energyKwh),
      },
      wallSeconds: round((Date.now() - wallStart) / 1000),
    };
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  } finally {
    await loop.stop();
  }
}

function countBy(values: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

main().catch((err: unknown) => {
  process.stderr.write(`temperature-loop bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
