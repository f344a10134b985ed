// Accounts, sessions and API keys (PostgreSQL), and the authentication of a request: a session token
// (`Authorization: Bearer …`, or the web page's session cookie) or an API key with an HMAC signature (signing.ts; replays refused through the
// signatures store: Redis, or in-process for a single instance, gateway/stores/).
// Lookups are cached for a few seconds per instance: a revocation applies at once on the instance that did it
// and within CACHE_TTL_MS on the others.

import { createHash, randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Sql } from 'postgres';
import { gatewayError } from '../errors.js';
import { StoreFullError } from '../stores/key-value.js';
import type { KeyValueStore } from '../stores/key-value.js';
import { sessionCookie } from './cookie-session.js';
import { dummyHash, hashPassword, verifyPassword } from './passwords.js';
import { open, seal } from './secret-box.js';
import { signatureMatches, timestampInWindow } from './signing.js';

export const SCOPES = ['read', 'trade', 'withdraw'] as const;
export type Scope = (typeof SCOPES)[number];

export interface Principal {
  readonly userId: number;
  readonly via: 'session' | 'apiKey';
  /** The API key's id (rate limits count per key), null for a session. */
  readonly keyId: string | null;
  readonly scopes: readonly Scope[];
}

export interface AuthOptions {
  readonly sql: Sql;
  /** Signatures already used (gateway/stores/gateway-stores.ts). */
  readonly signatures: KeyValueStore;
  readonly redisPrefix: string;
  readonly secretKey: Buffer;
  readonly sessionTtlMs: number;
  readonly signatureWindowMs: number;
  readonly scryptCost: number;
  readonly apiKeysPerUserMax: number;
  /** Injected for tests; Date.now in production. */
  readonly nowMs?: () => number;
}

/** A session is the account owner logged in with the password: every scope. */
const SESSION_SCOPES: readonly Scope[] = SCOPES;
const CACHE_TTL_MS = 5000;
const CACHE_MAX = 10_000;

interface CachedKey {
  readonly userId: number;
  readonly scopes: readonly Scope[];
  readonly secret: string;
  readonly cachedMs: number;
}

interface CachedSession {
  readonly userId: number;
  readonly expiresMs: number;
  readonly cachedMs: number;
}

/** A bounded map: inserting into a full one drops the oldest entry (Map keeps insertion order). */
function boundedSet<K, V>(map: Map<K, V>, key: K, value: V): void {
  map.delete(key);
  if (map.size >= CACHE_MAX) map.delete(map.keys().next().value as K);
  map.set(key, value);
}

const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();

export class AuthService {
  private readonly keys = new Map<string, CachedKey>();
  private readonly sessions = new Map<string, CachedSession>();
  private readonly now: () => number;
  private dummy: Promise<string> | null = null;

  constructor(private readonly opts: AuthOptions) {
    this.now = opts.nowMs ?? Date.now;
  }

  // ------------------------------------------------------------------------------------------------------------
  // Accounts and sessions

  async register(username: string, password: string): Promise<{ userId: number; username: string }> {
    const name = username.toLowerCase();
    const hash = await hashPassword(password, this.opts.scryptCost);
    const rows = await this.opts.sql<{ user_id: string; created_at: Date }[]>`
      INSERT INTO gateway_accounts (username, password_hash) VALUES (${name}, ${hash})
      ON CONFLICT (username) DO NOTHING RETURNING user_id, created_at`;
    if (rows.length === 0) throw gatewayError('EX_USERNAME_TAKEN');
    const userId = Number(rows[0].user_id);
    // Normally no row yet (the persistence consumer adds it on the first balance movement; a trigger then fills
    // the profile); this covers an id the engine already knew.
    await this.opts.sql`UPDATE users SET display_name = ${name}, registered_at = ${rows[0].created_at} WHERE user_id = ${userId} AND registered_at IS NULL`;
    return { userId, username: name };
  }

  async login(username: string, password: string): Promise<{ token: string; userId: number; expiresAt: string }> {
    const [row] = await this.opts.sql<{ user_id: string; password_hash: string }[]>`
      SELECT user_id, password_hash FROM gateway_accounts WHERE username = ${username.toLowerCase()}`;
    if (row === undefined) {
      this.dummy ??= dummyHash(this.opts.scryptCost);
      await verifyPassword(password, await this.dummy);
      throw gatewayError('EX_BAD_CREDENTIALS');
    }
    if (!(await verifyPassword(password, row.password_hash))) throw gatewayError('EX_BAD_CREDENTIALS');
    const token = `s_${randomBytes(32).toString('base64url')}`;
    const expires = new Date(this.now() + this.opts.sessionTtlMs);
    await this.opts.sql`INSERT INTO gateway_sessions (token_hash, user_id, expires_at) VALUES (${sha256(token)}, ${row.user_id}, ${expires})`;
    return { token, userId: Number(row.user_id), expiresAt: expires.toISOString() };
  }

  async logout(token: string): Promise<void> {
    const hash = sha256(token);
    this.sessions.delete(hash.toString('hex'));
    await this.opts.sql`UPDATE gateway_sessions SET revoked_at = now() WHERE token_hash = ${hash} AND revoked_at IS NULL`;
  }

  // ------------------------------------------------------------------------------------------------------------
  // API keys

  async createApiKey(userId: number, label: string, scopes: readonly Scope[]): Promise<{ keyId: string; secret: string; label: string; scopes: Scope[]; createdAt: string }> {
    const unique = [...new Set(scopes)].sort() as Scope[];
    const keyId = `k_${randomBytes(12).toString('hex')}`;
    const secret = randomBytes(32).toString('base64url');
    const box = seal(this.opts.secretKey, Buffer.from(secret, 'utf8'), keyId);
    const created = await this.opts.sql.begin(async (tx) => {
      // Serialises one user's key creations so the count check holds.
      await tx`SELECT user_id FROM gateway_accounts WHERE user_id = ${userId} FOR UPDATE`;
      const [{ n }] = await tx<{ n: number }[]>`SELECT count(*)::int AS n FROM gateway_api_keys WHERE user_id = ${userId} AND revoked_at IS NULL`;
      if (n >= this.opts.apiKeysPerUserMax) return null;
      const [row] = await tx<{ created_at: Date }[]>`
        INSERT INTO gateway_api_keys (key_id, user_id, label, scopes, secret_enc) VALUES (${keyId}, ${userId}, ${label}, ${unique}, ${box}) RETURNING created_at`;
      return row.created_at;
    });
    if (created === null) throw gatewayError('EX_API_KEYS_MAX');
    return { keyId, secret, label, scopes: unique, createdAt: created.toISOString() };
  }

  async listApiKeys(userId: number): Promise<{ keyId: string; label: string; scopes: Scope[]; createdAt: string }[]> {
    const rows = await this.opts.sql<{ key_id: string; label: string; scopes: Scope[]; created_at: Date }[]>`
      SELECT key_id, label, scopes, created_at FROM gateway_api_keys WHERE user_id = ${userId} AND revoked_at IS NULL ORDER BY created_at, key_id`;
    return rows.map((r) => ({ keyId: r.key_id, label: r.label, scopes: r.scopes, createdAt: r.created_at.toISOString() }));
  }

  async revokeApiKey(userId: number, keyId: string): Promise<void> {
    this.keys.delete(keyId);
    const res = await this.opts.sql`UPDATE gateway_api_keys SET revoked_at = now() WHERE key_id = ${keyId} AND user_id = ${userId} AND revoked_at IS NULL`;
    if (res.count !== 1) throw gatewayError('EX_API_KEY_NOT_FOUND');
  }

  // ------------------------------------------------------------------------------------------------------------
  // Authentication of a request

  /**
   * Who sent the request: null when it carries no credentials at all; throws a GatewayError (401) when it
   * carries credentials that do not hold.
   */
  async principal(request: FastifyRequest): Promise<Principal | null> {
    const authorization = request.headers.authorization;
    const apiKey = request.headers['x-api-key'];
    if (authorization !== undefined) {
      const m = /^Bearer (s_[A-Za-z0-9_-]{43})$/.exec(authorization);
      if (m === null) throw gatewayError('EX_SESSION_INVALID');
      return this.sessionPrincipal(m[1]);
    }
    if (apiKey !== undefined) return this.apiKeyPrincipal(request, apiKey);
    // The web page's session, in an HttpOnly cookie (cookie-session.ts; app.ts checks its CSRF token).
    const cookie = sessionCookie(request);
    if (cookie !== null) return this.sessionPrincipal(cookie);
    return null;
  }

  private async sessionPrincipal(token: string): Promise<Principal> {
    const hash = sha256(token);
    const cacheKey = hash.toString('hex');
    const now = this.now();
    let s = this.sessions.get(cacheKey);
    if (s === undefined || now - s.cachedMs > CACHE_TTL_MS) {
      const [row] = await this.opts.sql<{ user_id: string; expires_at: Date }[]>`
        SELECT user_id, expires_at FROM gateway_sessions WHERE token_hash = ${hash} AND revoked_at IS NULL`;
      if (row === undefined) throw gatewayError('EX_SESSION_INVALID');
      s = { userId: Number(row.user_id), expiresMs: row.expires_at.getTime(), cachedMs: now };
      boundedSet(this.sessions, cacheKey, s);
    }
    if (s.expiresMs <= now) throw gatewayError('EX_SESSION_INVALID');
    return { userId: s.userId, via: 'session', keyId: null, scopes: SESSION_SCOPES };
  }

  private async apiKeyPrincipal(request: FastifyRequest, apiKey: string | string[]): Promise<Principal> {
    if (typeof apiKey !== 'string' || !/^k_[0-9a-f]{24}$/.test(apiKey)) throw gatewayError('EX_API_KEY_INVALID');
    const timestamp = request.headers['x-timestamp'];
    const signature = request.headers['x-signature'];
    if (typeof timestamp !== 'string' || !timestampInWindow(timestamp, this.now(), this.opts.signatureWindowMs)) throw gatewayError('EX_TIMESTAMP_OUT_OF_WINDOW');
    const key = await this.loadKey(apiKey);
    if (key === null) throw gatewayError('EX_API_KEY_INVALID');
    const parts = { timestampMs: timestamp, method: request.method, url: request.url, body: rawBodyOf(request) };
    if (typeof signature !== 'string' || !signatureMatches(key.secret, parts, signature)) throw gatewayError('EX_SIGNATURE_INVALID');
    // Checked last, so only a valid signature is remembered (an attacker cannot fill the store with garbage). It is
    // kept for twice the window: a timestamp accepted at either edge stays refused until it is out of the window.
    const fresh = await this.opts.signatures.setIfAbsent(`${this.opts.redisPrefix}sig:${signature}`, '1', 2 * this.opts.signatureWindowMs).catch((err: unknown) => {
      // A full in-process store fails closed: a signature it cannot remember is not accepted.
      throw err instanceof StoreFullError ? gatewayError('EX_UNAVAILABLE', 'Too many signed requests; retry shortly.') : err;
    });
    if (!fresh) throw gatewayError('EX_SIGNATURE_REPLAYED');
    return { userId: key.userId, via: 'apiKey', keyId: apiKey, scopes: key.scopes };
  }

  private async loadKey(keyId: string): Promise<CachedKey | null> {
    const now = this.now();
    const cached = this.keys.get(keyId);
    if (cached !== undefined && now - cached.cachedMs <= CACHE_TTL_MS) return cached;
    const [row] = await this.opts.sql<{ user_id: string; scopes: Scope[]; secret_enc: Buffer }[]>`
      SELECT user_id, scopes, secret_enc FROM gateway_api_keys WHERE key_id = ${keyId} AND revoked_at IS NULL`;
    if (row === undefined) {
      this.keys.delete(keyId);
      return null;
    }
    const secret = open(this.opts.secretKey, row.secret_enc, keyId);
    // A row that does not open was written under another server key or tampered with: not a usable key.
    if (secret === null) return null;
    const key = { userId: Number(row.user_id), scopes: row.scopes, secret: secret.toString('utf8'), cachedMs: now };
    boundedSet(this.keys, keyId, key);
    return key;
  }
}

/** The body as received (kept by the JSON parser in app.ts), for the signature. */
export function rawBodyOf(request: FastifyRequest): string {
  return (request as FastifyRequest & { rawBody?: string }).rawBody ?? '';
}
