/**
 * Runs a simulated farm until SIGINT/SIGTERM:
 *   npx tsx simulator/src/main.ts --miners 200 --control-port 4100 [--specs-out specs.json] [--mqtt mqtt://127.0.0.1:1883] [--seed N]
 *       [--uplink-target 127.0.0.1:8086 --uplink-port 18601 [--uplink-delay-ms 40 --uplink-jitter-ms 20]]
 */
import { writeFile } from 'node:fs/promises';
import { Command, InvalidArgumentError } from 'commander';
import { readJsonFile } from '@flymining/shared';
import { isProfileId, type ProfileId } from './catalog';
import { UplinkSet, startControlServer } from './control';
import { DEFAULT_PROFILE_MIX, DEMO_PROFILE_MIX, DEMO_REQUIRED_PROFILES, SimulatedFarm, farmPart, generateFarmSpecs, type FarmPart } from './farm';
import { credentialFileSchema, mergeCredentials } from './next/credentials';
import { LinkProxy } from './link-proxy';
import { inventoryYaml } from './write-inventory';

function wholeNumber(name: string, min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be a whole number >= ${min}, got "${value}"`);
    return n;
  };
}

/** "127.0.0.1:8086" -> host and port. */
function hostPort(name: string) {
  return (value: string): { host: string; port: number } => {
    const colon = value.lastIndexOf(':');
    const host = value.slice(0, colon);
    const port = Number(value.slice(colon + 1));
    if (colon <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) throw new InvalidArgumentError(`${name} must be host:port, got "${value}"`);
    return { host, port };
  };
}

/**
 * One simulated LTE uplink per container (in container order): container i listens on 127.0.0.1:firstPort+i-1 and
 * forwards to the center's InfluxDB. Stops the ones it opened when one cannot listen.
 */
async function startUplinks(
  containers: readonly string[],
  target: { host: string; port: number },
  firstPort: number,
  delay: { delayMs: number; jitterMs: number },
  seed: number,
): Promise<Map<string, LinkProxy>> {
  const uplinks = new Map<string, LinkProxy>();
  try {
    for (const [index, container] of containers.entries()) {
      const proxy = await LinkProxy.start({
        listenHost: '127.0.0.1',
        listenPort: firstPort + index,
        targetHost: target.host,
        targetPort: target.port,
        up: delay,
        down: delay,
        seed: seed + index,
      });
      uplinks.set(container, proxy);
    }
  } catch (err) {
    await Promise.all([...uplinks.values()].map((p) => p.close()));
    throw new Error(`uplink of container ${containers[uplinks.size] ?? '?'}: ${(err as Error).message}`);
  }
  return uplinks;
}

/** "2/3" -> part 2 of 3. */
function parsePart(value: string): FarmPart {
  const m = /^(\d+)\/(\d+)$/.exec(value.trim());
  const index = Number(m?.[1]);
  const of = Number(m?.[2]);
  if (!m || index < 1 || of < 1 || index > of) throw new InvalidArgumentError(`--part must be k/n with 1 <= k <= n, e.g. 2/3, got "${value}"`);
  return { index, of };
}

/** "antminer-s19pro=3,avalon-1246=1" -> weights. */
function parseMix(value: string): Partial<Record<ProfileId, number>> {
  const mix: Partial<Record<ProfileId, number>> = {};
  for (const part of value.split(',')) {
    const [id, weight = '1'] = part.split('=').map((s) => s.trim());
    if (!id || !isProfileId(id)) throw new InvalidArgumentError(`--mix: unknown profile "${id ?? ''}"`);
    const w = Number(weight);
    if (!Number.isFinite(w) || w < 0) throw new InvalidArgumentError(`--mix: weight of ${id} must be a number >= 0`);
    mix[id] = w;
  }
  return mix;
}

/** Reads and validates a --credentials file; the message names the file and the field. */
async function loadCredentials(file: string): Promise<ReturnType<typeof mergeCredentials>> {
  return mergeCredentials(await readJsonFile(file, '--credentials', credentialFileSchema));
}

async function main(): Promise<void> {
  const program = new Command()
    .name('flymining-simulator')
    .description('Simulated mining farm: CGMiner-style API over TCP, climate sensors over MQTT, control API over HTTP')
    .option('--miners <n>', 'number of miners', wholeNumber('--miners', 0), 200)
    .option('--containers <n>', 'number of containers (default: as many as needed)', wholeNumber('--containers', 1))
    .option('--racks-per-container <n>', 'racks per container (4 shelves of 5 slots each)', wholeNumber('--racks-per-container', 1), 10)
    .option('--control-port <port>', 'control HTTP API port', wholeNumber('--control-port', 0), 4100)
    .option('--specs-out <file>', 'write the miner specs (ids, addresses, profiles, positions) as JSON')
    .option('--inventory-out <file>', 'write a farm inventory (YAML) listing every simulated miner and climate sensor')
    .option('--mqtt <url>', 'publish Tasmota-style climate sensors to this MQTT broker')
    .option('--modbus-port <port>', 'serve each container\'s damper and power meter over Modbus TCP from this port on 127.0.0.1', wholeNumber('--modbus-port', 1))
    .option('--mqtt-interval <ms>', 'sensor publish interval', wholeNumber('--mqtt-interval', 100), 10_000)
    .option('--seed <n>', 'random seed', wholeNumber('--seed', 0), 1)
    .option('--bind <mode>', "'addresses' (own 127.x.y.z each, port 4028) or 'ports' (127.0.0.1, distinct ports)", 'addresses')
    .option('--base-address <ip>', 'first miner address in addresses mode', '127.1.0.1')
    .option('--base-port <port>', 'port (addresses mode) or first port (ports mode)', wholeNumber('--base-port', 1))
    .option('--mix <weights>', 'profile weights, e.g. antminer-s19pro=3,whatsminer-m31s=1 (default: the demo farm, with v3/web/REST/ePIC units)', parseMix)
    .option('--cgminer-only', 'default mix without the units behind the newer APIs (the farm before issue 13)')
    .option('--http-port <port>', 'web API port of Antminer CGI / Braiins REST / VNish units in addresses mode', wholeNumber('--http-port', 1), 80)
    .option('--v3-port <port>', 'Whatsminer API v3 port in addresses mode', wholeNumber('--v3-port', 1), 4433)
    .option('--credentials <file>', 'JSON file of the credentials the units accept, e.g. {"antminer-web":{"user":"root","password":"..."}} (default: firmware defaults)')
    .option('--part <k/n>', "serve only part k of n of the farm (whole containers; --specs-out and --inventory-out still describe the whole farm), so several processes can serve one large farm", parsePart)
    .option('--uplink-target <host:port>', "simulate each container's LTE uplink: a proxy per container to this address (the center's InfluxDB)", hostPort('--uplink-target'))
    .option('--uplink-port <port>', 'first uplink listen port on 127.0.0.1 (container i listens on port+i-1)', wholeNumber('--uplink-port', 1), 18601)
    .option('--uplink-delay-ms <ms>', 'one-way latency of each uplink', wholeNumber('--uplink-delay-ms', 0), 0)
    .option('--uplink-jitter-ms <ms>', 'latency varies by up to this much either way', wholeNumber('--uplink-jitter-ms', 0), 0)
    .parse();
  const o = program.opts<{
    miners: number;
    containers?: number;
    racksPerContainer: number;
    controlPort: number;
    specsOut?: string;
    inventoryOut?: string;
    mqtt?: string;
    mqttInterval: number;
    modbusPort?: number;
    seed: number;
    bind: string;
    baseAddress: string;
    basePort?: number;
    mix?: Partial<Record<ProfileId, number>>;
    cgminerOnly?: boolean;
    httpPort: number;
    v3Port: number;
    credentials?: string;
    part?: FarmPart;
    uplinkTarget?: { host: string; port: number };
    uplinkPort: number;
    uplinkDelayMs: number;
    uplinkJitterMs: number;
  }>();
  if (o.bind !== 'addresses' && o.bind !== 'ports') throw new Error(`--bind must be 'addresses' or 'ports', got "${o.bind}"`);
  // Sensors, meters and uplinks are per container and port: one process of a split farm cannot own them all.
  if (o.part && (o.mqtt || o.modbusPort !== undefined || o.uplinkTarget)) throw new Error('--part serves miners only: leave out --mqtt, --modbus-port and --uplink-target');

  const specs = generateFarmSpecs({
    miners: o.miners,
    containers: o.containers,
    racksPerContainer: o.racksPerContainer,
    profileMix: o.mix ?? (o.cgminerOnly ? DEFAULT_PROFILE_MIX : DEMO_PROFILE_MIX),
    // A given mix is a promise that each of its profiles is there (when the farm has room for all of them).
    ensureProfiles: o.mix
      ? (Object.keys(o.mix) as ProfileId[]).filter((id) => (o.mix?.[id] ?? 0) > 0 && Object.keys(o.mix ?? {}).length <= o.miners)
      : o.cgminerOnly
        ? []
        : DEMO_REQUIRED_PROFILES,
    httpPort: o.httpPort,
    v3Port: o.v3Port,
    baseAddress: o.baseAddress,
    bind: o.bind,
    basePort: o.basePort,
    seed: o.seed,
  });
  if (o.specsOut) await writeFile(o.specsOut, JSON.stringify(specs, null, 2) + '\n');
  // Written before the listeners open; whoever waits for the control API finds the inventory complete.
  if (o.inventoryOut) await writeFile(o.inventoryOut, inventoryYaml(specs, { sensors: true, modbusBasePort: o.modbusPort }));
  const credentials = o.credentials ? await loadCredentials(o.credentials) : undefined;
  const served = o.part ? farmPart(specs, o.part) : specs;
  const farm = new SimulatedFarm({ specs: served, seed: o.seed, mqttUrl: o.mqtt, mqttIntervalMs: o.mqttInterval, modbusBasePort: o.modbusPort, credentials });
  const started = Date.now();
  await farm.start();
  const uplinks = o.uplinkTarget
    ? await startUplinks([...farm.climates.keys()], o.uplinkTarget, o.uplinkPort, { delayMs: o.uplinkDelayMs, jitterMs: o.uplinkJitterMs }, o.seed).catch(
        async (err: unknown) => {
          await farm.stop();
          throw err;
        },
      )
    : undefined;
  const control = await startControlServer(farm, o.controlPort, '127.0.0.1', uplinks ? new UplinkSet(uplinks) : undefined);

  const first = served[0];
  const last = served[served.length - 1];
  const partText = o.part ? ` (part ${o.part.index}/${o.part.of} of a farm of ${specs.length})` : '';
  console.log(`simulator: ${served.length} miners in ${farm.climates.size} containers${partText}, listening in ${Date.now() - started} ms`);
  if (first && last) console.log(`simulator: miners ${first.host}:${first.port} (${first.id}) .. ${last.host}:${last.port} (${last.id})`);
  console.log(`simulator: control API ${control.url}  (GET /miners, POST /miners/:id/faults, DELETE /miners/:id/faults, GET /containers)`);
  if (o.mqtt) console.log(`simulator: climate sensors -> ${o.mqtt} on tele/<container>-<intake|exhaust|outside>/SENSOR every ${o.mqttInterval} ms`);
  if (o.modbusPort) console.log(`simulator: damper and power meter per container on Modbus TCP 127.0.0.1:${o.modbusPort}.. (POST /containers/:name/sensor-faults)`);
  for (const [container, proxy] of uplinks ?? []) {
    const { host, port } = proxy.address();
    console.log(
      `simulator: uplink of ${container} ${host}:${port} -> ${o.uplinkTarget?.host}:${o.uplinkTarget?.port} (${o.uplinkDelayMs} ± ${o.uplinkJitterMs} ms; POST /containers/${container}/uplink {"state":"cut"|"up"})`,
    );
  }
  if (o.specsOut) console.log(`simulator: specs written to ${o.specsOut}`);
  if (o.inventoryOut) console.log(`simulator: inventory written to ${o.inventoryOut}`);

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    console.log(`simulator: ${signal}, stopping`);
    void Promise.all([control.close(), farm.stop(), ...[...(uplinks?.values() ?? [])].map((p) => p.close())]).then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(`simulator: error while stopping: ${(err as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error(`simulator: ${(err as Error).message}`);
  process.exit(1);
});
