/** @flymining/simulator: simulated miners speaking the CGMiner-style API over real TCP, climate sensors over MQTT. */
export {
  PROFILES,
  PROFILE_IDS,
  isProfileId,
  profileCatalog,
  profileSummary,
  type ProfileId,
  type ProfileSummary,
  type ReplyDialect,
  type SimProfile,
} from './catalog';
export { faultRequestSchema, FaultError, type ActiveFaults, type FaultName, type FaultRequest } from './faults';
export { SimMiner, CONSTANT_INTAKE_25C, type IntakeSource, type MinerDescription, type MinerReading, type SimMinerSpec, type SimMode } from './miner';
export { MinerServer } from './server';
export { SimulatedFarm, generateFarmSpecs, DEFAULT_PROFILE_MIX, DEFAULT_API_PORT, type FarmLayout, type FarmOptions } from './farm';
export {
  ClimatePublisher,
  ContainerClimate,
  DEFAULT_CLIMATE,
  SENSOR_PLACEMENTS,
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
export { inventoryYaml, modbusSensorEntries, type InventoryWriteOptions } from './write-inventory';
