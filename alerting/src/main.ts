/** `npm run alerting -- --config alerting.yaml`: the alerting service with its HTTP API. */
import { createLogger, openAuthenticator, readAuthSettings, runService } from '@flymining/shared';
import { Command } from 'commander';
import { createApi } from './api';
import { ConfigError, loadConfig, requireLinkSigner } from './config';
import { AlertingService } from './service';

async function main(): Promise<() => Promise<void>> {
  const program = new Command('alerting')
    .requiredOption('--config <file>', 'alerting config (YAML)', process.env.FLYMINING_ALERTING_CONFIG)
    .option('--redis <url>', 'Redis URL (overrides the config file)', process.env.FLYMINING_REDIS_URL)
    .option('--listen <host:port>', 'address of the API (overrides the config file)', process.env.FLYMINING_ALERTING_LISTEN)
    .option('--influx <url>', 'InfluxDB URL for query rules (overrides the config file)', process.env.FLYMINING_INFLUX_URL)
    .option('--inventory <file>', 'farm inventory: miners per container for root causes (overrides the config file)', process.env.FLYMINING_INVENTORY)
    .option('--external-url <url>', 'base of the acknowledge links (overrides the config file)', process.env.FLYMINING_ALERTING_EXTERNAL_URL)
    .option('--smtp <url>', 'SMTP server for every email receiver (overrides their smarthost)', process.env.FLYMINING_SMTP_URL)
    .option('--watchdog-url <url>', "dead man's switch: POST the Watchdog heartbeat here (overrides watchdog.url; may carry a token)", process.env.FLYMINING_ALERTING_WATCHDOG_URL)
    .parse();
  const options = program.opts<{ config: string; redis?: string; listen?: string; influx?: string; inventory?: string; externalUrl?: string; smtp?: string; watchdogUrl?: string }>();
  const logger = createLogger('alerting');
  let config;
  try {
    config = loadConfig(options.config);
    if (options.redis) config.redis = options.redis;
    if (options.listen) config.listen = options.listen;
    if (options.influx && config.influx) config.influx.url = options.influx;
    if (options.inventory) config.inventory = options.inventory;
    if (options.externalUrl) config.external_url = options.externalUrl;
    if (options.watchdogUrl) config.watchdog.url = options.watchdogUrl;
    if (options.smtp) for (const r of config.receivers) if (r.email) r.email.smarthost = options.smtp;
    requireLinkSigner(config);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  // Tokens and portal sessions live in the farm's Redis: the alerting one unless FLYMINING_REDIS_URL names it.
  let auth;
  try {
    auth = openAuthenticator(readAuthSettings({ ...process.env, FLYMINING_REDIS_URL: process.env.FLYMINING_REDIS_URL ?? config.redis }), logger);
  } catch (e) {
    process.stderr.write(`alerting: ${(e as Error).message}\n`);
    process.exit(2);
  }
  const service = new AlertingService(config, logger);
  await service.start();
  const [host, port] = [config.listen.slice(0, config.listen.lastIndexOf(':')), Number(config.listen.slice(config.listen.lastIndexOf(':') + 1))];
  const server = createApi(service, { authenticator: auth.authenticator }).listen(port, host, () => logger.info({ listen: config.listen }, 'alerting API listening'));
  server.on('error', (e: Error) => {
    process.stderr.write(`alerting: cannot listen on ${config.listen}: ${e.message}\n`);
    process.exit(1);
  });
  return async () => {
    server.close();
    await service.stop();
    await auth.close();
  };
}

runService('alerting', main);
