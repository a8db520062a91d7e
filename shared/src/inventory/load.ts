/**
 * Reads the farm inventory (YAML): site → containers → racks → shelves → slots, each slot's miner and each
 * container's sensors. Every error names the file, the line and the field, because staff edit this file by hand.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { CORE_SCHEMA, load as loadYamlFast } from 'js-yaml';
import { parse } from 'yaml';
import { formatIssues, YamlLocator } from '../text';
import { z } from 'zod';
import { DEFAULT_THRESHOLDS, MODEL_CATALOG, type ModelExpectations } from './models';
import { CLIMATE_POSITIONS, SECURITY_POSITIONS, type ContainerSpec, type Inventory, type MinerSpec, type MinerThresholds, type SensorSpec } from './types';
import { DEFAULT_PROTOCOL_PORTS, MINER_PROTOCOLS } from '../sample';
import { DEFAULT_DEVFEE_MAX_MINUTES, devfeeSchema, poolListSchema, resolvePools, type PoolExpectation } from './pools';

/** Names become InfluxDB tags, Redis keys and URL parts: keep them plain. */
const name = z
  .union([z.string(), z.number()])
  .transform(String)
  .pipe(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/, 'use letters, digits and _ . : - (at most 64, starting with a letter or digit)'));

const host = z.string().refine((h) => isIP(h) !== 0 || /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*$/.test(h), {
  message: 'must be an IP address or a host name',
});
const port = z.number().int().min(1).max(65535);

const protocol = z.enum(MINER_PROTOCOLS, { message: `must be one of ${MINER_PROTOCOLS.join(', ')}` });
/** A backend id as in exporters/src/miner/backends/<family>/<version>/ (e.g. whatsminer/v3), or a cgminer family. */
const backend = z.string().regex(/^[a-z][a-z0-9-]{0,31}(\/[a-z0-9][a-z0-9_.-]{0,31})?$/, 'a backend like whatsminer/v3, braiins/v25_07 or antminer/web');
/**
 * A reference to a credentials entry, never the secret itself: the exporter reads `<name>.user`/`<name>.password`
 * from FLYMINING_MINER_CREDENTIALS_DIR. `firmware-default` opts in to the password the firmware ships (root/root …).
 */
const credentials = z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, 'the name of a credentials entry (lower-case letters, digits, _ . -), not a password');

const thresholds = z.strictObject({
  chipOverheatC: z.number().min(30).max(150).optional(),
  boardOverheatC: z.number().min(30).max(150).optional(),
  lowHashrateShare: z.number().gt(0).max(1).optional(),
  lowHashrateScrapes: z.number().int().min(1).max(1000).optional(),
  fanStoppedRpm: z.number().min(0).max(20000).optional(),
});

const expectations = {
  model: z.string().min(1).max(100).optional(),
  nominalThs: z.number().positive().max(10000).optional(),
  fans: z.number().int().min(0).max(16).optional(),
  hashboards: z.number().int().min(1).max(16).optional(),
  chipsPerBoard: z.number().int().min(1).max(1000).optional(),
  cooling: z.enum(['air', 'hydro', 'immersion']).optional(),
  thresholds: thresholds.optional(),
};

const slotSchema = z.strictObject({
  slot: name,
  id: name.optional(),
  host: host.optional(),
  port: port.optional(),
  vendor: z.enum(['antminer', 'braiins', 'whatsminer', 'avalon']).optional(),
  firmware: z.enum(['antminer-stock', 'hiveon', 'vnish', 'luxos', 'braiins-os', 'whatsminer', 'avalon', 'epic']).optional(),
  // How to read it, when detection should not guess (issue 13); `port` is then that protocol's port.
  protocol: protocol.optional(),
  backend: backend.optional(),
  credentials: credentials.optional(),
  // The machine in the slot: its repair history follows these, not the slot (maintenance tickets).
  serial: z.string().trim().min(1).max(100).regex(/^[\w.:/-]+$/, 'letters, digits and . : / - _ only').optional(),
  mac: z.string().regex(/^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$/, 'a MAC address like 00:1a:2b:3c:4d:5e').optional(),
  // Expected pools of this miner alone (replaces the container's or site's list).
  pools: poolListSchema.optional(),
  ...expectations,
});

const sensorSchema = z.looseObject({
  id: name,
  position: z.enum([...CLIMATE_POSITIONS, ...SECURITY_POSITIONS]),
  protocol: z.enum(['mqtt', 'http', 'modbus']),
});

/** An IPv4 range a container's miners live in, scanned by scheduled discovery (at most a /16, as discovery allows). */
const subnet = z
  .string()
  .regex(/^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\/(1[6-9]|2\d|3[0-2])$/, 'an IPv4 range like 10.10.2.0/24 (prefix 16 to 32)');

const inventorySchema = z.strictObject({
  site: name,
  // Pools every miner of the site may hash on, unless its container or slot lists its own.
  pools: poolListSchema.optional(),
  devfee: devfeeSchema.optional(),
  defaults: z
    .strictObject({
      port: port.optional(),
      thresholds: thresholds.optional(),
      /** Credentials for the whole site's web/REST APIs (a model's or a slot's own entry wins). */
      credentials: credentials.optional(),
    })
    .optional(),
  models: z
    .record(
      z.string().min(1).max(100),
      z.strictObject({
        nominalThs: z.number().positive().max(10000),
        fans: z.number().int().min(0).max(16),
        hashboards: z.number().int().min(1).max(16),
        chipsPerBoard: z.number().int().min(1).max(1000),
        cooling: z.enum(['air', 'hydro', 'immersion']).default('air'),
        thresholds: thresholds.optional(),
        credentials: credentials.optional(),
      }),
    )
    .optional(),
  containers: z
    .array(
      z.strictObject({
        name,
        pools: poolListSchema.optional(),
        subnet: subnet.optional(),
        sensors: z.array(sensorSchema).default([]),
        racks: z.array(
          z.strictObject({
            name,
            shelves: z.array(z.strictObject({ name, slots: z.array(slotSchema) })),
          }),
        ),
      }),
    )
    .min(1),
});

type InventoryDoc = z.infer<typeof inventorySchema>;

export class InventoryError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`invalid inventory ${source}:\n  ${problems.join('\n  ')}`);
    this.name = 'InventoryError';
  }
}

/**
 * The YAML as plain data. js-yaml (core schema, duplicate keys refused, as `yaml` with uniqueKeys) reads a
 * 20,000-miner inventory in about a tenth of the time and memory of `yaml` (≈ 1.7 s and 22 MB against 21 s and 310 MB
 * on a busy 2-core machine: `yaml` alone overran the exporter's 256 MB heap). Text with anchors or aliases goes to
 * `yaml`, which bounds how far aliases expand (js-yaml shares aliased nodes, which zod would then walk again and again).
 * The document API (YamlLocator) is built only to explain errors.
 */
function readYaml(text: string): unknown {
  if (!/[&*]/.test(text)) return loadYamlFast(text, { schema: CORE_SCHEMA });
  return parse(text, { uniqueKeys: true, maxAliasCount: 100 });
}

/** Parses inventory text; `source` (the file path) appears in every message. */
export function parseInventory(text: string, source: string): Inventory {
  const locator = new YamlLocator(text, source);
  let data: unknown;
  try {
    data = readYaml(text);
  } catch {
    const errors = locator.syntaxErrors();
    throw new InventoryError(source, errors.length > 0 ? errors : ['YAML could not be read']);
  }
  const parsed = inventorySchema.safeParse(data);
  if (!parsed.success) {
    throw new InventoryError(source, formatIssues(parsed.error, { locate: (path) => locator.where(path) }));
  }
  return buildInventory(parsed.data, source, (path) => locator.where(path));
}

function buildInventory(data: InventoryDoc, source: string, where: (path: Array<string | number>) => string): Inventory {
  const problems: string[] = [];
  const models: Record<string, ModelExpectations> = { ...MODEL_CATALOG, ...(data.models ?? {}) };
  const baseThresholds: MinerThresholds = { ...DEFAULT_THRESHOLDS, ...stripUndefined(data.defaults?.thresholds) };
  const miners = new Map<string, MinerSpec>();
  const endpoints = new Map<string, string>();
  const containers: ContainerSpec[] = [];
  const containerNames = new Set<string>();

  const devfeeMaxS = (data.devfee?.maxMinutes ?? DEFAULT_DEVFEE_MAX_MINUTES) * 60;
  const devfeePools = data.devfee?.pools ?? [];
  /** The nearest level's pool list (slot, else container, else site), placeholders resolved for this miner. */
  const poolExpectation = (
    pools: Parameters<typeof resolvePools>[0] | undefined,
    id: string,
    location: MinerSpec['location'],
  ): { expectedPools?: PoolExpectation } => (pools ? { expectedPools: { pools: resolvePools(pools, id, location), devfeeMaxS, devfeePools } } : {});
  data.containers.forEach((c, ci) => {
    if (containerNames.has(c.name)) problems.push(`${where(['containers', ci, 'name'])}: container "${c.name}" is listed twice`);
    containerNames.add(c.name);
    const sensorIds = new Set<string>();
    const sensors: SensorSpec[] = c.sensors.map((s, si) => {
      if (sensorIds.has(s.id)) problems.push(`${where(['containers', ci, 'sensors', si, 'id'])}: sensor "${s.id}" is listed twice`);
      sensorIds.add(s.id);
      const { id, position, protocol, ...settings } = s;
      return { id, position, protocol, settings };
    });
    const container: ContainerSpec = { name: c.name, site: data.site, sensors, slots: [], ...(c.subnet ? { subnet: c.subnet } : {}) };
    c.racks.forEach((r, ri) => {
      r.shelves.forEach((sh, shi) => {
        sh.slots.forEach((s, si) => {
          const path: Array<string | number> = ['containers', ci, 'racks', ri, 'shelves', shi, 'slots', si];
          const location = { site: data.site, container: c.name, rack: r.name, shelf: sh.name, slot: s.slot };
          if (!s.host) {
            if (s.model || s.id) problems.push(`${where(path)}: slot ${s.slot} names a miner but no host`);
            container.slots.push({ location });
            return;
          }
          const model = s.model ? models[s.model] : undefined;
          const pick = <K extends keyof ModelExpectations>(key: K): ModelExpectations[K] | undefined =>
            (s[key as keyof typeof s] as ModelExpectations[K] | undefined) ?? model?.[key];
          const nominalThs = pick('nominalThs');
          const fans = pick('fans');
          const hashboards = pick('hashboards');
          const chipsPerBoard = pick('chipsPerBoard');
          const missing = Object.entries({ nominalThs, fans, hashboards, chipsPerBoard })
            .filter(([, v]) => v === undefined)
            .map(([k]) => k);
          if (missing.length > 0) {
            problems.push(
              `${where(path)}: ${missing.join(', ')} missing: give them on the slot, or a model known to the catalog or the models: section` +
                (s.model ? ` ("${s.model}" is not)` : ''),
            );
            return;
          }
          const id = s.id ?? `${c.name}-${r.name}-${sh.name}-${s.slot}`;
          if (miners.has(id)) {
            problems.push(`${where(path)}: miner id "${id}" is used twice`);
            return;
          }
          const port = s.port ?? (s.protocol && s.protocol !== 'cgminer' ? DEFAULT_PROTOCOL_PORTS[s.protocol] : (data.defaults?.port ?? 4028));
          const credentialsRef = s.credentials ?? (s.model ? data.models?.[s.model]?.credentials : undefined) ?? data.defaults?.credentials;
          const endpoint = `${s.host}:${port}`;
          const other = endpoints.get(endpoint);
          if (other) problems.push(`${where(path)}: ${endpoint} is already the address of miner "${other}"`);
          endpoints.set(endpoint, id);
          const spec: MinerSpec = {
            id,
            host: s.host,
            port,
            vendor: s.vendor,
            firmware: s.firmware,
            ...(s.serial ? { serial: s.serial } : {}),
            ...(s.mac ? { mac: s.mac.toLowerCase().replace(/-/g, ':') } : {}),
            ...(s.protocol ? { protocol: s.protocol } : {}),
            ...(s.backend ? { backend: s.backend } : {}),
            ...(credentialsRef ? { credentials: credentialsRef } : {}),
            ...poolExpectation(s.pools ?? c.pools ?? data.pools, id, location),
            model: s.model ?? 'unknown',
            nominalThs: nominalThs as number,
            fans: fans as number,
            hashboards: hashboards as number,
            chipsPerBoard: chipsPerBoard as number,
            cooling: s.cooling ?? model?.cooling ?? 'air',
            thresholds: { ...baseThresholds, ...stripUndefined(model?.thresholds), ...stripUndefined(s.thresholds) },
            location,
          };
          miners.set(id, spec);
          container.slots.push({ location, miner: spec });
        });
      });
    });
    containers.push(container);
  });
  if (problems.length > 0) throw new InventoryError(source, problems);
  return { site: data.site, containers, miners, source };
}

function stripUndefined<T extends object>(o: T | undefined): Partial<T> {
  if (!o) return {};
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Reads and validates an inventory file. Size is capped: an inventory is config, not data. */
export function loadInventory(path: string): Inventory {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InventoryError(path, [`cannot read: ${(err as Error).message}`]);
  }
  if (text.length > 64 * 1024 * 1024) throw new InventoryError(path, ['file is larger than 64 MiB']);
  return parseInventory(text, path);
}
