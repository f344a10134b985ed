// Two-factor authentication of users: enrolment (a secret shown once as an otpauth:// URI and QR code, confirmed
// with a first code), one-time recovery codes, and the check of a code where one is required (login, API keys
// with the withdraw scope, adding withdrawal addresses, withdrawing with a session). A code is accepted once:
// its time step must be newer than the last one accepted, advanced atomically in PostgreSQL (so two gateway
// instances cannot both accept it). Failures count towards a lock (guard.ts): six digits are guessable otherwise.

import type { Sql } from 'postgres';
import { gatewayError } from '../errors.js';
import type { AuthGuard } from './guard.js';
import { open, seal } from './secret-box.js';
import { isTotpCode, newRecoveryCodes, newTotpSecret, otpauthUri, qrSvg, recoveryCodeHash, totpStep } from './totp.js';

export const TOTP_ISSUER = 'exchange-core';

export interface TwoFactorState {
  readonly enabled: boolean;
  readonly enabledAt: string | null;
  readonly recoveryCodesLeft: number;
}

export type OtpCheck = 'totp' | 'recovery';

const aad = (kind: 'totp' | 'totp-pending', userId: number): string => `${kind}:${userId}`;

export class TwoFactor {
  constructor(
    private readonly sql: Sql,
    private readonly serverKey: Buffer,
    private readonly guard: AuthGuard,
    private readonly nowMs: () => number,
  ) {}

  async state(userId: number): Promise<TwoFactorState> {
    const [row] = await this.sql<{ enabled_at: Date | null; left: number }[]>`
      SELECT a.totp_enabled_at AS enabled_at, (SELECT count(*)::int FROM gateway_recovery_codes r WHERE r.user_id = a.user_id AND r.used_at IS NULL) AS left
      FROM gateway_accounts a WHERE a.user_id = ${userId}`;
    return {
      enabled: row?.enabled_at != null,
      enabledAt: row?.enabled_at?.toISOString() ?? null,
      recoveryCodesLeft: row?.left ?? 0,
    };
  }

  async isEnabled(userId: number): Promise<boolean> {
    const [row] = await this.sql<
      { on: boolean }[]
    >`SELECT totp_enabled_at IS NOT NULL AS on FROM gateway_accounts WHERE user_id = ${userId}`;
    return row?.on === true;
  }

  /** A new secret, pending until confirmed; replaces an unconfirmed one. Refused while 2FA is on. */
  async setup(userId: number, username: string): Promise<{ secret: string; otpauthUri: string; qrSvg: string }> {
    const secret = newTotpSecret();
    const box = seal(this.serverKey, Buffer.from(secret, 'utf8'), aad('totp-pending', userId));
    const r = await this
      .sql`UPDATE gateway_accounts SET totp_pending_enc = ${box} WHERE user_id = ${userId} AND totp_enabled_at IS NULL`;
    if (r.count !== 1) throw gatewayError('EX_TWO_FACTOR_ALREADY_ENABLED');
    const uri = otpauthUri(secret, { issuer: TOTP_ISSUER, label: username });
    return { secret, otpauthUri: uri, qrSvg: await qrSvg(uri) };
  }

  /** Confirms the pending secret with a code from it: 2FA is on, and the recovery codes (shown once) are made. */
  async enable(userId: number, code: string): Promise<string[]> {
    const keys = this.guard.otpKeys('user', userId);
    await this.guard.check(keys);
    const [row] = await this.sql<{ pending: Buffer | null; enabled: boolean }[]>`
      SELECT totp_pending_enc AS pending, totp_enabled_at IS NOT NULL AS enabled FROM gateway_accounts WHERE user_id = ${userId}`;
    if (row?.enabled === true) throw gatewayError('EX_TWO_FACTOR_ALREADY_ENABLED');
    const secret = row?.pending == null ? null : open(this.serverKey, row.pending, aad('totp-pending', userId));
    if (secret === null) throw gatewayError('EX_TWO_FACTOR_NOT_SET_UP');
    const step = totpStep(secret.toString('utf8'), code, this.nowMs());
    if (step === null) {
      await this.guard.fail(keys);
      throw gatewayError('EX_OTP_INVALID');
    }
    const codes = newRecoveryCodes();
    const box = seal(this.serverKey, secret, aad('totp', userId));
    const done = await this.sql.begin(async (tx) => {
      const u =
        await tx`UPDATE gateway_accounts SET totp_secret_enc = ${box}, totp_enabled_at = ${new Date(this.nowMs())}, totp_last_step = ${step}, totp_pending_enc = NULL
        WHERE user_id = ${userId} AND totp_enabled_at IS NULL AND totp_pending_enc = ${row!.pending}`;
      if (u.count !== 1) return false;
      await this.replaceRecoveryCodes(tx as unknown as Sql, userId, codes);
      return true;
    });
    if (!done) throw gatewayError('EX_TWO_FACTOR_NOT_SET_UP');
    await this.guard.succeed(keys[0]);
    return codes;
  }

  /**
   * Checks a code of a user with 2FA on, consuming it: a TOTP code whose step is newer than the last accepted, or an
   * unused recovery code. Throws EX_OTP_REQUIRED without a code, EX_OTP_INVALID for a wrong or used one, and
   * EX_AUTH_THROTTLED after repeated failures.
   */
  async verify(userId: number, code: string | undefined): Promise<OtpCheck> {
    if (code === undefined || code === '') throw gatewayError('EX_OTP_REQUIRED');
    const keys = this.guard.otpKeys('user', userId);
    await this.guard.check(keys);
    const used = await this.consume(userId, code);
    if (used === null) {
      await this.guard.fail(keys);
      throw gatewayError('EX_OTP_INVALID');
    }
    await this.guard.succeed(keys[0]);
    return used;
  }

  /** verify, but only when the user has 2FA on: what routes that need a code "once 2FA is on" call. */
  async verifyIfEnabled(userId: number, code: string | undefined): Promise<OtpCheck | null> {
    if (!(await this.isEnabled(userId))) return null;
    return this.verify(userId, code);
  }

  async disable(userId: number, code: string | undefined): Promise<void> {
    if (!(await this.isEnabled(userId))) throw gatewayError('EX_TWO_FACTOR_NOT_ENABLED');
    await this.verify(userId, code);
    await this.sql.begin(async (tx) => {
      await tx`UPDATE gateway_accounts SET totp_secret_enc = NULL, totp_enabled_at = NULL, totp_pending_enc = NULL WHERE user_id = ${userId}`;
      await tx`DELETE FROM gateway_recovery_codes WHERE user_id = ${userId}`;
    });
  }

  async renewRecoveryCodes(userId: number, code: string | undefined): Promise<string[]> {
    if (!(await this.isEnabled(userId))) throw gatewayError('EX_TWO_FACTOR_NOT_ENABLED');
    await this.verify(userId, code);
    const codes = newRecoveryCodes();
    await this.sql.begin((tx) => this.replaceRecoveryCodes(tx as unknown as Sql, userId, codes));
    return codes;
  }

  private async replaceRecoveryCodes(tx: Sql, userId: number, codes: readonly string[]): Promise<void> {
    await tx`DELETE FROM gateway_recovery_codes WHERE user_id = ${userId}`;
    for (const c of codes)
      await tx`INSERT INTO gateway_recovery_codes (user_id, code_hash) VALUES (${userId}, ${recoveryCodeHash(this.serverKey, c)})`;
  }

  private async consume(userId: number, code: string): Promise<OtpCheck | null> {
    if (isTotpCode(code)) {
      const [row] = await this.sql<
        { box: Buffer | null }[]
      >`SELECT totp_secret_enc AS box FROM gateway_accounts WHERE user_id = ${userId}`;
      const secret = row?.box == null ? null : open(this.serverKey, row.box, aad('totp', userId));
      if (secret === null) return null;
      const step = totpStep(secret.toString('utf8'), code, this.nowMs());
      if (step === null) return null;
      // Accepted once: only a step newer than the last accepted one moves it.
      const u = await this
        .sql`UPDATE gateway_accounts SET totp_last_step = ${step} WHERE user_id = ${userId} AND totp_last_step < ${step}`;
      return u.count === 1 ? 'totp' : null;
    }
    const u = await this
      .sql`UPDATE gateway_recovery_codes SET used_at = now() WHERE user_id = ${userId} AND code_hash = ${recoveryCodeHash(this.serverKey, code)} AND used_at IS NULL`;
    return u.count === 1 ? 'recovery' : null;
  }
}
