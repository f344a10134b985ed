// Rate limits (per client IP on every route, per API key or session user on authenticated ones) and the replay
// check of signed requests, decided in ONE store step per request (stores/admission-store.ts: on Redis one script,
// one round trip; they were three, one after the other). The step runs once the credentials are known
// (preValidation, app.ts), so the IP, the signature and the principal go together. The answers stay those of the
// separate checks: an IP over its limit is refused first; a request whose credentials need a PostgreSQL lookup
// (a key or session not cached) has its IP counted before the lookup, so a flood of unknown keys from one address
// costs no more queries once over the limit; a request refused before the step (a body too large, not JSON, ...)
// is counted against its IP in the error handler, and answered 429 when over. Headers as @fastify/rate-limit set
// them: x-ratelimit-limit, -remaining, -reset of the principal's limit (the IP's without one), retry-after on 429.

import { normalizeIP } from '@fastify/rate-limit';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from './auth/service.js';
import type { SignatureReplay } from './auth/service.js';
import { signatureStoreFailure } from './auth/service.js';
import { GatewayError, gatewayError } from './errors.js';
import type { AdmissionResult, AdmissionStore, CounterState } from './stores/admission-store.js';

/** Both limits count per minute (their settings are per minute). */
const WINDOW_MS = 60_000;
/** IPv6 clients are counted per /64, as @fastify/rate-limit does: one host usually holds a whole /64. */
const IPV6_SUBNET_BITS = 64;

export interface AdmissionOptions {
  readonly redisPrefix: string;
  readonly rateLimitIpPerMin: number;
  readonly rateLimitKeyPerMin: number;
}

/** How far a request has been admitted (a field of the request, so each count happens once). */
const COUNTED = Symbol('admission.ipCounted');
type Tracked = FastifyRequest & { [COUNTED]?: true };

export class Admission {
  constructor(
    private readonly store: AdmissionStore,
    private readonly opts: AdmissionOptions,
  ) {}

  /**
   * Counts the request's IP alone, once: before a PostgreSQL lookup of its credentials, and for an answer that
   * refuses it before admit(). Throws EX_RATE_LIMITED when the IP is over its limit.
   */
  async countIp(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (!this.limited(request) || (request as Tracked)[COUNTED] === true) return;
    (request as Tracked)[COUNTED] = true;
    const result = await this.store.admit({
      ip: this.ipCheck(request),
      signature: null,
      principal: null,
      windowMs: WINDOW_MS,
    });
    this.answer(result, reply, null);
  }

  /**
   * The one step: the IP (unless counted already), the signature (remembered; a repeat is EX_SIGNATURE_REPLAYED)
   * and the principal's counter. Throws the refusal; sets the rate-limit headers.
   */
  async admit(
    request: FastifyRequest,
    reply: FastifyReply,
    who: { readonly principal: Principal | null; readonly replay: SignatureReplay | null },
  ): Promise<void> {
    const limited = this.limited(request);
    const ip = limited && (request as Tracked)[COUNTED] !== true ? this.ipCheck(request) : null;
    const principal =
      limited && who.principal !== null
        ? {
            key: `${this.opts.redisPrefix}rl:key:${who.principal.keyId ?? `user:${who.principal.userId}`}`,
            max: this.opts.rateLimitKeyPerMin,
          }
        : null;
    const signature =
      who.replay === null
        ? null
        : { key: `${this.opts.redisPrefix}sig:${who.replay.signature}`, ttlMs: who.replay.ttlMs };
    if (ip === null && principal === null && signature === null) return;
    (request as Tracked)[COUNTED] = true;
    const result = await this.store
      .admit({ ip, signature, principal, windowMs: WINDOW_MS })
      .catch(signatureStoreFailure);
    this.answer(result, reply, principal === null ? null : this.opts.rateLimitKeyPerMin);
  }

  /**
   * For an error answered before admit() ran (the body, its media type, ...): the IP is counted all the same,
   * and over its limit the answer is EX_RATE_LIMITED instead, as it was when the IP was checked first of all.
   */
  async errorBeforeAdmission(request: FastifyRequest, reply: FastifyReply, error: GatewayError): Promise<GatewayError> {
    if (request.is404) return error;
    try {
      await this.countIp(request, reply);
      return error;
    } catch (err) {
      return err instanceof GatewayError ? err : error;
    }
  }

  /** Routes that opt out (`config.rateLimit: false`: health and readiness) and unmatched ones are not counted. */
  private limited(request: FastifyRequest): boolean {
    return !request.is404 && request.routeOptions.config?.rateLimit !== false;
  }

  private ipCheck(request: FastifyRequest): { key: string; max: number } {
    return {
      key: `${this.opts.redisPrefix}rl:ip:${normalizeIP(request.ip, IPV6_SUBNET_BITS)}`,
      max: this.opts.rateLimitIpPerMin,
    };
  }

  /** Headers of the principal's limit when it was counted, else the IP's; the refusal, if any, thrown. */
  private answer(result: AdmissionResult, reply: FastifyReply, principalMax: number | null): void {
    if (result.refused === 'replayed') throw gatewayError('EX_SIGNATURE_REPLAYED');
    const shown: [CounterState, number] | null =
      principalMax !== null && result.principal !== null
        ? [result.principal, principalMax]
        : result.ip !== null
          ? [result.ip, this.opts.rateLimitIpPerMin]
          : null;
    if (shown === null) return;
    const [state, max] = shown;
    const resetSeconds = Math.ceil(state.ttlMs / 1000);
    const over = result.refused !== null;
    void reply
      .header('x-ratelimit-limit', max)
      .header('x-ratelimit-remaining', over ? 0 : Math.max(0, max - state.count))
      .header('x-ratelimit-reset', resetSeconds);
    if (!over) return;
    void reply.header('retry-after', resetSeconds);
    throw gatewayError('EX_RATE_LIMITED', `Rate limit exceeded, retry in ${resetSeconds} s.`);
  }
}
