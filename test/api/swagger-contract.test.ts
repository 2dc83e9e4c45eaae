import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/harness.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** WP Engine's own document, kept in the repository (see its README for where it came from). */
const CONTRACT_FILE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../fixtures/wpengine/swagger-1.6.7.json',
);

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'];
const PUBLIC = new Set(['GET /status', 'GET /swagger']);

/**
 * Status codes we declare beyond the contract. The gateway would turn these backend answers into
 * 500s (NOTES §1, "Status-code passthrough"); we answer what happened instead. Any other extra is
 * a mistake, and so is a listed one that disappears (update this list with it).
 */
const KNOWN_EXTRA_CODES = [
  'PATCH /installs/{install_id} 404',
  'POST /installs/{install_id}/domains 404',
  'POST /installs/{install_id}/domains/bulk 404',
  'DELETE /ssh_keys/{ssh_key_id} 404',
];

/**
 * Operations we serve beyond 1.6.7: from later versions of WP Engine's API (1.10+), and our one
 * extension, the retry of a failed install (docs/api/wpengine.md). Any other extra path is a
 * mistake, and so is a listed one that disappears.
 */
const KNOWN_EXTRA_OPERATIONS = [
  'GET /installs/{install_id}/domains/check_status/{report_id}',
  'POST /installs/{install_id}/retry',
];

function isObject(value: Json | undefined): value is JsonObject {
  return (
    value !== null && value !== undefined && typeof value === 'object' && !Array.isArray(value)
  );
}

function object(value: Json | undefined, what: string): JsonObject {
  if (!isObject(value)) throw new Error(`${what} is not an object`);
  return value;
}

/** Follows local `$ref`s (`#/parameters/x`, `#/definitions/Y`). */
function deref(doc: JsonObject, value: Json | undefined, what: string): JsonObject {
  let node = object(value, what);
  for (let hops = 0; typeof node.$ref === 'string'; hops++) {
    if (hops > 20) throw new Error(`${what}: $ref loop`);
    let target: Json = doc;
    for (const part of node.$ref.replace(/^#\//, '').split('/')) {
      target = object(target, `${what} (${node.$ref})`)[part] ?? null;
    }
    node = object(target, `${what} (${node.$ref})`);
  }
  return node;
}

interface Operation {
  key: string;
  /** Path-level and operation-level parameters, dereferenced. */
  parameters: JsonObject[];
  op: JsonObject;
}

function operations(doc: JsonObject): Map<string, Operation> {
  const out = new Map<string, Operation>();
  for (const [p, rawItem] of Object.entries(object(doc.paths, 'paths'))) {
    const item = object(rawItem, p);
    const shared = Array.isArray(item.parameters) ? item.parameters : [];
    for (const method of METHODS) {
      if (item[method] === undefined) continue;
      const op = object(item[method], `${method} ${p}`);
      const own = Array.isArray(op.parameters) ? op.parameters : [];
      const key = `${method.toUpperCase()} ${p}`;
      const parameters = [...shared, ...own].map((x) => deref(doc, x, `${key} parameter`));
      out.set(key, { key, parameters, op });
    }
  }
  return out;
}

function text(value: Json | undefined): string {
  return typeof value === 'string' ? value : JSON.stringify(value ?? null);
}

/** name + in + required of each parameter, minus the contract's useless Authorization header. */
function parameterSignature(o: Operation): string[] {
  return o.parameters
    .filter((p) => !(p.in === 'header' && text(p.name).toLowerCase() === 'authorization'))
    .map((p) => `${text(p.in)}:${text(p.name)}:${p.required === true ? 'required' : 'optional'}`)
    .sort();
}

/** The `required` list of a schema and of every object nested in it, by property path. */
function requiredTree(
  doc: JsonObject,
  schema: Json | undefined,
  at: string,
  into: Map<string, string[]>,
): void {
  if (!isObject(schema)) return;
  const node = deref(doc, schema, at);
  if (Array.isArray(node.required) && node.required.length > 0) {
    into.set(at, node.required.map(String).sort());
  }
  if (isObject(node.properties)) {
    for (const [name, child] of Object.entries(node.properties)) {
      requiredTree(doc, child, at === '' ? name : `${at}.${name}`, into);
    }
  }
  if (isObject(node.items)) requiredTree(doc, node.items, `${at}[]`, into);
}

function bodyRequired(doc: JsonObject, o: Operation): Record<string, string[]> | null {
  const body = o.parameters.find((p) => p.in === 'body');
  if (body === undefined) return null;
  const tree = new Map<string, string[]>();
  requiredTree(doc, body.schema, '', tree);
  return Object.fromEntries(tree);
}

/** Every node of a document, with its JSON path. */
function* nodes(value: Json, at = '#'): Generator<[string, JsonObject]> {
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) yield* nodes(v, `${at}/${i}`);
  } else if (isObject(value)) {
    yield [at, value];
    for (const [k, v] of Object.entries(value)) yield* nodes(v, `${at}/${k}`);
  }
}

describe('GET /v1/swagger against WP Engine swagger 1.6.7', () => {
  // Unset when beforeAll failed before the server started: afterAll must not hide that failure.
  let h: Harness | undefined;
  const started = (): Harness => {
    if (h === undefined) throw new Error('the server did not start');
    return h;
  };
  let ours: JsonObject;
  let contract: JsonObject;
  let ourOps: Map<string, Operation>;
  let contractOps: Map<string, Operation>;

  beforeAll(async () => {
    contract = object(JSON.parse(fs.readFileSync(CONTRACT_FILE, 'utf8')) as Json, 'contract');
    h = await startHarness('sqlite');
    const res = await h.request<Json>('GET', '/v1/swagger');
    expect(res.status).toBe(200);
    ours = object(res.body, 'our document');
    ourOps = operations(ours);
    contractOps = operations(contract);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('is served without credentials as exactly application/json', async () => {
    const server = started();
    const res = await server.request('GET', '/v1/swagger');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const withBadAuth = await server.request('GET', '/v1/swagger', { auth: 'Basic Zm9vOmJhcg==' });
    expect(withBadAuth.status).toBe(200);
  });

  it('is a Swagger 2.0 document rooted at /v1', () => {
    expect(ours.swagger).toBe('2.0');
    expect(ours.openapi).toBeUndefined();
    expect(ours.basePath).toBe('/v1');
    expect(ours.basePath).toBe(contract.basePath);
    expect(object(ours.info, 'info').version).toBe('1.6.7');
    expect(
      object(object(ours.securityDefinitions, 'securityDefinitions').basicAuth, 'basicAuth').type,
    ).toBe('basic');
    for (const p of Object.keys(object(ours.paths, 'paths'))) {
      expect(p).toMatch(/^\/(?!v1\/)/);
      expect(p).not.toContain(':');
    }
  });

  it('has the same paths and methods, and only the known later ones besides', () => {
    const extras = [...ourOps.keys()].filter((k) => !contractOps.has(k));
    expect(extras.sort()).toEqual([...KNOWN_EXTRA_OPERATIONS].sort());
    expect([...ourOps.keys()].filter((k) => contractOps.has(k)).sort()).toEqual(
      [...contractOps.keys()].sort(),
    );
  });

  it('has the same operationIds', () => {
    for (const [key, c] of contractOps) {
      expect(ourOps.get(key)?.op.operationId, key).toBe(c.op.operationId);
    }
  });

  it('takes the same parameters (name, in, required)', () => {
    for (const [key, c] of contractOps) {
      const o = ourOps.get(key);
      expect(o, key).toBeDefined();
      if (o === undefined) continue;
      expect(parameterSignature(o), key).toEqual(parameterSignature(c));
    }
  });

  it('requires the same body fields, nested ones included', () => {
    for (const [key, c] of contractOps) {
      const o = ourOps.get(key);
      if (o === undefined) continue;
      expect(bodyRequired(ours, o), key).toEqual(bodyRequired(contract, c));
    }
    // The account user is wrapped in `user`, whose own fields are required.
    const createUser = ourOps.get('POST /accounts/{account_id}/account_users');
    expect(createUser && bodyRequired(ours, createUser)).toEqual({
      '': ['user'],
      user: ['account_id', 'email', 'first_name', 'last_name', 'roles'],
    });
  });

  it('declares every status code the contract declares, and only the known extras', () => {
    const extras: string[] = [];
    for (const [key, c] of contractOps) {
      const o = ourOps.get(key);
      if (o === undefined) continue;
      const ourCodes = Object.keys(object(o.op.responses, `${key} responses`));
      const theirCodes = Object.keys(object(c.op.responses, `${key} responses`));
      expect(ourCodes, key).toEqual(expect.arrayContaining(theirCodes));
      for (const code of ourCodes) if (!theirCodes.includes(code)) extras.push(`${key} ${code}`);
    }
    expect(extras.sort()).toEqual([...KNOWN_EXTRA_CODES].sort());
  });

  it('asks for basicAuth everywhere except /status and /swagger', () => {
    for (const [key, o] of ourOps) {
      const c = contractOps.get(key);
      if (PUBLIC.has(key)) {
        // No security at all; an empty list says the same.
        expect(o.op.security ?? [], key).toEqual([]);
        expect(c?.op.security ?? [], key).toEqual([]);
      } else {
        expect(o.op.security, key).toEqual([{ basicAuth: [] }]);
        if (!KNOWN_EXTRA_OPERATIONS.includes(key)) {
          expect(c?.op.security, key).toEqual([{ basicAuth: [] }]);
        }
      }
    }
  });

  it('writes nullable fields as x-nullable with a single type, as WP Engine does', () => {
    const get = ourOps.get('GET /installs/{install_id}');
    const responses = object(get?.op.responses ?? null, 'GET /installs/{install_id} responses');
    const schema = deref(ours, object(responses['200'], '200').schema, '200 schema');
    const php = object(object(schema.properties, 'properties').php_version, 'php_version');
    expect(php.type).toBe('string');
    expect(php['x-nullable']).toBe(true);

    const theirs = deref(contract, { $ref: '#/definitions/Installation' }, 'Installation');
    const theirPhp = object(object(theirs.properties, 'properties').php_version, 'php_version');
    expect({ type: theirPhp.type, nullable: theirPhp['x-nullable'] }).toEqual({
      type: php.type,
      nullable: php['x-nullable'],
    });
  });

  it('uses nothing Swagger 2.0 lacks (type lists, anyOf, oneOf, nullable, const)', () => {
    const bad: string[] = [];
    for (const [at, node] of nodes(ours)) {
      if (Array.isArray(node.type)) bad.push(`${at}: type ${JSON.stringify(node.type)}`);
      for (const keyword of ['anyOf', 'oneOf', 'nullable', 'const']) {
        // `properties` maps field names, which may be any word.
        if (keyword in node && !at.endsWith('/properties')) bad.push(`${at}: ${keyword}`);
      }
    }
    expect(bad).toEqual([]);
  });
});
