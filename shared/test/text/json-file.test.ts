import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { readJsonFile } from '../../src/text/json';

const dir = mkdtempSync(path.join(os.tmpdir(), 'flymining-json-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const schema = z.array(z.object({ id: z.string(), port: z.number().int() }));

function file(name: string, text: string): string {
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
}

describe('readJsonFile: a JSON file named on a command line', () => {
  it('returns the checked value', async () => {
    await expect(readJsonFile(file('ok.json', '[{"id":"C01-R01-S1-01","port":4028}]'), '--specs', schema)).resolves.toEqual([{ id: 'C01-R01-S1-01', port: 4028 }]);
  });

  it('names the option, the file and the field that is wrong', async () => {
    const f = file('bad.json', '[{"id":"a","port":4028},{"id":"b","port":"4029"}]');
    await expect(readJsonFile(f, '--specs', schema)).rejects.toThrow(`--specs ${f}: 1.port: `);
  });

  it('names the option and the file when the file is missing or not JSON', async () => {
    const missing = path.join(dir, 'missing.json');
    await expect(readJsonFile(missing, '--credentials', schema)).rejects.toThrow(new RegExp(`^--credentials ${missing}: ENOENT`));
    const broken = file('broken.json', '[{"id":');
    await expect(readJsonFile(broken, '--delivered', schema)).rejects.toThrow(`--delivered ${broken}: `);
  });
});
