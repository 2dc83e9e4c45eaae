import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/engines.js';
import {
  basicAuth,
  startHarness,
  type ApiResponse,
  type Harness,
  type Tenant,
} from '../helpers/harness.js';
import { inspectStore, type StoreInspector } from '../helpers/snapshot.js';

/*
 * Every write endpoint, each with a body that is valid, and a table of ways to spoil the body, the
 * path ids or the envelope. Each spoiled request must get a 4xx in the contract's shape, never a
 * 5xx, and leave every table of the store exactly as it was.
 */

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type JsonObject = Record<string, Json>;

/** The fixtures' ids, made through the API before the table runs. */
interface Ids {
  account: string;
  site: string;
  spareSite: string;
  install: string;
  domain: string;
  user: string;
  sshKey: string;
}

type FieldKind =
  | 'accountRef'
  | 'siteRef'
  | 'domainRef'
  | 'domainNameRef'
  | 'text'
  | 'installName'
  | 'hostname'
  | 'email'
  | 'roles'
  | 'environment'
  | 'purgeType'
  | 'publicKey'
  | 'bool'
  | 'uuidList'
  | 'emailList'
  | 'domainList'
  | 'object';

interface Field {
  at: readonly (string | number)[];
  kind: FieldKind;
  required: boolean;
  /** For free text: the longest value the service accepts after trimming. */
  max?: number;
}

interface Endpoint {
  method: 'POST' | 'PATCH' | 'DELETE';
  /** `:name` segments are path ids, filled from `params`. */
  path: string;
  params: Record<string, keyof Ids>;
  body?: (ids: Ids) => JsonObject;
  fields: readonly Field[];
  /** The status of the valid request, checked once at the end. */
  ok: number;
}

/** An OpenSSH ed25519 public key line: the blob is well-formed, the key material random. */
function ed25519Key(comment = 'me@example.com'): string {
  const type = Buffer.from('ssh-ed25519');
  const len = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  const blob = Buffer.concat([len(type.length), type, len(32), randomBytes(32)]);
  return `ssh-ed25519 ${blob.toString('base64')} ${comment}`;
}

const GOOD_KEY = ed25519Key('good@example.com');

// In the order the valid requests run at the end: creates and changes first, deletes last.
const ENDPOINTS: readonly Endpoint[] = [
  {
    method: 'POST',
    path: '/v1/sites',
    params: {},
    body: (ids) => ({ name: 'Good site', account_id: ids.account }),
    fields: [
      { at: ['name'], kind: 'text', required: true, max: 40 },
      { at: ['account_id'], kind: 'accountRef', required: true },
    ],
    ok: 201,
  },
  {
    method: 'PATCH',
    path: '/v1/sites/:site_id',
    params: { site_id: 'site' },
    body: () => ({ name: 'Renamed site' }),
    fields: [{ at: ['name'], kind: 'text', required: false, max: 40 }],
    ok: 200,
  },
  {
    method: 'POST',
    path: '/v1/installs',
    params: {},
    body: (ids) => ({
      name: 'goodinstall',
      account_id: ids.account,
      site_id: ids.site,
      environment: 'staging',
    }),
    fields: [
      { at: ['name'], kind: 'installName', required: true },
      { at: ['account_id'], kind: 'accountRef', required: true },
      { at: ['site_id'], kind: 'siteRef', required: false },
      { at: ['environment'], kind: 'environment', required: false },
    ],
    ok: 201,
  },
  {
    method: 'PATCH',
    path: '/v1/installs/:install_id',
    params: { install_id: 'install' },
    body: (ids) => ({ site_id: ids.site, environment: 'development' }),
    fields: [
      { at: ['site_id'], kind: 'siteRef', required: false },
      { at: ['environment'], kind: 'environment', required: false },
    ],
    ok: 200,
  },
  {
    method: 'POST',
    path: '/v1/accounts/:account_id/account_users',
    params: { account_id: 'account' },
    body: (ids) => ({
      user: {
        account_id: ids.account,
        first_name: 'Good',
        last_name: 'User',
        email: 'good.user@example.com',
        roles: 'partial',
        install_ids: [ids.install],
      },
    }),
    fields: [
      { at: ['user'], kind: 'object', required: true },
      { at: ['user', 'account_id'], kind: 'accountRef', required: true },
      { at: ['user', 'first_name'], kind: 'text', required: true, max: 100 },
      { at: ['user', 'last_name'], kind: 'text', required: true, max: 100 },
      { at: ['user', 'email'], kind: 'email', required: true },
      { at: ['user', 'roles'], kind: 'roles', required: true },
      { at: ['user', 'install_ids'], kind: 'uuidList', required: false },
    ],
    ok: 201,
  },
  {
    method: 'PATCH',
    path: '/v1/accounts/:account_id/account_users/:user_id',
    params: { account_id: 'account', user_id: 'user' },
    body: (ids) => ({ roles: 'partial', install_ids: [ids.install] }),
    fields: [
      { at: ['roles'], kind: 'roles', required: true },
      { at: ['install_ids'], kind: 'uuidList', required: false },
    ],
    ok: 200,
  },
  {
    method: 'POST',
    path: '/v1/installs/:install_id/domains',
    params: { install_id: 'install' },
    body: (ids) => ({ name: 'www.good.example.com', primary: false, redirect_to: ids.domain }),
    fields: [
      { at: ['name'], kind: 'hostname', required: true },
      { at: ['primary'], kind: 'bool', required: false },
      { at: ['redirect_to'], kind: 'domainRef', required: false },
    ],
    ok: 201,
  },
  {
    method: 'POST',
    path: '/v1/installs/:install_id/domains/bulk',
    params: { install_id: 'install' },
    body: () => ({
      domains: [
        { name: 'bulk.example.com' },
        { name: 'www.bulk.example.com', redirect_to: 'bulk.example.com' },
      ],
    }),
    fields: [
      { at: ['domains'], kind: 'domainList', required: true },
      { at: ['domains', 0, 'name'], kind: 'hostname', required: true },
      { at: ['domains', 1, 'redirect_to'], kind: 'domainNameRef', required: false },
    ],
    ok: 201,
  },
  {
    method: 'PATCH',
    path: '/v1/installs/:install_id/domains/:domain_id',
    params: { install_id: 'install', domain_id: 'domain' },
    body: () => ({ primary: false, redirect_to: 'nil' }),
    fields: [
      { at: ['primary'], kind: 'bool', required: false },
      { at: ['redirect_to'], kind: 'domainRef', required: false },
    ],
    ok: 200,
  },
  {
    method: 'POST',
    path: '/v1/installs/:install_id/domains/:domain_id/check_status',
    params: { install_id: 'install', domain_id: 'domain' },
    fields: [],
    ok: 202,
  },
  {
    method: 'POST',
    path: '/v1/installs/:install_id/backups',
    params: { install_id: 'install' },
    body: () => ({ description: 'Before the upgrade', notification_emails: ['ops@example.com'] }),
    fields: [
      { at: ['description'], kind: 'text', required: true, max: 1000 },
      { at: ['notification_emails'], kind: 'emailList', required: true },
    ],
    ok: 202,
  },
  {
    method: 'POST',
    path: '/v1/installs/:install_id/purge_cache',
    params: { install_id: 'install' },
    body: () => ({ type: 'page' }),
    fields: [{ at: ['type'], kind: 'purgeType', required: true }],
    ok: 202,
  },
  {
    method: 'POST',
    path: '/v1/ssh_keys',
    params: {},
    body: () => ({ public_key: GOOD_KEY }),
    fields: [{ at: ['public_key'], kind: 'publicKey', required: true }],
    ok: 201,
  },
  {
    method: 'DELETE',
    path: '/v1/ssh_keys/:ssh_key_id',
    params: { ssh_key_id: 'sshKey' },
    fields: [],
    ok: 204,
  },
  {
    method: 'DELETE',
    path: '/v1/installs/:install_id/domains/:domain_id',
    params: { install_id: 'install', domain_id: 'domain' },
    fields: [],
    ok: 204,
  },
  {
    method: 'DELETE',
    path: '/v1/accounts/:account_id/account_users/:user_id',
    params: { account_id: 'account', user_id: 'user' },
    fields: [],
    ok: 204,
  },
  {
    method: 'DELETE',
    path: '/v1/installs/:install_id',
    params: { install_id: 'install' },
    fields: [],
    ok: 204,
  },
  {
    method: 'DELETE',
    path: '/v1/sites/:site_id',
    params: { site_id: 'spareSite' },
    fields: [],
    ok: 204,
  },
];

const SQL = "'; DROP TABLE installs; --";
const PATH = '../../etc/passwd';
const HUGE = 'x'.repeat(100_000);

/** Strings no structured field accepts. Free text accepts most of them (see the last block). */
const HOSTILE: Readonly<Record<string, string>> = {
  empty: '',
  blank: '   ',
  'a NUL': 'ab\u0000cd',
  'control characters': 'ab\u0007\u001b[31mcd',
  'a newline': 'ab\ncd',
  emoji: '😀🔥💥',
  'an RTL override': '\u202Etxt.exe',
  arabic: 'مرحبا بالعالم',
  'an SQL fragment': SQL,
  'a path fragment': PATH,
  '100k characters': HUGE,
};

/** What free text refuses: nothing, only blanks, control characters and length. */
const BAD_TEXT = ['empty', 'blank', 'a NUL', 'control characters', 'a newline', '100k characters'];

const EXTRA_BAD: Partial<Record<FieldKind, Record<string, Json>>> = {
  accountRef: {
    'an unknown uuid': '2f1d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b',
    'the nil uuid': '00000000-0000-0000-0000-000000000000',
  },
  siteRef: {
    'an unknown uuid': '2f1d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b',
    'a urn uuid': 'urn:uuid:2f1d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b',
  },
  domainRef: {
    'an unknown uuid': '2f1d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b',
    'NIL in capitals': 'NIL',
  },
  domainNameRef: {
    'an unknown domain': 'nowhere.example.org',
    'a NUL after a name': 'bulk.example.com\u0000',
  },
  installName: {
    capitals: 'GoodInstall',
    'too short': 'ab',
    'too long': 'a'.repeat(15),
    'a leading digit': '1abc',
    'a hyphen': 'good-install',
  },
  hostname: {
    'one label': 'localhost',
    'the platform domain': 'shop.localhost',
    'an IP address': '10.0.0.1',
    'a scheme': 'https://example.com',
    'a 64-character label': `${'a'.repeat(64)}.example.com`,
    'a wildcard': '*.example.com',
  },
  email: {
    'no domain dot': 'a@b',
    'no local part': '@example.com',
    'a space': 'a b@example.com',
    'two @': 'a@b@example.com',
  },
  roles: {
    admin: 'admin',
    'owner,billing': 'owner,billing',
    'two levels': 'full,partial',
    'billing alone': 'billing',
  },
  environment: { capitalised: 'Production', 'an abbreviation': 'prod' },
  purgeType: { capitalised: 'OBJECT', 'all (1.10+ only)': 'all' },
  publicKey: {
    'a bare type': 'ssh-ed25519',
    'bad base64': 'ssh-ed25519 !!!notbase64!!!',
    'a mismatched type': GOOD_KEY.replace('ssh-ed25519', 'ssh-rsa'),
    'a private key':
      '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE=\n-----END OPENSSH PRIVATE KEY-----',
    'a NUL in the comment': ed25519Key('evil\u0000comment'),
    'control characters in the comment': ed25519Key('evil\u001b[2Jcomment'),
    'a comment over the limit': ed25519Key('c'.repeat(17_000)),
  },
  uuidList: {
    'a bare string': 'not-a-list',
    'an object': {},
    'a list of numbers': [1, 2],
    'a list with null': [null],
    'a non-uuid': ['not-a-uuid'],
    'an unknown uuid': ['2f1d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b'],
    'an SQL fragment': [SQL],
    'a NUL': ['\u0000'],
    '1001 entries': Array.from({ length: 1001 }, () => '2f1d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b'),
  },
  emailList: {
    'a bare string': 'ops@example.com',
    'an object': {},
    empty: [],
    'a list of numbers': [1],
    'a list with null': [null],
    'a non-address': ['not-an-address'],
    'an SQL fragment': [SQL],
    'a NUL': ['ops\u0000@example.com'],
    '100k characters': [HUGE],
    '51 entries': Array.from({ length: 51 }, (_, i) => `ops${i}@example.com`),
  },
  domainList: {
    'a bare string': 'bulk.example.com',
    'an object': { name: 'bulk.example.com' },
    empty: [],
    'a list of strings': ['bulk.example.com'],
    'a list with null': [null],
    'an item without name': [{}],
    'an item with an unknown field': [{ name: 'bulk.example.com', bogus: true }],
    'a name twice': [{ name: 'twice.example.com' }, { name: 'twice.example.com' }],
    'a redirect to itself': [{ name: 'self.example.com', redirect_to: 'self.example.com' }],
    '21 entries': Array.from({ length: 21 }, (_, i) => ({ name: `d${i}.example.com` })),
  },
  object: { 'a string': 'user', 'a list': [], null: null },
};

const WRONG_TYPES: Readonly<Record<string, Json>> = {
  'a number': 42,
  'a fraction': 1.5,
  'a boolean': true,
  null: null,
  'an object': { value: 'x' },
  'a list': ['x'],
};

const WRONG_BOOL_TYPES: Readonly<Record<string, Json>> = {
  'the string "true"': 'true',
  'the number 1': 1,
  null: null,
  'an object': {},
  'a list': [true],
};

const LIST_KINDS: readonly FieldKind[] = ['uuidList', 'emailList', 'domainList', 'object'];

/** Spoiled values for a field: wrong types, then strings its kind refuses. */
function badValues(field: Field): Record<string, Json> {
  if (field.kind === 'bool') return { ...WRONG_BOOL_TYPES };
  if (LIST_KINDS.includes(field.kind)) return { ...(EXTRA_BAD[field.kind] ?? {}) };
  const out: Record<string, Json> = {};
  for (const [label, value] of Object.entries(WRONG_TYPES)) out[label] = value;
  for (const [label, value] of Object.entries(HOSTILE)) {
    if (field.kind === 'text' && !BAD_TEXT.includes(label)) continue;
    out[`${label} string`] = value;
  }
  if (field.kind === 'text' && field.max !== undefined) {
    out['one character over the limit'] = 'y'.repeat(field.max + 1);
  }
  return { ...out, ...(EXTRA_BAD[field.kind] ?? {}) };
}

const REMOVE = Symbol('remove');

function isObject(v: Json | undefined): v is { [key: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Sets (or removes) the value at a path of object keys and array indices. */
function setAt(
  root: JsonObject,
  at: readonly (string | number)[],
  value: Json | typeof REMOVE,
): void {
  let node: Json = root;
  for (const key of at.slice(0, -1)) {
    const next: Json | undefined =
      typeof key === 'number' && Array.isArray(node)
        ? node[key]
        : isObject(node)
          ? node[String(key)]
          : undefined;
    if (next === undefined) throw new Error(`no ${String(key)} in ${JSON.stringify(at)}`);
    node = next;
  }
  const last = at[at.length - 1];
  if (Array.isArray(node) && typeof last === 'number') {
    if (value === REMOVE) node.splice(last, 1);
    else node[last] = value;
  } else if (isObject(node) && typeof last === 'string') {
    if (value === REMOVE) Reflect.deleteProperty(node, last);
    else node[last] = value;
  } else {
    throw new Error(`cannot set ${JSON.stringify(at)}`);
  }
}

/** The names a ResourceError may give a field: its dotted path without indices, or its leaf. */
function fieldNames(at: readonly (string | number)[]): string[] {
  const keys = at.filter((k): k is string => typeof k === 'string');
  return [...new Set([keys.join('.'), keys[keys.length - 1] ?? ''])];
}

interface Req {
  path: string;
  body?: string;
  headers?: Record<string, string>;
}

interface Case {
  label: string;
  build(ids: Ids): Req;
  status: number;
  /** A 400 must name one of these fields in errors[].field. */
  fields?: string[];
}

function fillPath(e: Endpoint, ids: Ids, override: Record<string, string> = {}): string {
  return e.path.replace(/:(\w+)/g, (_, name: string) => {
    const spoiled = override[name];
    if (spoiled !== undefined) return spoiled;
    const key = e.params[name];
    if (key === undefined) throw new Error(`no id for ${name}`);
    return ids[key];
  });
}

const UNKNOWN_UUID = '6a3c9e0f-1b2d-4e5f-8a7b-9c0d1e2f3a4b';
const BAD_PATH_IDS: Readonly<Record<string, (ids: Ids, param: string) => string>> = {
  'not a uuid': () => 'not-a-uuid',
  'a number': () => '12345',
  'a truncated uuid': () => UNKNOWN_UUID.slice(0, -1),
  'a uuid with an extra digit': () => `${UNKNOWN_UUID}0`,
  'a uuid without dashes': () => UNKNOWN_UUID.replace(/-/g, ''),
  'a braced uuid': () => encodeURIComponent(`{${UNKNOWN_UUID}}`),
  'a urn uuid': () => encodeURIComponent(`urn:uuid:${UNKNOWN_UUID}`),
  'the nil uuid': () => '00000000-0000-0000-0000-000000000000',
  'an unknown uuid': () => UNKNOWN_UUID,
  'an unknown uuid in capitals': () => UNKNOWN_UUID.toUpperCase(),
  'the id of another kind of thing': (ids, param) => (param === 'site_id' ? ids.install : ids.site),
  'an SQL fragment': () => encodeURIComponent(SQL),
  'a path fragment': () => encodeURIComponent(PATH),
  'an encoded NUL': () => '%00',
  emoji: () => encodeURIComponent('😀'),
  'an RTL override': () => encodeURIComponent('\u202Eabc'),
  'broken percent-encoding': () => '%E0%A4%A',
  '5000 characters': () => 'a'.repeat(5000),
  // Past Node's 16 KB request-line limit: refused before routing, as 431 in the contract's shape.
  '20k characters': () => 'a'.repeat(20_000),
};

function pathStatus(label: string): number {
  return label === '20k characters' ? 431 : 404;
}

function buildCases(): (Case & { endpoint: string })[] {
  const cases: (Case & { endpoint: string })[] = [];
  for (const e of ENDPOINTS) {
    const name = `${e.method} ${e.path}`;
    const add = (c: Case) => cases.push({ ...c, endpoint: name, label: `${name}: ${c.label}` });
    const body = (ids: Ids): string => JSON.stringify(e.body?.(ids) ?? {});
    const withBody =
      (raw: (ids: Ids) => string, headers?: Record<string, string>) =>
      (ids: Ids): Req => ({
        path: fillPath(e, ids),
        body: raw(ids),
        ...(headers === undefined ? {} : { headers }),
      });

    // The envelope: what every endpoint that reads a body must refuse.
    add({ label: 'malformed JSON', build: withBody(() => '{"name": "x",'), status: 400 });
    add({ label: 'JSON with a trailing comma', build: withBody(() => '{"a": 1,}'), status: 400 });
    add({
      label: 'JSON with trailing garbage',
      build: withBody((ids) => `${body(ids)} garbage`),
      status: 400,
    });
    add({ label: 'single-quoted JSON', build: withBody(() => "{'name': 'x'}"), status: 400 });
    add({
      label: 'a body over 1 MB',
      build: withBody((ids) =>
        JSON.stringify({ ...(e.body?.(ids) ?? {}), padding: 'x'.repeat(1024 * 1024 + 1) }),
      ),
      status: 413,
    });

    if (e.body === undefined) {
      for (const [label, spoil] of Object.entries(BAD_PATH_IDS)) {
        for (const param of Object.keys(e.params)) {
          add({
            label: `${param} is ${label}`,
            build: (ids) => ({ path: fillPath(e, ids, { [param]: spoil(ids, param) }) }),
            status: pathStatus(label),
          });
        }
      }
      continue;
    }

    // (An empty body typed as JSON is no body: fine where none is needed, refused where one is.)
    add({ label: 'an empty JSON body', build: withBody(() => ''), status: 400 });
    add({ label: 'JSON null', build: withBody(() => 'null'), status: 400, fields: ['body'] });
    add({
      label: 'a JSON list',
      build: withBody((ids) => `[${body(ids)}]`),
      status: 400,
      fields: ['body'],
    });
    add({ label: 'a JSON string', build: withBody(() => '"name"'), status: 400, fields: ['body'] });
    add({ label: 'a JSON number', build: withBody(() => '42'), status: 400, fields: ['body'] });
    add({
      label: 'valid JSON sent as text/plain',
      build: withBody(body, { 'content-type': 'text/plain' }),
      status: 415,
    });
    add({
      label: 'a form-encoded body',
      build: withBody(() => 'name=x&account_id=y', {
        'content-type': 'application/x-www-form-urlencoded',
      }),
      status: 415,
    });
    add({
      label: 'an XML body',
      build: withBody(() => '<site><name>x</name></site>', { 'content-type': 'application/xml' }),
      status: 415,
    });
    add({
      label: 'an unknown field',
      build: withBody((ids) => JSON.stringify({ ...e.body?.(ids), bogus: 'x' })),
      status: 400,
      fields: ['bogus'],
    });
    add({
      label: 'a __proto__ key',
      build: withBody((ids) => `{"__proto__": {"isAdmin": true}, ${body(ids).slice(1)}`),
      status: 400,
    });
    add({
      label: 'a constructor.prototype key',
      build: withBody(
        (ids) => `{"constructor": {"prototype": {"isAdmin": true}}, ${body(ids).slice(1)}`,
      ),
      status: 400,
    });
    add({
      label: 'a field nested 50,000 deep',
      build: withBody(
        (ids) => `{"bogus": ${'['.repeat(50_000)}${']'.repeat(50_000)}, ${body(ids).slice(1)}`,
      ),
      status: 400,
    });
    const required = e.fields.filter((f) => f.required && f.at.length === 1);
    if (required.length > 0) {
      add({ label: 'an empty object', build: withBody(() => '{}'), status: 400 });
    }

    for (const field of e.fields) {
      const names = fieldNames(field.at);
      const at = field.at.map(String).join('.');
      const spoilAt =
        (where: readonly (string | number)[], value: Json | typeof REMOVE) =>
        (ids: Ids): string => {
          const b = structuredClone(e.body?.(ids) ?? {});
          setAt(b, where, value);
          return JSON.stringify(b);
        };
      const spoilt = (value: Json | typeof REMOVE) => spoilAt(field.at, value);
      if (field.required) {
        add({
          label: `${at} missing`,
          build: withBody(spoilt(REMOVE)),
          status: 400,
          fields: names,
        });
      }
      if (field.kind === 'object') {
        const unknownAt = [...field.at, 'bogus'];
        add({
          label: `an unknown field in ${at}`,
          build: withBody(spoilAt(unknownAt, 'x')),
          status: 400,
          fields: fieldNames(unknownAt),
        });
      }
      for (const [label, value] of Object.entries(badValues(field))) {
        add({
          label: `${at} is ${label}`,
          build: withBody(spoilt(value)),
          status: 400,
          fields: names,
        });
      }
    }

    for (const [label, spoil] of Object.entries(BAD_PATH_IDS)) {
      for (const param of Object.keys(e.params)) {
        add({
          label: `${param} is ${label}`,
          build: (ids) => ({
            path: fillPath(e, ids, { [param]: spoil(ids, param) }),
            body: body(ids),
          }),
          status: pathStatus(label),
        });
      }
    }
  }
  return cases;
}

const CASES = buildCases().map((c) => ({ ...c, method: methodOf(c.endpoint) }));

function methodOf(endpoint: string): string {
  return endpoint.split(' ')[0] ?? 'GET';
}

const ISSUE_TYPES = ['invalid_value', 'access_error', 'value_unavailable'];

/** The contract's error body for the status, and (for a 400) the field it names. */
function expectContractError(res: ApiResponse, status: number, fields?: string[]): void {
  const context = `${res.status} ${res.text.slice(0, 500)}`;
  expect(res.status, context).toBe(status);
  expect(res.headers.get('content-type'), context).toBe('application/json');
  expect(typeof res.body, context).toBe('object');
  const body = res.body as Record<string, unknown>;
  expect(typeof body.message, context).toBe('string');
  expect((body.message as string).length, context).toBeGreaterThan(0);
  if (body.documentation_url !== undefined) expect(typeof body.documentation_url).toBe('string');
  if (status !== 400) {
    for (const key of Object.keys(body))
      expect(['message', 'documentation_url'], context).toContain(key);
    return;
  }
  for (const key of Object.keys(body)) {
    expect(['message', 'documentation_url', 'errors'], context).toContain(key);
  }
  const errors = (body.errors ?? []) as unknown[];
  expect(Array.isArray(errors), context).toBe(true);
  for (const e of errors) {
    expect(e, context).toEqual({
      resource: expect.any(String) as unknown,
      field: expect.any(String) as unknown,
      type: expect.any(String) as unknown,
      code: expect.any(String) as unknown,
      message: expect.any(String) as unknown,
    });
    expect(ISSUE_TYPES, context).toContain((e as { type: string }).type);
  }
  if (fields !== undefined) {
    const named = (errors as { field: string }[]).map((e) => e.field);
    expect(
      named.some((f) => fields.some((want) => f === want || f.startsWith(`${want}.`))),
      `${context}: expected a field in ${fields.join('|')}`,
    ).toBe(true);
  }
}

describe.each(ENGINES)('bad input on %s', (engine) => {
  let h: Harness;
  let t: Tenant;
  let ids: Ids;
  let store: StoreInspector;

  async function ok<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await h.request<T>(method, path, { auth: t.auth, body });
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
    return res.body;
  }

  /** Sends the request and checks that it changed nothing. */
  async function unchanged(send: () => Promise<ApiResponse>): Promise<ApiResponse> {
    const before = await store.snapshot();
    const res = await send();
    expect(res.status, res.text.slice(0, 300)).toBeLessThan(500);
    expect(await store.snapshot()).toEqual(before);
    return res;
  }

  beforeAll(async () => {
    h = await startHarness(engine);
    t = await h.tenant('Bad Input');
    store = inspectStore(h.store);
    const site = await ok<{ id: string }>('POST', '/v1/sites', {
      name: 'Fixture',
      account_id: t.accountId,
    });
    const spare = await ok<{ id: string }>('POST', '/v1/sites', {
      name: 'Spare',
      account_id: t.accountId,
    });
    const install = await ok<{ id: string }>('POST', '/v1/installs', {
      name: 'fixture1',
      account_id: t.accountId,
      site_id: site.id,
      environment: 'production',
    });
    const domain = await ok<{ id: string }>('POST', `/v1/installs/${install.id}/domains`, {
      name: 'fixture.example.com',
    });
    // Enough domains that a page of 100 is not all of them.
    for (let batch = 0; batch < 5; batch++) {
      await ok('POST', `/v1/installs/${install.id}/domains/bulk`, {
        domains: Array.from({ length: 20 }, (_, i) => ({ name: `d${batch}-${i}.example.net` })),
      });
    }
    const user = await ok<{ account_user: { user_id: string } }>(
      'POST',
      `/v1/accounts/${t.accountId}/account_users`,
      {
        user: {
          account_id: t.accountId,
          first_name: 'Extra',
          last_name: 'User',
          email: 'extra.user@example.com',
          roles: 'full',
        },
      },
    );
    const key = await ok<{ uuid: string }>('POST', '/v1/ssh_keys', { public_key: ed25519Key() });
    ids = {
      account: t.accountId,
      site: site.id,
      spareSite: spare.id,
      install: install.id,
      domain: domain.id,
      user: user.account_user.user_id,
      sshKey: key.uuid,
    };
  });

  afterAll(async () => {
    await store.close();
    await h.close();
  });

  for (const c of CASES) {
    it(c.label, async () => {
      const req = c.build(ids);
      const res = await unchanged(() =>
        h.request(c.method, req.path, {
          auth: t.auth,
          ...(req.body === undefined ? {} : { rawBody: req.body }),
          ...(req.headers === undefined ? {} : { headers: req.headers }),
        }),
      );
      expectContractError(res, c.status, c.fields);
    });
  }

  describe('list parameters', () => {
    const LISTS = [
      '/v1/accounts',
      '/v1/sites',
      '/v1/installs',
      '/v1/installs/:install_id/domains',
      '/v1/ssh_keys',
    ];
    const BAD_NUMBERS: Readonly<Record<string, string>> = {
      negative: '-1',
      fractional: '1.5',
      'non-numeric': 'abc',
      empty: '',
      'an SQL fragment': encodeURIComponent('1; DROP TABLE installs; --'),
      'over 2^31': '2147483648',
      'twenty digits': '99999999999999999999',
      'an exponent overflow': '1e400',
      Infinity: 'Infinity',
      NaN: 'NaN',
      'given twice': '1&PARAM=2',
    };
    const listCases = LISTS.flatMap((list) =>
      ['limit', 'offset'].flatMap((param) =>
        Object.entries(BAD_NUMBERS).map(([label, value]) => ({
          label: `${list}?${param} ${label}`,
          list,
          param,
          value: value.replace('PARAM', param),
        })),
      ),
    );

    it.each(listCases)('$label → 400', async ({ list, param, value }) => {
      const path = `${list.replace(':install_id', ids.install)}?${param}=${value}`;
      const res = await unchanged(() => h.request('GET', path, { auth: t.auth }));
      expectContractError(res, 400, [param]);
    });

    it.each(['/v1/sites', '/v1/installs'])(
      '%s?account_id that is not a uuid → 400',
      async (list) => {
        const res = await h.request('GET', `${list}?account_id=${encodeURIComponent(SQL)}`, {
          auth: t.auth,
        });
        expectContractError(res, 400, ['account_id']);
      },
    );

    it.each(LISTS)('%s?limit=1000 is clamped to 100', async (list) => {
      const path = `${list.replace(':install_id', ids.install)}?limit=1000`;
      const res = await h.request<{ count: number; next: string | null; results: unknown[] }>(
        'GET',
        path,
        {
          auth: t.auth,
        },
      );
      expect(res.status).toBe(200);
      expect(res.body.results.length).toBeLessThanOrEqual(100);
      expect(res.body.results.length).toBe(Math.min(100, res.body.count));
    });

    it('a page of a list longer than 100 stops at 100 and links the next', async () => {
      const res = await h.request<{ count: number; next: string | null; results: unknown[] }>(
        'GET',
        `/v1/installs/${ids.install}/domains?limit=1000`,
        { auth: t.auth },
      );
      expect(res.status).toBe(200);
      expect(res.body.count).toBeGreaterThan(100);
      expect(res.body.results).toHaveLength(100);
      const next = new URL(res.body.next ?? '');
      expect(next.searchParams.get('limit')).toBe('100');
      expect(next.searchParams.get('offset')).toBe('100');
    });

    it('an offset past the end (but within 2^31) gives an empty page', async () => {
      const res = await h.request<{ count: number; results: unknown[] }>(
        'GET',
        `/v1/installs/${ids.install}/domains?offset=2147483647`,
        { auth: t.auth },
      );
      expect(res.status).toBe(200);
      expect(res.body.results).toEqual([]);
    });
  });

  it('a chunked body over 1 MB (no content-length) → 413', async () => {
    const url = new URL('/v1/sites', h.baseUrl);
    const before = await store.snapshot();
    const res = await new Promise<{ status: number; type: string | undefined; text: string }>(
      (resolve, reject) => {
        const req = http.request(url, {
          method: 'POST',
          headers: { authorization: t.auth, 'content-type': 'application/json' },
        });
        let answered = false;
        req.on('response', (r) => {
          answered = true;
          let text = '';
          r.setEncoding('utf8');
          r.on('data', (chunk: string) => (text += chunk));
          r.on('end', () => {
            resolve({ status: r.statusCode ?? 0, type: r.headers['content-type'], text });
          });
        });
        // The server may answer and close before the upload ends: only a missing answer fails.
        req.on('error', (err) => {
          if (!answered) reject(err);
        });
        req.write(`{"account_id": "${t.accountId}", "name": "`);
        const chunk = 'x'.repeat(64 * 1024);
        for (let i = 0; i < 24; i++) req.write(chunk);
        req.end('"}');
      },
    );
    expect(res.status).toBe(413);
    expect(res.type).toBe('application/json');
    expect(JSON.parse(res.text)).toEqual({ message: expect.any(String) as unknown });
    expect(await store.snapshot()).toEqual(before);
  });

  describe('malformed credentials', () => {
    const AUTHS: Readonly<Record<string, () => string>> = {
      'a bare scheme': () => 'Basic',
      'bad base64': () => 'Basic !!!',
      'a bearer token': () => 'Bearer abc',
      'no colon': () => `Basic ${Buffer.from(t.username).toString('base64')}`,
      'a NUL in the user': () => basicAuth('a\u0000b', 'x'),
      'a NUL after the user': () => basicAuth(`${t.username}\u0000`, t.password),
      'an SQL fragment as user': () => basicAuth(SQL, 'x'),
      'a wrong password': () => basicAuth(t.username, 'wrong'),
      'a 10k user': () => basicAuth('u'.repeat(10_000), 'x'),
      emoji: () => basicAuth('😀', '😀'),
    };
    it.each(Object.keys(AUTHS))('%s → 401 and nothing changed', async (label) => {
      const auth = AUTHS[label]?.() ?? '';
      const res = await unchanged(() =>
        h.request('POST', '/v1/sites', { auth, body: { name: 'Never', account_id: t.accountId } }),
      );
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(res.body).toEqual({ message: 'Bad Credentials' });
    });
  });

  describe('free text keeps any character but controls, verbatim', () => {
    const TEXTS: Readonly<Record<string, string>> = {
      emoji: 'Shop 😀🔥',
      'an RTL override': '\u202Etxt.exe',
      arabic: 'مرحبا بالعالم',
      CJK: '日本語のサイト',
      'combining marks': 'Cafe\u0301 Z\u0351\u0354a',
      'an SQL fragment': SQL,
      'a path fragment': PATH,
      'quotes and backslashes': `"'\\%_`,
    };

    it.each(Object.entries(TEXTS))('a site named with %s', async (_label, name) => {
      const created = await h.request<{ id: string; name: string }>('POST', '/v1/sites', {
        auth: t.auth,
        body: { name, account_id: t.accountId },
      });
      expect(created.status).toBe(201);
      expect(created.body.name).toBe(name);
      const read = await h.request<{ name: string }>('GET', `/v1/sites/${created.body.id}`, {
        auth: t.auth,
      });
      expect(read.body.name).toBe(name);
      const deleted = await h.request('DELETE', `/v1/sites/${created.body.id}`, { auth: t.auth });
      expect(deleted.status).toBe(204);
    });

    it.each(Object.entries(TEXTS))('a backup described with %s', async (_label, description) => {
      const res = await h.request<{ id: string; description: string }>(
        'POST',
        `/v1/installs/${ids.install}/backups`,
        {
          auth: t.auth,
          body: { description, notification_emails: ['ops@example.com'] },
        },
      );
      expect(res.status).toBe(202);
      expect(res.body.description).toBe(description);
    });

    it.each(Object.entries(TEXTS))('an ssh key commented with %s', async (_label, comment) => {
      const res = await h.request<{ uuid: string; comment: string }>('POST', '/v1/ssh_keys', {
        auth: t.auth,
        body: { public_key: ed25519Key(comment) },
      });
      expect(res.status).toBe(201);
      expect(res.body.comment).toBe(comment.trim().split(/\s+/).join(' '));
      expect(
        (await h.request('DELETE', `/v1/ssh_keys/${res.body.uuid}`, { auth: t.auth })).status,
      ).toBe(204);
    });

    it('every table is still there', async () => {
      const snap = await store.snapshot();
      expect(Object.keys(snap)).toContain('installs');
      expect(snap.installs?.length).toBeGreaterThan(0);
    });
  });

  // Last: proves each valid body is accepted, so the refusals above are down to the spoiling.
  it('accepts every valid request the table spoils', async () => {
    for (const e of ENDPOINTS) {
      const res = await h.request(e.method, fillPath(e, ids), {
        auth: t.auth,
        ...(e.body === undefined ? {} : { body: e.body(ids) }),
      });
      expect(res.status, `${e.method} ${e.path}: ${res.text}`).toBe(e.ok);
    }
  });
});
