/** `flymining portal add-user`: staff create portal accounts for investors and for themselves. */
import { randomBytes } from 'node:crypto';
import { Command } from 'commander';
import { formatIssues } from '@flymining/shared';
import { z } from 'zod';
import { getInvestor } from '../api';
import { migratePortal, openPool } from '../db';
import { MIN_PASSWORD_LENGTH } from './passwords';
import { beginTotpEnrolment, createPortalUser, setUserDisabled } from './users';

const addUserSchema = z
  .object({
    email: z.email('EMAIL: not an email address'),
    role: z.enum(['investor', 'staff'], { error: '--role is investor or staff' }),
    investor: z.string().optional(),
    password: z.string().min(MIN_PASSWORD_LENGTH, `the password needs at least ${MIN_PASSWORD_LENGTH} characters`).max(1024),
    pg: z.string().regex(/^postgres(ql)?:\/\//, '--pg: a postgres:// URL'),
    totp: z.boolean(),
  })
  .refine((o) => (o.role === 'investor') === (o.investor !== undefined), {
    message: 'an investor account needs --investor ID; a staff account takes none',
  });

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

const pgOption = (): string => process.env.FLYMINING_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/flymining';

export function registerPortalCommands(program: Command): void {
  const portal = program.command('portal').description('investor portal accounts');
  for (const [name, disabled] of [['disable-user', true], ['enable-user', false]] as const) {
    portal
      .command(`${name} <email>`)
      .description(disabled ? 'refuse sign-in to an account and end its open sessions' : 'allow sign-in to a disabled account again')
      .option('--pg <url>', 'billing database', pgOption())
      .action(async (email: string, opts: { pg: string }) => {
        const pool = openPool(opts.pg);
        try {
          await migratePortal(pool);
          if (await setUserDisabled(pool, email, disabled)) {
            process.stdout.write(`${disabled ? 'disabled' : 'enabled'} ${email.trim().toLowerCase()}\n`);
          } else {
            process.stderr.write(`flymining portal ${name}: no portal account ${email}\n`);
            process.exitCode = 1;
          }
        } finally {
          await pool.end();
        }
      });
  }
  portal
    .command('add-user <email>')
    .description('create a portal account; prints a generated password unless --password-stdin')
    .option('--role <role>', 'investor or staff', 'investor')
    .option('--investor <id>', 'the investor this account may see (investor accounts)')
    .option('--password-stdin', 'read the password from standard input')
    .option('--totp', 'require a TOTP code at sign-in; prints the secret to add to an authenticator app')
    .option('--pg <url>', 'billing database', pgOption())
    .action(async (email: string, opts: { role: string; investor?: string; passwordStdin?: boolean; totp?: boolean; pg: string }) => {
      const generated = opts.passwordStdin ? undefined : randomBytes(12).toString('base64url');
      const parsed = addUserSchema.safeParse({
        email,
        role: opts.role,
        investor: opts.investor,
        password: generated ?? (await readStdin()),
        pg: opts.pg,
        totp: Boolean(opts.totp),
      });
      if (!parsed.success) {
        process.stderr.write(`flymining portal add-user: ${formatIssues(parsed.error, { messagesOnly: true }).join('; ')}\n`);
        process.exitCode = 2;
        return;
      }
      const o = parsed.data;
      const pool = openPool(o.pg);
      try {
        await migratePortal(pool);
        if (o.investor && !(await getInvestor(pool, o.investor))) throw new Error(`no investor with id ${o.investor}`);
        const user = await createPortalUser(pool, { email: o.email, password: o.password, role: o.role, investorId: o.investor });
        const lines = [`created ${user.role} account ${user.email}${user.investorId ? ` for investor ${user.investorId}` : ''}`];
        if (generated) lines.push(`password: ${generated}`);
        if (o.totp) {
          // Turned on at once: the staff member hands the secret over with the password.
          const { secret, uri } = await beginTotpEnrolment(pool, user, { confirmed: true });
          lines.push(`TOTP secret: ${secret}`, `TOTP URI: ${uri}`);
        }
        process.stdout.write(`${lines.join('\n')}\n`);
      } catch (err) {
        process.stderr.write(`flymining portal add-user: ${(err as Error).message}\n`);
        process.exitCode = 1;
      } finally {
        await pool.end();
      }
    });
}

/** Also runnable alone (`tsx billing/src/portal/cli.ts portal add-user ...`), e.g. in the container image, which ships no bin/. */
if (require.main === module) {
  const program = new Command('flymining');
  registerPortalCommands(program);
  program.parseAsync(process.argv).catch((err: Error) => {
    process.stderr.write(`${err.message}\n`);
    process.exitCode = 1;
  });
}
