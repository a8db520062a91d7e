/** `flymining portal add-user`: the accounts it creates can sign in to a running portal, and bad input is refused. */
import { generate } from 'otplib';
import { runCli, type CliResult } from '../../../shared/test/cli';
import { createInvestor } from '../../src/api';
import { HttpClient, startTestPortal, type PortalUnderTest } from './harness';

let portal: PortalUnderTest;

beforeAll(async () => {
  portal = await startTestPortal('cli');
  await createInvestor(portal.db.pool, { id: 'erin', name: 'Erin' });
});

afterAll(async () => {
  await portal?.close();
});

async function run(args: string[], command = 'add-user'): Promise<CliResult> {
  return runCli(['portal', command, ...args, '--pg', portal.db.url]);
}

test('an investor account with a generated password signs in and sees that investor', async () => {
  const result = await run(['Erin@Example.com', '--investor', 'erin']);
  expect(result.code).toBe(0);
  expect(result.stdout).toContain('created investor account erin@example.com for investor erin');
  const password = /password: (\S+)/.exec(result.stdout)?.[1];
  expect(password).toBeTruthy();
  const client = new HttpClient(portal.url);
  expect((await client.signIn('erin@example.com', password)).location).toBe('/');
  expect((await client.get('/')).text).toContain('Erin: contracts');
});

test('a staff account with --totp needs the printed secret’s code', async () => {
  const result = await run(['ops@example.com', '--role', 'staff', '--totp']);
  expect(result.code).toBe(0);
  const password = /password: (\S+)/.exec(result.stdout)?.[1]!;
  const secret = /TOTP secret: ([A-Z2-7]+)/.exec(result.stdout)?.[1]!;
  expect(result.stdout).toContain('otpauth://totp/');
  const client = new HttpClient(portal.url);
  expect((await client.signIn('ops@example.com', password)).location).toBe('/login/totp');
  expect((await client.submit('/login/totp', '/login/totp', { code: await generate({ secret }) })).location).toBe('/admin');
});

test('refusals: investor without --investor, unknown investor, duplicate email', async () => {
  const noInvestor = await run(['x@example.com']);
  expect(noInvestor.code).toBe(2);
  expect(noInvestor.stderr).toContain('an investor account needs --investor ID');
  const unknown = await run(['y@example.com', '--investor', 'nobody']);
  expect(unknown.code).toBe(1);
  expect(unknown.stderr).toContain('no investor with id nobody');
  const duplicate = await run(['erin@example.com', '--investor', 'erin']);
  expect(duplicate.code).toBe(1);
  expect(duplicate.stderr).toContain('already exists');
});

test('a disabled account is signed out at its next request and cannot sign in until enabled again', async () => {
  const created = await run(['frank@example.com', '--investor', 'erin']);
  const password = /password: (\S+)/.exec(created.stdout)?.[1]!;
  const client = new HttpClient(portal.url);
  await client.signIn('frank@example.com', password);
  expect((await client.get('/')).status).toBe(200);
  expect((await run(['frank@example.com'], 'disable-user')).stdout).toContain('disabled frank@example.com');
  expect((await client.get('/')).location).toBe('/login');
  const refused = await client.signIn('frank@example.com', password);
  expect(refused.status).toBe(401);
  expect(refused.text).toContain('Email or password is incorrect.');
  expect((await run(['frank@example.com'], 'enable-user')).code).toBe(0);
  expect((await client.signIn('frank@example.com', password)).location).toBe('/');
  expect((await run(['nobody@example.com'], 'disable-user')).stderr).toContain('no portal account nobody@example.com');
});
