/** The backends under their old name, for code outside the exporter that still imports it (bench/sweep.ts). */
export * from '../backends';
