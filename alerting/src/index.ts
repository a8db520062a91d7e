export { AlertingService, type ServiceOptions, type Snapshot } from './service';
export { createApi } from './api';
export { loadConfig, parseConfig, ConfigError, type AlertingConfig } from './config';
