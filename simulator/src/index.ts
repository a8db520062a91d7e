/** @flymining/simulator: simulated miners speaking the CGMiner-style API over real TCP, climate sensors over MQTT. */
export {
  PROFILES,
  PROFILE_IDS,
  API_NEXT_PROFILE_IDS,
  ALL_PROFILE_IDS,
  apiOf,
  type ApiSet,
  type HttpApi,
  type SimFirmware,
  isProfileId,
  profileCatalog,
  profileSummary,
  type ProfileId,
  type ProfileSummary,
  type ReplyDialect,
  type SimProfile,
} from './catalog';
export { faultRequestSchema, FaultError, type ActiveFaults, type FaultName, type FaultRequest, type HostileMode, type FirmwareErrorState } from './faults';
export { SimMiner, CONSTANT_INTAKE_25C, type IntakeSource, type MinerDescription, type MinerReading, type SimMinerSpec, type SimMode } from './miner';
export { MinerServer } from './server';
export {
  SimulatedFarm,
  generateFarmSpecs,
  farmPart,
  DEFAULT_PROFILE_MIX,
  DEMO_PROFILE_MIX,
  DEMO_REQUIRED_PROFILES,
  DEFAULT_API_PORT,
  DEFAULT_HTTP_PORT,
  DEFAULT_V3_PORT,
  type FarmLayout,
  type FarmOptions,
  type FarmPart,
} from './farm';
export { DEFAULT_CREDENTIALS, API_AUTH_KINDS, credentialFileSchema, mergeCredentials, type ApiAuthKind, type ApiCredential, type CredentialSet } from './next/credentials';
export { frame as v3Frame, V3_MAX_CLIENTS } from './next/v3-server';
export { v3Token, v3Salt, V3_CODE, setWhatsminerWriteApi, whatsminerWriteApi } from './next/whatsminer-v3';
export { ANTMINER_REALM } from './next/http-api';
export {
  ClimatePublisher,
  ContainerClimate,
  DEFAULT_CLIMATE,
  SENSOR_PLACEMENTS,
  WEATHER_PROFILES,
  WEATHER_PROFILE_NAMES,
  type Weather,
  type WeatherProfile,
  sensorTopic,
  tasmotaPayload,
  type ClimateOptions,
  type ClimateReading,
  type SensorPlacement,
} from './climate';
export { startControlServer, type ControlServer } from './control';
export {
  ContainerModbusDevice,
  MODBUS_REGISTERS,
  SensorFaults,
  registerValues,
  sensorFaultSchema,
  type SensorFaultRequest,
  type SimSensorName,
} from './climate-sensors';
export { sendCommand, sendRaw, type RawReply } from './client';
export { answerRequest, BTMINER_PROCESS_DOWN } from './replies';
export { Prng, deriveSeed } from './prng';
export { inventoryYaml, modbusSensorEntries, protocolPin, INVENTORY_KNOWS_PROTOCOLS, type InventoryWriteOptions } from './write-inventory';
export { computeHistory, demoOutages, historyDays, writeHistory, type DeliveredByDay, type HistoryOptions, type Outage } from './history';
export { demoNetworkDay, demoPoolFigures, hashpriceSat, startPoolApi, POOL_API_NAMES, type PoolApiName, type PoolApiOptions, type PoolApiServer, type PoolFigures } from './pools';
