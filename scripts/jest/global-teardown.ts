export default async function globalTeardown(): Promise<void> {
  await globalThis.__FLYMINING_INFLUX__?.destroy();
}
