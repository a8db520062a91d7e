/**
 * The hashrate chart: one bar per day of hashrate delivered, against a line at the hashrate purchased.
 * Plain inline SVG, so it needs neither scripts nor images (the CSP allows neither).
 */
import { html, type SafeHtml } from './html';

export interface HashrateDay {
  day: string; // YYYY-MM-DD
  deliveredThs: number;
  purchasedThs: number;
}

const WIDTH = 720;
const HEIGHT = 220;
const PAD = { left: 48, right: 12, top: 14, bottom: 28 };

export function hashrateChart(days: readonly HashrateDay[], title: string): SafeHtml {
  if (days.length === 0) return html`<p class="muted">No credited days yet.</p>`;
  const top = Math.max(...days.map((d) => Math.max(d.deliveredThs, d.purchasedThs))) * 1.1 || 1;
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const slot = plotW / days.length;
  const y = (ths: number): number => PAD.top + plotH - (ths / top) * plotH;
  const fmt = (n: number): string => n.toFixed(1);
  const bars = days.map((d, i) => {
    const x = PAD.left + i * slot + slot * 0.15;
    const label = `${d.day}: ${d.deliveredThs.toFixed(2)} TH/s delivered of ${d.purchasedThs.toFixed(2)} TH/s purchased`;
    return html`<rect class="delivered" x="${fmt(x)}" y="${fmt(y(d.deliveredThs))}" width="${fmt(slot * 0.7)}" height="${fmt(PAD.top + plotH - y(d.deliveredThs))}" fill="#1d6fd6"><title>${label}</title></rect>`;
  });
  // The purchased level can change between days (several contracts): a stepped line.
  const purchasedPath = days
    .map((d, i) => `${i === 0 ? 'M' : 'L'}${fmt(PAD.left + i * slot)},${fmt(y(d.purchasedThs))}H${fmt(PAD.left + (i + 1) * slot)}`)
    .join('');
  const every = Math.ceil(days.length / 8);
  const dayLabels = days.map((d, i) =>
    i % every === 0
      ? html`<text x="${fmt(PAD.left + i * slot + slot / 2)}" y="${HEIGHT - 8}" text-anchor="middle">${d.day.slice(5)}</text>`
      : html``,
  );
  const ticks = [0, 0.5, 1].map(
    (f) => html`<text x="${PAD.left - 6}" y="${fmt(y(top * f) + 4)}" text-anchor="end">${(top * f).toFixed(top < 10 ? 1 : 0)}</text>
      <line x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${fmt(y(top * f))}" y2="${fmt(y(top * f))}" stroke="#eceff2"/>`,
  );
  return html`<figure><svg role="img" aria-label="${title}" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="100%" xmlns="http://www.w3.org/2000/svg">
  ${ticks}${bars}<path class="purchased" d="${purchasedPath}" fill="none" stroke="#e07b00" stroke-width="2"/>${dayLabels}
  <text x="${PAD.left - 6}" y="${HEIGHT - 8}" text-anchor="end">TH/s</text></svg>
  <figcaption class="muted"><span class="swatch-delivered">■</span> delivered (daily average) · <span class="swatch-purchased">━</span> purchased</figcaption></figure>`;
}

export interface CumulativePoint {
  day: string; // YYYY-MM-DD
  btc: number; // for drawing only; the figures beside the chart are exact
}

/** Cumulative credits as a line over days, in the hashrate chart's style (inline SVG, no scripts). */
export function cumulativeChart(points: readonly CumulativePoint[], title: string): SafeHtml {
  if (points.length === 0) return html`<p class="muted">No credited days yet.</p>`;
  const top = Math.max(...points.map((p) => p.btc)) * 1.1 || 1;
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const slot = plotW / points.length;
  const y = (btc: number): number => PAD.top + plotH - (Math.max(btc, 0) / top) * plotH;
  const fmt = (n: number): string => n.toFixed(1);
  const x = (i: number): number => PAD.left + i * slot + slot / 2;
  const path = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${fmt(x(i))},${fmt(y(p.btc))}`).join('');
  const dots = points.map(
    (p, i) => html`<circle class="cumulative" cx="${fmt(x(i))}" cy="${fmt(y(p.btc))}" r="3" fill="#1d6fd6"><title>${p.day}: ${p.btc.toFixed(8)} BTC credited to date</title></circle>`,
  );
  const every = Math.ceil(points.length / 8);
  const dayLabels = points.map((p, i) =>
    i % every === 0 ? html`<text x="${fmt(x(i))}" y="${HEIGHT - 8}" text-anchor="middle">${p.day.slice(5)}</text>` : html``,
  );
  const ticks = [0, 0.5, 1].map(
    (f) => html`<text x="${PAD.left - 6}" y="${fmt(y(top * f) + 4)}" text-anchor="end">${(top * f).toPrecision(2)}</text>
      <line x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${fmt(y(top * f))}" y2="${fmt(y(top * f))}" stroke="#eceff2"/>`,
  );
  return html`<figure><svg role="img" aria-label="${title}" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="100%" xmlns="http://www.w3.org/2000/svg">
  ${ticks}<path class="cumulative" d="${path}" fill="none" stroke="#1d6fd6" stroke-width="2"/>${dots}${dayLabels}
  <text x="${PAD.left - 6}" y="${HEIGHT - 8}" text-anchor="end">BTC</text></svg>
  <figcaption class="muted"><span class="swatch-delivered">━</span> credits to date (BTC)</figcaption></figure>`;
}
