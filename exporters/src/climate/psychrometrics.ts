/**
 * Air maths for the container: dew point (Magnus formula, Alduchov & Eskridge 1996 coefficients for water,
 * good to ±0.35 °C from -45 to 60 °C) and the recirculation damper opening that holds the intake at a target.
 */
const MAGNUS_B = 17.625;
const MAGNUS_C = 243.04; // °C

export function dewPointC(temperatureC: number, humidityPct: number): number {
  const rh = Math.min(100, Math.max(0.1, humidityPct)); // ln(0) is -∞: a bone-dry reading still has a (very low) dew point
  const gamma = Math.log(rh / 100) + (MAGNUS_B * temperatureC) / (MAGNUS_C + temperatureC);
  return (MAGNUS_C * gamma) / (MAGNUS_B - gamma);
}

/** Specific heat of air (J/(kg·K)) and density near sea level at 20 °C (kg/m³), for the airflow estimate. */
const AIR_CP = 1005;
const AIR_DENSITY = 1.2;

/** Volume of air (m³/h) that carries `heatW` at a temperature rise of `deltaTC`. */
export function airflowM3h(heatW: number, deltaTC: number): number | undefined {
  if (!(deltaTC > 0.5) || !(heatW > 0)) return undefined; // a tiny delta-T makes the estimate meaningless
  return (heatW / (AIR_CP * deltaTC * AIR_DENSITY)) * 3600;
}

export interface RecirculationInput {
  outsideC: number;
  /** Exhaust minus intake: the miners' temperature rise. */
  riseC: number;
  /** The intake dew point (recirculation adds no water, so it is the outside dew point). */
  dewPointC?: number;
  minC: number;
  maxC: number;
  condensationMarginC: number;
  /** Mechanical limit of the damper (fully closed outside-air inlet starves the miners). */
  maxOpeningPct?: number;
}

/**
 * Damper opening (% recirculated exhaust) that holds the intake inside [minC, maxC] and clear of condensation.
 * Mixing model: intake = (1-d)·outside + d·(intake + rise)  ⇒  intake = outside + d·rise/(1-d)  ⇒  d = Δ/(Δ+rise)
 * with Δ = target - outside. The target is the band's lower edge (raised to dew point + margin), plus a small
 * cushion, because warmer than needed wastes nothing but costs the miners cooling headroom.
 */
export function recirculationAdvicePct(i: RecirculationInput): number {
  const maxOpening = (i.maxOpeningPct ?? 80) / 100;
  const floor = Math.max(i.minC, (i.dewPointC ?? -Infinity) + i.condensationMarginC);
  const target = Math.min(floor + 2, i.maxC);
  const deficit = target - i.outsideC;
  if (deficit <= 0 || !(i.riseC > 0)) return 0;
  const d = deficit / (deficit + i.riseC);
  return Math.round(Math.min(maxOpening, Math.max(0, d)) * 1000) / 10;
}
