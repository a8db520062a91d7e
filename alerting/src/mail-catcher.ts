/**
 * A tiny local SMTP server for the demo (`npm run mail-catcher -- --dir .flymining/mail`): accepts every mail on
 * 127.0.0.1, stores it as an .eml file and prints where, so staff can read the notices without a mail server.
 */
import { mkdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Command } from 'commander';
import { SMTPServer } from 'smtp-server';

const program = new Command('mail-catcher')
  .option('--dir <dir>', 'folder for the .eml files', '.flymining/mail')
  .option('--port <port>', 'SMTP port on 127.0.0.1', '2525')
  .parse();
const { dir, port } = program.opts<{ dir: string; port: string }>();
mkdirSync(dir, { recursive: true });
let count = 0;

const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  logger: false,
  size: 10 * 1024 * 1024,
  onData(stream, session, callback) {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      count += 1;
      const file = path.join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${count}.eml`);
      const raw = Buffer.concat(chunks);
      const subject = /^Subject: (.*)$/im.exec(raw.toString('utf8', 0, 8192))?.[1] ?? '(no subject)';
      writeFile(file, raw)
        .then(() => {
          process.stdout.write(`mail to ${session.envelope.rcptTo.map((r) => r.address).join(', ')}: ${subject}\n  stored in ${file}\n`);
          callback();
        })
        .catch((e: Error) => callback(e));
    });
  },
});
server.listen(Number(port), '127.0.0.1', () => process.stdout.write(`mail catcher on smtp://127.0.0.1:${port}, storing mails in ${path.resolve(dir)}\n`));
const stop = (): void => server.close(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
