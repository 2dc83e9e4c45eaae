/**
 * The control plane's client of the agent mu-plugin. Each call is signed with the install's own
 * secret (see signing.ts) and sent through a transport: the PHP runtime for a hosted install, HTTPS
 * for a connected site (transport.ts has both).
 */
import { AGENT_NAMESPACE, agentSignatureHeaders } from './signing.js';

export interface AgentTransportRequest {
  method: 'GET' | 'POST';
  /** Path and query on the install's address: `/?rest_route=/wpfleet/v1/info`. */
  path: string;
  headers: Record<string, string>;
  /** `''` for none. */
  body: string;
}

export interface AgentTransportResponse {
  status: number;
  headers: Readonly<Record<string, string | readonly string[]>>;
  body: string;
}

export type AgentTransport = (request: AgentTransportRequest) => Promise<AgentTransportResponse>;

/**
 * The agent's own codes (`not_configured`, `unsigned`, `bad_signature`, `late`, `replayed`,
 * `invalid`, `not_found`, `conflict`, `failed`), WordPress's (`rest_no_route`: no agent installed), and the
 * client's: `unreachable` (the transport failed; status 0), `http_error` (a status without an
 * agent answer, such as a proxy's 502) and `bad_response` (a success that is not the expected JSON).
 */
export type AgentErrorCode =
  | 'not_configured'
  | 'unsigned'
  | 'bad_signature'
  | 'late'
  | 'replayed'
  | 'invalid'
  | 'not_found'
  | 'conflict'
  | 'failed'
  | 'unreachable'
  | 'http_error'
  | 'bad_response'
  | (string & {});

export class AgentError extends Error {
  override readonly name = 'AgentError';

  constructor(
    readonly status: number,
    readonly code: AgentErrorCode,
    message: string,
    options?: { cause?: unknown; wpCode?: string },
  ) {
    super(message, options);
    this.wpCode = options?.wpCode ?? null;
  }

  /** WordPress's own error code behind the agent's (`folder_exists`), when it gave one. */
  readonly wpCode: string | null;
}

export interface AgentPlugin {
  /** `akismet/akismet.php`. */
  file: string;
  name: string;
  version: string;
  active: boolean;
}

export interface AgentTheme {
  stylesheet: string;
  name: string;
  version: string;
  active: boolean;
}

export interface AgentInfo {
  agentVersion: string;
  wordpressVersion: string;
  phpVersion: string;
  plugins: AgentPlugin[];
  themes: AgentTheme[];
  usersCount: number;
  home: string;
  siteurl: string;
  multisite: boolean;
  maintenance: boolean;
}

export interface AgentUrls {
  home: string;
  siteurl: string;
}

export interface LoginLinkOptions {
  /** Default: the administrator with the lowest id. */
  userId?: number;
  /** 1 to 3600; default 300. */
  ttlSeconds?: number;
}

export interface AgentLoginLink {
  /** `<siteurl>/wp-login.php?wpfleet_login=<token>`; works once. */
  url: string;
  userId: number;
  userLogin: string;
  /** Unix seconds. */
  expiresAt: number;
}

export interface AgentClientOptions {
  /** Unix seconds; default the system clock. */
  now?: () => number;
}

export type Json = Record<string, unknown>;

export class AgentClient {
  constructor(
    private readonly transport: AgentTransport,
    private readonly secret: string,
    private readonly options: AgentClientOptions = {},
  ) {}

  async info(): Promise<AgentInfo> {
    const r = new Reader(await this.call('GET', 'info'));
    return {
      agentVersion: r.string('agent_version'),
      wordpressVersion: r.string('wordpress_version'),
      phpVersion: r.string('php_version'),
      plugins: r.list('plugins').map((p) => ({
        file: p.string('file'),
        name: p.string('name'),
        version: p.string('version'),
        active: p.boolean('active'),
      })),
      themes: r.list('themes').map((t) => ({
        stylesheet: t.string('stylesheet'),
        name: t.string('name'),
        version: t.string('version'),
        active: t.boolean('active'),
      })),
      usersCount: r.integer('users_count'),
      home: r.string('home'),
      siteurl: r.string('siteurl'),
      multisite: r.boolean('multisite'),
      maintenance: r.boolean('maintenance'),
    };
  }

  /** wp_cache_flush(); resolves to what WordPress answered. */
  async flushObjectCache(): Promise<boolean> {
    return new Reader(await this.call('POST', 'cache/flush', {})).boolean('flushed');
  }

  /** Sets home and siteurl with update_option(); resolves to the values WordPress now reports. */
  async setUrls(home: string, siteurl: string): Promise<AgentUrls> {
    const r = new Reader(await this.call('POST', 'urls', { home, siteurl }));
    return { home: r.string('home'), siteurl: r.string('siteurl') };
  }

  async loginLink(options: LoginLinkOptions = {}): Promise<AgentLoginLink> {
    const body: Json = {};
    if (options.userId !== undefined) body.user_id = options.userId;
    if (options.ttlSeconds !== undefined) body.ttl = options.ttlSeconds;
    const r = new Reader(await this.call('POST', 'login-link', body));
    return {
      url: r.string('url'),
      userId: r.integer('user_id'),
      userLogin: r.string('user_login'),
      expiresAt: r.integer('expires_at'),
    };
  }

  /** Turns maintenance mode on or off; resolves to the state afterwards. */
  async setMaintenance(enabled: boolean): Promise<boolean> {
    return new Reader(await this.call('POST', 'maintenance', { enabled })).boolean('enabled');
  }

  /**
   * Signs and sends one call to `/wpfleet/v1/<operation>` and answers its JSON object; the agent's
   * per-area clients (plugins, users, …) are built on this. Throws AgentError.
   */
  async call(method: 'GET' | 'POST', operation: string, payload?: Json): Promise<Json> {
    const route = `/${AGENT_NAMESPACE}/${operation}`;
    const body = payload === undefined ? '' : JSON.stringify(payload);
    const headers: Record<string, string> = {
      Accept: 'application/json',
      ...agentSignatureHeaders(
        this.secret,
        { method, path: route, body },
        this.options.now ? { now: this.options.now() } : {},
      ),
    };
    if (body !== '') headers['Content-Type'] = 'application/json';
    let response: AgentTransportResponse;
    try {
      response = await this.transport({ method, path: `/?rest_route=${route}`, headers, body });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new AgentError(0, 'unreachable', `The agent could not be reached: ${reason}`, {
        cause: error,
      });
    }
    return parseResponse(route, response);
  }
}

function parseResponse(route: string, response: AgentTransportResponse): Json {
  const { status } = response;
  const json = parseObject(response.body);
  if (status >= 200 && status < 300) {
    if (json === null) {
      throw new AgentError(status, 'bad_response', `${route} answered ${describe(response)}`);
    }
    return json;
  }
  if (json !== null && typeof json.code === 'string' && typeof json.message === 'string') {
    const data = json.data;
    const wpCode = isObject(data) && typeof data.wp_code === 'string' ? data.wp_code : undefined;
    throw new AgentError(status, json.code, json.message, wpCode === undefined ? {} : { wpCode });
  }
  throw new AgentError(status, 'http_error', `${route} answered ${describe(response)}`);
}

function parseObject(text: string): Json | null {
  try {
    const value: unknown = JSON.parse(text);
    return isObject(value) ? value : null;
  } catch {
    return null;
  }
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(response: AgentTransportResponse): string {
  const text = response.body.replace(/\s+/g, ' ').trim();
  const excerpt = text.length > 200 ? `${text.slice(0, 200)}…` : text;
  return `HTTP ${response.status}${excerpt === '' ? '' : `: ${excerpt}`}`;
}

/** Reads typed fields of an agent answer; a missing or mistyped field is a `bad_response`. */
export class Reader {
  constructor(
    private readonly value: Json,
    private readonly where = 'the answer',
  ) {}

  string(key: string): string {
    const v = this.value[key];
    if (typeof v !== 'string') this.fail(key, 'a string');
    return v;
  }

  boolean(key: string): boolean {
    const v = this.value[key];
    if (typeof v !== 'boolean') this.fail(key, 'a boolean');
    return v;
  }

  integer(key: string): number {
    const v = this.value[key];
    if (typeof v !== 'number' || !Number.isInteger(v)) this.fail(key, 'an integer');
    return v;
  }

  /** Whether the field is a string (for fields that may hold a string or another type). */
  isString(key: string): boolean {
    return typeof this.value[key] === 'string';
  }

  strings(key: string): string[] {
    const v = this.value[key];
    if (!Array.isArray(v)) this.fail(key, 'a list');
    return v.map((item: unknown, i) => {
      if (typeof item !== 'string') this.fail(`${key}[${i}]`, 'a string');
      return item;
    });
  }

  list(key: string): Reader[] {
    const v = this.value[key];
    if (!Array.isArray(v)) this.fail(key, 'a list');
    return v.map((item: unknown, i) => {
      if (!isObject(item)) this.fail(`${key}[${i}]`, 'an object');
      return new Reader(item, `${this.where} ${key}[${i}]`);
    });
  }

  nullableString(key: string): string | null {
    return this.value[key] === null ? null : this.string(key);
  }

  nullableInteger(key: string): number | null {
    return this.value[key] === null ? null : this.integer(key);
  }

  /** A nested object, to read its fields. */
  object(key: string): Reader {
    return new Reader(this.record(key), `${this.where} ${key}`);
  }

  nullableObject(key: string): Reader | null {
    return this.value[key] === null ? null : this.object(key);
  }

  /** A nested object as it is, for values of any JSON type (option values). */
  record(key: string): Json {
    const v = this.value[key];
    if (!isObject(v)) this.fail(key, 'an object');
    return v;
  }

  private fail(key: string, expected: string): never {
    throw new AgentError(200, 'bad_response', `In ${this.where}, ${key} is not ${expected}.`);
  }
}
