/** `flymining`: the staff command line. Each component contributes its commands; this file only assembles them. */
import { Command, CommanderError } from 'commander';
import { registerExporterCommands, registerMinerCommands } from '../exporters/src/cli';
import { registerPortalCommands } from '../billing/src/portal/cli';
import { registerBillingCommands } from '../billing/src/cli';
import { registerAlertingCommands } from '../alerting/src/cli';
import { registerTokenCommands } from '../shared/src/auth/cli';
import { registerMaintenanceCommands } from '../maintenance/src/cli';

export async function main(argv: string[]): Promise<number> {
  const program = new Command('flymining')
    .description('FlyMining Ops: observability and billing for container mining farms')
    .showHelpAfterError()
    .exitOverride();
  registerExporterCommands(program);
  registerMinerCommands(program);
  registerPortalCommands(program);
  registerBillingCommands(program);
  registerAlertingCommands(program);
  registerTokenCommands(program);
  registerMaintenanceCommands(program);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    // commander has already printed usage errors and help.
    if (err instanceof CommanderError) return err.exitCode;
    throw err;
  }
}
