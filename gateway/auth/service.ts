// Accounts, sessions and API keys (PostgreSQL), and the authentication of a request: a session token
// (`Authorization: Bearer …`, or the web page's session cookie) or an API key with an HMAC signature (signing.ts; replays refused through the
// signatures store: Redis, or in-process for a single instance, gateway/stores/).
// Lookups are cached for a few seconds per instance: a revocation applies at once on the instance that did it
// and within CACHE_TTL_MS on the others.

import { createHash, randomBytes } from 'node:crypto';
import type { BlockList } from 'node:net';
import type { FastifyRequest } from 'fastify';
import type { Sql } from 'postgres';
import type { AuditLog } from '../../audit/log.js';
import { gatewayError } from '../errors.js';
import type { GatewayError } from '../errors.js';
import { StoreFullError } from '../stores/key-value.js';
import type { KeyValueStore } from '../stores/key-value.js';
import { sessionCookie } from './cookie-session.js';
import { dummyHash, hashPassword, verifyPassword } from './passwords.js';
import { open, seal } from './secret-box.js';
import { signatureMatches, timestampInWindow } from './signing.js';
import type { AuthGuard } from './guard.js';
import { ipAllowed, ipBlockList } from './ip-allow.js';
import type { TwoFactor } from './two-factor.js';

export const SCOPES = ['read', 'trade', 'withdraw'] as const;
export type Scope = (typeof SCOPES)[number];

export interface Principal {
  readonly userId: number;
  readonly via: 'session' | 'apiKey';
  /** The API key's id (rate limits count per key), null for a session. */
  readonly keyId: string | null;
  /** The session's public id, null for an API key. */
  readonly sessionId: string | null;
  readonly scopes: readonly Scope[];
}

/** Where a request came from, for sessions, guards and the audit log. */
export interface ClientInfo {
  readonly ip: string;
  readonly userAgent: string | null;
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
  readonly guard: AuthGuard;
  readonly twoFactor: TwoFactor;
  readonly audit: AuditLog;
  /** Injected for tests; Date.now in production. */
  readonly nowMs?: () => number;
}

export interface SessionView {
  readonly sessionId: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly ip: string | null;
  readonly userAgent: string | null;
  readonly current: boolean;
}

/** A session is the account owner logged in with the password: every scope. */
const SESSION_SCOPES: readonly Scope[] = SCOPES;
const CACHE_TTL_MS = 5000;
const CACHE_MAX = 10_000;

interface CachedKey {
  readonly userId: number;
  readonly scopes: readonly Scope[];
  readonly secret: string;
  /** Null: any address. */
  readonly ipAllow: BlockList | null;
  readonly cachedMs: number;
}

interface CachedSession {
  readonly userId: number;
  readonly sessionId: string;
  readonly expiresMs: number;
  readonly cachedMs: number;
}

const USER_AGENT_MAX = 200;

/** A bounded map: inserting into a full one drops the oldest entry (Map keeps insertion order). */
function boundedSet<K, V>(map: Map<K, V>, key: K, value: V): void {
  map.delete(key);
  if (map.size >= CACHE_MAX) map.delete(map.keys().next().value as K);
  map.set(key, value);
}

const API_KEY_ID = /^k_[0-9a-f]{24}$/;

/** One signed request, as any signing scheme presents it to keyPrincipal. */
export interface KeySignature {
  readonly keyId: string;
  /** Whether the request's timestamp is within the scheme's window of the gateway's clock. */
  readonly timestampOk: boolean;
  /** The signature as sent (the replay check remembers it). */
  readonly signature: string;
  /** Whether the signature is right for this secret. */
  readonly matches: (secret: string) => boolean;
  /** How long the signature is remembered: at least the span in which its timestamp is accepted. */
  readonly replayTtlMs: number;
  /** The client's address: a key with an IP allow-list accepts requests from its addresses only. */
  readonly ip: string;
  /** Runs before the key is looked up in PostgreSQL (not cached): the rate limit counts the IP first. */
  readonly beforeLookup?: BeforeLookup;
}

/** Runs before a lookup of credentials in PostgreSQL; it may throw (the request is then refused). */
export type BeforeLookup = () => Promise<void>;

/** A signature to remember for ttlMs: a second request with it is a replay. */
export interface SignatureReplay {
  readonly signature: string;
  readonly ttlMs: number;
}

/**
 * Credentials that hold, before their signature (if any) is remembered. `refusal`: an answer due once the
 * signature is remembered (the key's IP allow-list, checked after the signature).
 */
export interface Authenticated {
  readonly principal: Principal;
  readonly replay: SignatureReplay | null;
  readonly refusal: GatewayError | null;
}

/** A route's own way of reading credentials (Binance's signing), in place of AuthService.authenticate. */
export type RouteAuthenticate = (request: FastifyRequest, beforeLookup: BeforeLookup) => Promise<Authenticated | null>;

/**
 * For a failed write of a signature: a full in-process store fails closed (a signature it cannot remember is not
 * accepted) with EX_UNAVAILABLE; anything else is rethrown as it is.
 */
export function signatureStoreFailure(err: unknown): never {
  throw err instanceof StoreFullError
    ? gatewayError('EX_UNAVAILABLE', 'Too many signed requests; retry shortly.')
    : err;
}

export interface ApiKeyCreatedView {
  readonly keyId: string;
  readonly secret: string;
  readonly label: string;
  readonly scopes: Scope[];
  readonly ipAllowList: string[] | null;
  readonly createdAt: string;
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

  async register(
    username: string,
    password: string,
    client: ClientInfo,
  ): Promise<{ userId: number; username: string }> {
    const name = username.toLowerCase();
    const hash = await hashPassword(password, this.opts.scryptCost);
    const rows = await this.opts.sql<{ user_id: string; created_at: Date }[]>`
      INSERT INTO gateway_accounts (username, password_hash) VALUES (${name}, ${hash})
      ON CONFLICT (username) DO NOTHING RETURNING user_id, created_at`;
    if (rows.length === 0) throw gatewayError('EX_USERNAME_TAKEN');
    const userId = Number(rows[0].user_id);
    // Normally no row yet (the persistence consumer adds it on the first balance movement; a trigger then fills
    // the profile); this covers an id the engine already knew.
    await this.opts
      .sql`UPDATE users SET display_name = ${name}, registered_at = ${rows[0].created_at} WHERE user_id = ${userId} AND registered_at IS NULL`;
    await this.opts.audit.append(this.opts.sql, {
      actorType: 'user',
      actorId: String(userId),
      userId,
      action: 'account.registered',
      ip: client.ip,
    });
    return { userId, username: name };
  }

  /**
   * Password, then (when 2FA is on) a one-time code. Refused alike for an unknown name and a wrong password, in
   * the same time (the unknown name is checked against a dummy hash); failures count per name and per IP with
   * back-off (guard.ts), checked before the password so a locked-out guesser learns nothing.
   */
  async login(
    input: { username: string; password: string; otp?: string },
    client: ClientInfo,
  ): Promise<{ token: string; userId: number; sessionId: string; expiresAt: string }> {
    const { guard, twoFactor, audit, sql } = this.opts;
    const name = input.username.toLowerCase();
    const keys = guard.loginKeys('user', name, client.ip);
    await guard.check(keys);
    const [row] = await sql<{ user_id: string; password_hash: string; totp: boolean }[]>`
      SELECT user_id, password_hash, totp_enabled_at IS NOT NULL AS totp FROM gateway_accounts WHERE username = ${name}`;
    this.dummy ??= dummyHash(this.opts.scryptCost);
    const ok = await verifyPassword(input.password, row?.password_hash ?? (await this.dummy));
    const userId = row === undefined ? null : Number(row.user_id);
    if (!ok || userId === null) {
      await guard.fail(keys);
      await audit.append(sql, {
        actorType: 'anonymous',
        actorId: null,
        userId,
        action: 'auth.login_failed',
        detail: { reason: 'bad_credentials' },
        ip: client.ip,
      });
      throw gatewayError('EX_BAD_CREDENTIALS');
    }
    if (row!.totp) {
      try {
        const used = await twoFactor.verify(userId, input.otp);
        if (used === 'recovery')
          await audit.append(sql, {
            actorType: 'user',
            actorId: String(userId),
            userId,
            action: 'two_factor.recovery_code_used',
            detail: { at: 'login' },
            ip: client.ip,
          });
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === 'EX_OTP_INVALID')
          await audit.append(sql, {
            actorType: 'anonymous',
            actorId: null,
            userId,
            action: 'auth.login_failed',
            detail: { reason: 'otp_invalid' },
            ip: client.ip,
          });
        throw err;
      }
    }
    await guard.succeed(keys[0]);
    const token = `s_${randomBytes(32).toString('base64url')}`;
    const sessionId = `ss_${randomBytes(12).toString('hex')}`;
    const expires = new Date(this.now() + this.opts.sessionTtlMs);
    const userAgent = client.userAgent?.slice(0, USER_AGENT_MAX) ?? null;
    await sql.begin(async (tx) => {
      await tx`INSERT INTO gateway_sessions (token_hash, user_id, expires_at, session_id, ip, user_agent) VALUES (${sha256(token)}, ${userId}, ${expires}, ${sessionId}, ${client.ip}, ${userAgent})`;
      await audit.append(tx, {
        actorType: 'user',
        actorId: String(userId),
        userId,
        action: 'auth.login_succeeded',
        detail: { sessionId, twoFactor: row!.totp },
        ip: client.ip,
      });
    });
    return { token, userId, sessionId, expiresAt: expires.toISOString() };
  }

  async logout(token: string, client: ClientInfo): Promise<void> {
    const hash = sha256(token);
    this.sessions.delete(hash.toString('hex'));
    await this.opts.sql.begin(async (tx) => {
      const [row] = await tx<
        { user_id: string; session_id: string }[]
      >`UPDATE gateway_sessions SET revoked_at = now() WHERE token_hash = ${hash} AND revoked_at IS NULL RETURNING user_id, session_id`;
      if (row !== undefined)
        await this.opts.audit.append(tx, {
          actorType: 'user',
          actorId: row.user_id,
          userId: Number(row.user_id),
          action: 'auth.logout',
          detail: { sessionId: row.session_id },
          ip: client.ip,
        });
    });
  }

  async listSessions(userId: number, currentSessionId: string | null): Promise<SessionView[]> {
    const rows = await this.opts.sql<
      { session_id: string; created_at: Date; expires_at: Date; ip: string | null; user_agent: string | null }[]
    >`
      SELECT session_id, created_at, expires_at, ip, user_agent FROM gateway_sessions
      WHERE user_id = ${userId} AND revoked_at IS NULL AND expires_at > ${new Date(this.now())} ORDER BY created_at DESC, session_id LIMIT 100`;
    return rows.map((r) => ({
      sessionId: r.session_id,
      createdAt: r.created_at.toISOString(),
      expiresAt: r.expires_at.toISOString(),
      ip: r.ip,
      userAgent: r.user_agent,
      current: r.session_id === currentSessionId,
    }));
  }

  /** Revokes one of the user's sessions (`sessionId`), or all but `keep` (sessionId null). Returns how many. */
  async revokeSessions(
    userId: number,
    target: { sessionId: string } | { allBut: string | null },
    client: ClientInfo,
  ): Promise<number> {
    const which =
      'sessionId' in target
        ? this.opts.sql`AND session_id = ${target.sessionId}`
        : target.allBut === null
          ? this.opts.sql``
          : this.opts.sql`AND session_id <> ${target.allBut}`;
    const revoked = await this.opts.sql.begin(async (tx) => {
      const rows = await tx<
        { session_id: string }[]
      >`UPDATE gateway_sessions SET revoked_at = now() WHERE user_id = ${userId} AND revoked_at IS NULL ${which} RETURNING session_id`;
      if (rows.length > 0) {
        await this.opts.audit.append(tx, {
          actorType: 'user',
          actorId: String(userId),
          userId,
          action: 'session.revoked',
          detail: { sessions: rows.length, ...('sessionId' in target ? { sessionId: target.sessionId } : {}) },
          ip: client.ip,
        });
      }
      return rows.map((r) => r.session_id);
    });
    const gone = new Set(revoked);
    for (const [k, v] of this.sessions) if (gone.has(v.sessionId)) this.sessions.delete(k);
    if ('sessionId' in target && revoked.length === 0) throw gatewayError('EX_SESSION_NOT_FOUND');
    return revoked.length;
  }

  // ------------------------------------------------------------------------------------------------------------
  // API keys

  /**
   * A key with the withdraw scope needs a one-time code when the user has 2FA on: a stolen session alone cannot
   * mint a key that withdraws. `ipAllow` (normalised by ip-allow.ts) limits where requests may come from.
   */
  async createApiKey(
    userId: number,
    req: { label: string; scopes: readonly Scope[]; ipAllow: string[] | null; otp?: string },
    client: ClientInfo,
  ): Promise<ApiKeyCreatedView> {
    const unique = [...new Set(req.scopes)].sort() as Scope[];
    if (unique.includes('withdraw')) await this.opts.twoFactor.verifyIfEnabled(userId, req.otp);
    const keyId = `k_${randomBytes(12).toString('hex')}`;
    const secret = randomBytes(32).toString('base64url');
    const box = seal(this.opts.secretKey, Buffer.from(secret, 'utf8'), keyId);
    const created = await this.opts.sql.begin(async (tx) => {
      // Serialises one user's key creations so the count check holds.
      await tx`SELECT user_id FROM gateway_accounts WHERE user_id = ${userId} FOR UPDATE`;
      const [{ n }] = await tx<
        { n: number }[]
      >`SELECT count(*)::int AS n FROM gateway_api_keys WHERE user_id = ${userId} AND revoked_at IS NULL`;
      if (n >= this.opts.apiKeysPerUserMax) return null;
      const [row] = await tx<{ created_at: Date }[]>`
        INSERT INTO gateway_api_keys (key_id, user_id, label, scopes, secret_enc, ip_allow) VALUES (${keyId}, ${userId}, ${req.label}, ${unique}, ${box}, ${req.ipAllow}) RETURNING created_at`;
      await this.opts.audit.append(tx, {
        actorType: 'user',
        actorId: String(userId),
        userId,
        action: 'api_key.created',
        detail: { keyId, scopes: unique, ipAllowList: req.ipAllow },
        ip: client.ip,
      });
      return row.created_at;
    });
    if (created === null) throw gatewayError('EX_API_KEYS_MAX');
    return {
      keyId,
      secret,
      label: req.label,
      scopes: unique,
      ipAllowList: req.ipAllow,
      createdAt: created.toISOString(),
    };
  }

  async listApiKeys(userId: number): Promise<Omit<ApiKeyCreatedView, 'secret'>[]> {
    const rows = await this.opts.sql<
      { key_id: string; label: string; scopes: Scope[]; ip_allow: string[] | null; created_at: Date }[]
    >`
      SELECT key_id, label, scopes, ip_allow, created_at FROM gateway_api_keys WHERE user_id = ${userId} AND revoked_at IS NULL ORDER BY created_at, key_id`;
    return rows.map((r) => ({
      keyId: r.key_id,
      label: r.label,
      scopes: r.scopes,
      ipAllowList: r.ip_allow,
      createdAt: r.created_at.toISOString(),
    }));
  }

  async revokeApiKey(userId: number, keyId: string, client: ClientInfo): Promise<void> {
    this.keys.delete(keyId);
    const revoked = await this.opts.sql.begin(async (tx) => {
      const res =
        await tx`UPDATE gateway_api_keys SET revoked_at = now() WHERE key_id = ${keyId} AND user_id = ${userId} AND revoked_at IS NULL`;
      if (res.count !== 1) return false;
      await this.opts.audit.append(tx, {
        actorType: 'user',
        actorId: String(userId),
        userId,
        action: 'api_key.revoked',
        detail: { keyId },
        ip: client.ip,
      });
      return true;
    });
    if (!revoked) throw gatewayError('EX_API_KEY_NOT_FOUND');
  }

  // ------------------------------------------------------------------------------------------------------------
  // Authentication of a request

  /**
   * Who sent the request: null when it carries no credentials at all; throws a GatewayError (401) when it
   * carries credentials that do not hold. A signed request's signature is remembered here (replays refused).
   */
  async principal(request: FastifyRequest): Promise<Principal | null> {
    const authd = await this.authenticate(request);
    return authd === null ? null : this.remembered(authd);
  }

  /**
   * As principal(), but the signature is not remembered yet: the caller does it together with the rate limits
   * (gateway/admission.ts), then throws `refusal` if there is one. `beforeLookup` runs before any PostgreSQL
   * lookup (a key or session not cached).
   */
  async authenticate(request: FastifyRequest, beforeLookup?: BeforeLookup): Promise<Authenticated | null> {
    const authorization = request.headers.authorization;
    const apiKey = request.headers['x-api-key'];
    if (authorization !== undefined) {
      const m = /^Bearer (s_[A-Za-z0-9_-]{43})$/.exec(authorization);
      if (m === null) throw gatewayError('EX_SESSION_INVALID');
      return { principal: await this.sessionPrincipal(m[1], beforeLookup), replay: null, refusal: null };
    }
    if (apiKey !== undefined) return this.apiKeyPrincipal(request, apiKey, beforeLookup);
    // The web page's session, in an HttpOnly cookie (cookie-session.ts; app.ts checks its CSRF token).
    const cookie = sessionCookie(request);
    if (cookie !== null)
      return { principal: await this.sessionPrincipal(cookie, beforeLookup), replay: null, refusal: null };
    return null;
  }

  private async sessionPrincipal(token: string, beforeLookup?: BeforeLookup): Promise<Principal> {
    const hash = sha256(token);
    const cacheKey = hash.toString('hex');
    const now = this.now();
    let s = this.sessions.get(cacheKey);
    if (s === undefined || now - s.cachedMs > CACHE_TTL_MS) {
      await beforeLookup?.();
      const [row] = await this.opts.sql<{ user_id: string; session_id: string; expires_at: Date }[]>`
        SELECT user_id, session_id, expires_at FROM gateway_sessions WHERE token_hash = ${hash} AND revoked_at IS NULL`;
      if (row === undefined) throw gatewayError('EX_SESSION_INVALID');
      s = {
        userId: Number(row.user_id),
        sessionId: row.session_id,
        expiresMs: row.expires_at.getTime(),
        cachedMs: now,
      };
      boundedSet(this.sessions, cacheKey, s);
    }
    if (s.expiresMs <= now) throw gatewayError('EX_SESSION_INVALID');
    return { userId: s.userId, via: 'session', keyId: null, sessionId: s.sessionId, scopes: SESSION_SCOPES };
  }

  private async apiKeyPrincipal(
    request: FastifyRequest,
    apiKey: string | string[],
    beforeLookup?: BeforeLookup,
  ): Promise<Authenticated> {
    const timestamp = request.headers['x-timestamp'];
    const signature = request.headers['x-signature'];
    const parts = {
      timestampMs: typeof timestamp === 'string' ? timestamp : '',
      method: request.method,
      url: request.url,
      body: rawBodyOf(request),
    };
    // A key id sent twice (an array) is no key id.
    if (typeof apiKey !== 'string') throw gatewayError('EX_API_KEY_INVALID');
    return this.verifyKey({
      keyId: apiKey,
      ip: request.ip,
      timestampOk:
        typeof timestamp === 'string' && timestampInWindow(timestamp, this.now(), this.opts.signatureWindowMs),
      signature: typeof signature === 'string' ? signature : '',
      matches: (secret) => typeof signature === 'string' && signatureMatches(secret, parts, signature),
      // A timestamp accepted at either edge of the window stays refused until it is out of the window.
      replayTtlMs: 2 * this.opts.signatureWindowMs,
      beforeLookup,
    });
  }

  /**
   * The principal of a request signed with an API key's secret, whatever the signing scheme (ours above, Binance's in
   * gateway/binance/signing.ts): the key must exist, the time be acceptable, the signature match and be new.
   */
  async keyPrincipal(s: KeySignature): Promise<Principal> {
    return this.remembered(await this.verifyKey(s));
  }

  /**
   * keyPrincipal without the replay check, which the caller makes (with the rate limits: gateway/admission.ts)
   * before it throws `refusal`: a request from outside the key's IP allow-list, refused once its signature is
   * remembered, as it always was.
   */
  async verifyKey(s: KeySignature): Promise<Authenticated> {
    if (typeof s.keyId !== 'string' || !API_KEY_ID.test(s.keyId)) throw gatewayError('EX_API_KEY_INVALID');
    if (!s.timestampOk) throw gatewayError('EX_TIMESTAMP_OUT_OF_WINDOW');
    const key = await this.loadKey(s.keyId, s.beforeLookup);
    if (key === null) throw gatewayError('EX_API_KEY_INVALID');
    if (!s.matches(key.secret)) throw gatewayError('EX_SIGNATURE_INVALID');
    // Only a valid signature is remembered (an attacker cannot fill the store with garbage). The allow-list is
    // checked once the request is proven to come from the key's holder: a caller without the secret learns
    // nothing about the list.
    const refusal = key.ipAllow !== null && !ipAllowed(key.ipAllow, s.ip) ? gatewayError('EX_IP_NOT_ALLOWED') : null;
    return {
      principal: { userId: key.userId, via: 'apiKey', keyId: s.keyId, sessionId: null, scopes: key.scopes },
      replay: { signature: s.signature, ttlMs: s.replayTtlMs },
      refusal,
    };
  }

  /** Remembers the signature (a repeat: EX_SIGNATURE_REPLAYED), then throws the refusal if there is one. */
  private async remembered(authd: Authenticated): Promise<Principal> {
    if (authd.replay !== null) {
      const fresh = await this.opts.signatures
        .setIfAbsent(`${this.opts.redisPrefix}sig:${authd.replay.signature}`, '1', authd.replay.ttlMs)
        .catch(signatureStoreFailure);
      if (!fresh) throw gatewayError('EX_SIGNATURE_REPLAYED');
    }
    if (authd.refusal !== null) throw authd.refusal;
    return authd.principal;
  }

  /**
   * The principal named by an API key alone, without a signature: only for Binance's user-data stream routes, which
   * Binance clients call with the key and no signature; they reveal the key owner's own events and change nothing.
   */
  async unsignedKeyPrincipal(keyId: string, ip: string, beforeLookup?: BeforeLookup): Promise<Principal> {
    if (!API_KEY_ID.test(keyId)) throw gatewayError('EX_API_KEY_INVALID');
    const key = await this.loadKey(keyId, beforeLookup);
    if (key === null) throw gatewayError('EX_API_KEY_INVALID');
    if (key.ipAllow !== null && !ipAllowed(key.ipAllow, ip)) throw gatewayError('EX_IP_NOT_ALLOWED');
    return { userId: key.userId, via: 'apiKey', keyId, sessionId: null, scopes: key.scopes };
  }

  private async loadKey(keyId: string, beforeLookup?: BeforeLookup): Promise<CachedKey | null> {
    const now = this.now();
    const cached = this.keys.get(keyId);
    if (cached !== undefined && now - cached.cachedMs <= CACHE_TTL_MS) return cached;
    await beforeLookup?.();
    const [row] = await this.opts.sql<
      { user_id: string; scopes: Scope[]; secret_enc: Buffer; ip_allow: string[] | null }[]
    >`
      SELECT user_id, scopes, secret_enc, ip_allow FROM gateway_api_keys WHERE key_id = ${keyId} AND revoked_at IS NULL`;
    if (row === undefined) {
      this.keys.delete(keyId);
      return null;
    }
    const secret = open(this.opts.secretKey, row.secret_enc, keyId);
    // A row that does not open was written under another server key or tampered with: not a usable key.
    if (secret === null) return null;
    const key = {
      userId: Number(row.user_id),
      scopes: row.scopes,
      secret: secret.toString('utf8'),
      ipAllow: row.ip_allow === null ? null : ipBlockList(row.ip_allow),
      cachedMs: now,
    };
    boundedSet(this.keys, keyId, key);
    return key;
  }
}

/** The body as received (kept by the JSON parser in app.ts), for the signature. */
export function rawBodyOf(request: FastifyRequest): string {
  return (request as FastifyRequest & { rawBody?: string }).rawBody ?? '';
}
