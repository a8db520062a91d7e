/** The staff server under test: a fresh maintenance database, real Redis tokens, the app listening on a free port. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestDatabase } from '../../billing/test/pg';
import { testTokens, type TestTokens } from '../../shared/test/auth/test-tokens';
import { createStaffApp, MAINTENANCE_TOKEN_COOKIE, type StaffAppOptions } from '../src/staff/app';
import { createMaintenanceDatabase } from './db';

export interface StaffServer {
  db: TestDatabase;
  tokens: TestTokens;
  url: string;
  close(): Promise<void>;
}

export async function startStaffServer(name: string, extra: Pick<StaffAppOptions, 'influx' | 'control' | 'log'> = {}): Promise<StaffServer> {
  const db = await createMaintenanceDatabase(name);
  const tokens = await testTokens(`maintenance-${name}`, { tokenCookie: MAINTENANCE_TOKEN_COOKIE });
  const app = createStaffApp({ pool: db.pool, authenticator: tokens.authenticator, ...extra });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    db,
    tokens,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await tokens.close();
      await db.drop();
    },
  };
}
