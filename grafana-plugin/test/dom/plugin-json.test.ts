/**
 * plugin.json against our own JSON schema of what Grafana needs to load a panel plugin (id, type, name, info
 * with author, logos, version and updated, dependencies.grafanaDependency). The source file is checked, and the
 * built dist/plugin.json too (the build fills in version and date).
 */
import Ajv from 'ajv';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const schema = {
  type: 'object',
  required: ['id', 'type', 'name', 'info', 'dependencies'],
  properties: {
    id: { type: 'string', pattern: '^[0-9a-z]+-([0-9a-z]+-)?(panel)$' },
    type: { const: 'panel' },
    name: { type: 'string', minLength: 1 },
    info: {
      type: 'object',
      required: ['author', 'logos', 'version', 'updated', 'description'],
      properties: {
        author: { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1 } } },
        logos: { type: 'object', required: ['small', 'large'], properties: { small: { type: 'string' }, large: { type: 'string' } } },
        version: { type: 'string' },
        updated: { type: 'string' },
        description: { type: 'string' },
      },
    },
    dependencies: {
      type: 'object',
      required: ['grafanaDependency'],
      properties: { grafanaDependency: { type: 'string', pattern: '^(>=|<=|>|<|~|\\^)?\\d+\\.\\d+\\.\\d+' } },
    },
  },
};

const root = path.join(__dirname, '../..');
const validate = new Ajv({ allErrors: true }).compile(schema);
const read = (file: string) => JSON.parse(readFileSync(path.join(root, file), 'utf8')) as Record<string, unknown>;

describe('plugin.json', () => {
  test.each(['src/plugin.json', 'dist/plugin.json'])('%s has every field Grafana needs', (file) => {
    const valid = validate(read(file));
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  test('the schema refuses a plugin.json without an id or a Grafana version, so the check above can fail', () => {
    const { id: _id, ...withoutId } = read('src/plugin.json');
    expect(validate(withoutId)).toBe(false);
    expect(validate({ ...read('src/plugin.json'), dependencies: {} })).toBe(false);
  });

  test('the built plugin.json names the id docker-compose allows unsigned, with a real version and date', () => {
    const built = read('dist/plugin.json') as { id: string; info: { version: string; updated: string; logos: { small: string } } };
    expect(built.id).toBe('flymining-rackmap-panel');
    expect(built.info.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(built.info.updated).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(readFileSync(path.join(root, 'dist', built.info.logos.small), 'utf8')).toContain('<svg');
    expect(readFileSync(path.join(root, '../docker-compose.yml'), 'utf8')).toContain(`GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS: ${built.id}`);
  });
});
