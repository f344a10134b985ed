// Operator accounts: the people who run the venue, separate from users (their own table, sessions and token
// prefix `o_`, so a user's session can never act as an operator nor an operator's as a user). Roles are ordered
// viewer < operator < admin (route-auth.ts). TOTP is required: the secret is made when the account is created
// (`npm run admin -- create-operator`, the only way: no route creates, disables or resets an operator) and every
// login needs a code from it, accepted once. Sessions are checked in PostgreSQL on every request (no cache):
// operator traffic is small and a disabled operator must stop at once.

import { createHash, randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Sql } from 'postgres';
import type { AuditLog } from '../../audit/log.js';
import { gatewayError } from '../errors.js';
import { OPERATOR_ROLES } from '../route-auth.js';
import type { OperatorRole } from '../route-auth.js';
import type { AuthGuard } from './guard.js';
import { dummyHash, hashPassword, verifyPassword } from './passwords.js';
import { open, seal } from './secret-box.js';
import { newTotpSecret, otpauthUri, totpStep } from './totp.js';
import type { ClientInfo } from './service.js';

export const OPERATOR_SESSION_TTL_MS = 8 * 3600_000;
export const OPERATOR_NAME_PATTERN = '^[a-z0-9_.-]{3,32}$';
export const OPERATOR_TOTP_ISSUER = 'exchange-core operators';
const TOKEN_PATTERN = /^Bearer (o_[A-Za-z0-9_-]{43})$/;
const PASSWORD_BYTES = 18;

export interface OperatorPrincipal {
  readonly operatorId: number;
  readonly name: string;
  readonly role: OperatorRole;
}

export interface OperatorEnrolment {
  readonly name: string;
  readonly role: OperatorRole;
  /** The initial password (generated unless given): shown once. */
  readonly password: string;
  /** The TOTP secret as an otpauth:// URI, for an authenticator app: shown once. */
  readonly otpauthUri: string;
  readonly secret: string;
}

export class OperatorError extends Error {
  override readonly name = 'OperatorError';
}

const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();
// The name is unique and never changes: a sealed secret cannot be moved onto another operator's row.
const aad = (name: string): string => `operator-totp:${name}`;
export const isOperatorRole = (x: string): x is OperatorRole => (OPERATOR_ROLES as readonly string[]).includes(x);

/** Account management, for the command line (gateway/admin-cli.ts). Each change is audited. */
export class OperatorAccounts {
  constructor(private readonly deps: { sql: Sql; secretKey: Buffer; scryptCost: number; audit: AuditLog }) {}

  async create(name: string, role: string, password?: string): Promise<OperatorEnrolment> {
    if (!new RegExp(OPERATOR_NAME_PATTERN).test(name))
      throw new OperatorError(`the name must match ${OPERATOR_NAME_PATTERN}`);
    if (!isOperatorRole(role)) throw new OperatorError(`the role must be one of ${OPERATOR_ROLES.join(', ')}`);
    const pass = password ?? randomBytes(PASSWORD_BYTES).toString('base64url');
    if (pass.length < 12) throw new OperatorError('the password must have at least 12 characters');
    const secret = newTotpSecret();
    const hash = await hashPassword(pass, this.deps.scryptCost);
    const { sql, audit, secretKey } = this.deps;
    const created = await sql.begin(async (tx) => {
      const box = seal(secretKey, Buffer.from(secret, 'utf8'), aad(name));
      const r =
        await tx`INSERT INTO gateway_operators (name, role, password_hash, totp_secret_enc) VALUES (${name}, ${role}, ${hash}, ${box}) ON CONFLICT (name) DO NOTHING`;
      if (r.count !== 1) return false;
      await audit.append(tx, {
        actorType: 'system',
        actorId: 'admin-cli',
        userId: null,
        action: 'operator.created',
        detail: { operator: name, role },
      });
      return true;
    });
    if (!created) throw new OperatorError(`an operator named ${name} exists`);
    return {
      name,
      role,
      password: pass,
      secret,
      otpauthUri: otpauthUri(secret, { issuer: OPERATOR_TOTP_ISSUER, label: name }),
    };
  }

  /** Disabled: cannot log in, and every open session ends now. */
  async disable(name: string): Promise<void> {
    await this.deps.sql.begin(async (tx) => {
      const [row] = await tx<
        { operator_id: string }[]
      >`UPDATE gateway_operators SET disabled_at = now() WHERE name = ${name} AND disabled_at IS NULL RETURNING operator_id`;
      if (row === undefined) throw new OperatorError(`no enabled operator is named ${name}`);
      await tx`UPDATE gateway_operator_sessions SET revoked_at = now() WHERE operator_id = ${row.operator_id} AND revoked_at IS NULL`;
      await this.deps.audit.append(tx, {
        actorType: 'system',
        actorId: 'admin-cli',
        userId: null,
        action: 'operator.disabled',
        detail: { operator: name },
      });
    });
  }

  /** A lost phone or password: a new password and a new TOTP secret, the account enabled again, sessions ended. */
  async reset(name: string, password?: string): Promise<OperatorEnrolment> {
    const pass = password ?? randomBytes(PASSWORD_BYTES).toString('base64url');
    if (pass.length < 12) throw new OperatorError('the password must have at least 12 characters');
    const secret = newTotpSecret();
    const hash = await hashPassword(pass, this.deps.scryptCost);
    const role = await this.deps.sql.begin(async (tx) => {
      const [row] = await tx<
        { operator_id: string; role: OperatorRole }[]
      >`SELECT operator_id, role FROM gateway_operators WHERE name = ${name} FOR UPDATE`;
      if (row === undefined) throw new OperatorError(`no operator is named ${name}`);
      const id = Number(row.operator_id);
      await tx`UPDATE gateway_operators SET password_hash = ${hash}, totp_secret_enc = ${seal(this.deps.secretKey, Buffer.from(secret, 'utf8'), aad(name))}, totp_last_step = 0, disabled_at = NULL
        WHERE operator_id = ${id}`;
      await tx`UPDATE gateway_operator_sessions SET revoked_at = now() WHERE operator_id = ${id} AND revoked_at IS NULL`;
      await this.deps.audit.append(tx, {
        actorType: 'system',
        actorId: 'admin-cli',
        userId: null,
        action: 'operator.two_factor_reset',
        detail: { operator: name },
      });
      return row.role;
    });
    return {
      name,
      role,
      password: pass,
      secret,
      otpauthUri: otpauthUri(secret, { issuer: OPERATOR_TOTP_ISSUER, label: name }),
    };
  }

  async list(): Promise<{ name: string; role: OperatorRole; createdAt: string; disabledAt: string | null }[]> {
    const rows = await this.deps.sql<
      { name: string; role: OperatorRole; created_at: Date; disabled_at: Date | null }[]
    >`
      SELECT name, role, created_at, disabled_at FROM gateway_operators ORDER BY name`;
    return rows.map((r) => ({
      name: r.name,
      role: r.role,
      createdAt: r.created_at.toISOString(),
      disabledAt: r.disabled_at?.toISOString() ?? null,
    }));
  }
}

/** Operator login and the operator behind a request (the gateway). */
export class OperatorAuth {
  private dummy: Promise<string> | null = null;

  constructor(
    private readonly deps: {
      sql: Sql;
      secretKey: Buffer;
      scryptCost: number;
      audit: AuditLog;
      guard: AuthGuard;
      nowMs: () => number;
    },
  ) {}

  /**
   * Password and a TOTP code, both always. Unknown names, disabled accounts and wrong passwords answer alike
   * (EX_BAD_CREDENTIALS, checked against a dummy hash for unknown names); failures count per name and IP.
   */
  async login(
    input: { name: string; password: string; otp?: string },
    client: ClientInfo,
  ): Promise<{ token: string; name: string; role: OperatorRole; expiresAt: string }> {
    const { guard, sql, audit } = this.deps;
    const keys = guard.loginKeys('operator', input.name, client.ip);
    await guard.check(keys);
    const [row] = await sql<
      { operator_id: string; role: OperatorRole; password_hash: string; totp_secret_enc: Buffer; disabled: boolean }[]
    >`
      SELECT operator_id, role, password_hash, totp_secret_enc, disabled_at IS NOT NULL AS disabled FROM gateway_operators WHERE name = ${input.name}`;
    this.dummy ??= dummyHash(this.deps.scryptCost);
    const ok = await verifyPassword(input.password, row?.password_hash ?? (await this.dummy));
    const failed = async (reason: string, code: 'EX_BAD_CREDENTIALS' | 'EX_OTP_INVALID') => {
      await guard.fail(keys);
      await audit.append(sql, {
        actorType: 'anonymous',
        actorId: null,
        userId: null,
        action: 'operator.login_failed',
        detail: { operator: input.name, reason },
        ip: client.ip,
      });
      return gatewayError(code);
    };
    if (!ok || row === undefined || row.disabled) throw await failed('bad_credentials', 'EX_BAD_CREDENTIALS');
    if (input.otp === undefined || input.otp === '') throw gatewayError('EX_OTP_REQUIRED');
    const id = Number(row.operator_id);
    if (!(await this.consumeCode(id, input.name, row.totp_secret_enc, input.otp)))
      throw await failed('otp_invalid', 'EX_OTP_INVALID');
    await guard.succeed(keys[0]);
    const token = `o_${randomBytes(32).toString('base64url')}`;
    const expires = new Date(this.deps.nowMs() + OPERATOR_SESSION_TTL_MS);
    await sql.begin(async (tx) => {
      await tx`INSERT INTO gateway_operator_sessions (token_hash, operator_id, expires_at, ip) VALUES (${sha256(token)}, ${id}, ${expires}, ${client.ip})`;
      await audit.append(tx, {
        actorType: 'operator',
        actorId: input.name,
        userId: null,
        action: 'operator.login_succeeded',
        ip: client.ip,
      });
    });
    return { token, name: input.name, role: row.role, expiresAt: expires.toISOString() };
  }

  async logout(request: FastifyRequest, who: OperatorPrincipal, client: ClientInfo): Promise<void> {
    const m = TOKEN_PATTERN.exec(request.headers.authorization ?? '');
    if (m === null) return;
    await this.deps.sql.begin(async (tx) => {
      await tx`UPDATE gateway_operator_sessions SET revoked_at = now() WHERE token_hash = ${sha256(m[1])} AND revoked_at IS NULL`;
      await this.deps.audit.append(tx, {
        actorType: 'operator',
        actorId: who.name,
        userId: null,
        action: 'operator.logout',
        ip: client.ip,
      });
    });
  }

  /** The operator a request's `Authorization: Bearer o_…` names; null when it carries no operator token. */
  async principal(request: FastifyRequest): Promise<OperatorPrincipal | null> {
    const authorization = request.headers.authorization;
    if (authorization === undefined || !authorization.startsWith('Bearer o_')) return null;
    const m = TOKEN_PATTERN.exec(authorization);
    if (m === null) throw gatewayError('EX_SESSION_INVALID');
    const [row] = await this.deps.sql<{ operator_id: string; name: string; role: OperatorRole }[]>`
      SELECT o.operator_id, o.name, o.role FROM gateway_operator_sessions s JOIN gateway_operators o USING (operator_id)
      WHERE s.token_hash = ${sha256(m[1])} AND s.revoked_at IS NULL AND s.expires_at > ${new Date(this.deps.nowMs())} AND o.disabled_at IS NULL`;
    if (row === undefined) throw gatewayError('EX_SESSION_INVALID');
    return { operatorId: Number(row.operator_id), name: row.name, role: row.role };
  }

  /** A code is accepted once: only a step newer than the last accepted moves it (one UPDATE, so two gateways cannot both accept it). */
  private async consumeCode(operatorId: number, name: string, box: Buffer, code: string): Promise<boolean> {
    const secret = open(this.deps.secretKey, box, aad(name));
    if (secret === null) return false;
    const step = totpStep(secret.toString('utf8'), code, this.deps.nowMs());
    if (step === null) return false;
    const u = await this.deps
      .sql`UPDATE gateway_operators SET totp_last_step = ${step} WHERE operator_id = ${operatorId} AND totp_last_step < ${step}`;
    return u.count === 1;
  }
}
