// TOTP (RFC 6238) with the otpauth library: SHA-1, 6 digits, 30 s steps, which every authenticator app reads from
// an otpauth:// URI or its QR code. Recovery codes are random one-time codes stored as HMACs under the server key.
// Pure: the caller supplies the clock and remembers the last step accepted (a code is accepted once).

import { createHmac, randomBytes, randomInt } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import QRCode from 'qrcode';

export const TOTP_PERIOD_S = 30;
export const TOTP_DIGITS = 6;
/** Steps accepted either side of now: one, for clocks a little off and codes typed at a step's end. */
export const TOTP_WINDOW = 1;
export const RECOVERY_CODES_COUNT = 10;
const SECRET_BYTES = 20;
const RECOVERY_ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';

/** What a route's `otp` field accepts: a 6-digit code or a recovery code (`xxxxx-xxxxx`, dash optional). */
export const OTP_PATTERN = '^([0-9]{6}|[A-Za-z0-9]{5}-?[A-Za-z0-9]{5})$';

export function newTotpSecret(): string {
  return new Secret({ buffer: randomBytes(SECRET_BYTES).buffer as ArrayBuffer }).base32;
}

function totp(secretBase32: string, label: string, issuer: string): TOTP {
  return new TOTP({
    issuer,
    label,
    algorithm: 'SHA1',
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_S,
    secret: Secret.fromBase32(secretBase32),
  });
}

export function otpauthUri(secretBase32: string, opts: { issuer: string; label: string }): string {
  return totp(secretBase32, opts.label, opts.issuer).toString();
}

/** The QR code of an otpauth:// URI as an SVG document (a page shows it as is). */
export function qrSvg(uri: string): Promise<string> {
  return QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
}

/** For a terminal (the operator CLI). */
export function qrTerminal(uri: string): Promise<string> {
  return QRCode.toString(uri, { type: 'terminal', small: true });
}

export const isTotpCode = (code: string): boolean => /^[0-9]{6}$/.test(code);

/** The time step the code belongs to (within the window around nowMs), or null when it matches none. */
export function totpStep(secretBase32: string, code: string, nowMs: number): number | null {
  if (!isTotpCode(code)) return null;
  const delta = TOTP.validate({
    token: code,
    secret: Secret.fromBase32(secretBase32),
    algorithm: 'SHA1',
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_S,
    timestamp: nowMs,
    window: TOTP_WINDOW,
  });
  if (delta === null) return null;
  return TOTP.counter({ period: TOTP_PERIOD_S, timestamp: nowMs }) + delta;
}

/** The current code (tests and the CLI's self-check). */
export function totpNow(secretBase32: string, nowMs: number): string {
  return TOTP.generate({
    secret: Secret.fromBase32(secretBase32),
    algorithm: 'SHA1',
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_S,
    timestamp: nowMs,
  });
}

/** Ten codes like `k3m9x-p2qrt` (about 50 bits each). */
export function newRecoveryCodes(): string[] {
  const code = (): string =>
    Array.from(
      { length: 10 },
      (_, i) => (i === 5 ? '-' : '') + RECOVERY_ALPHABET[randomInt(RECOVERY_ALPHABET.length)],
    ).join('');
  return Array.from({ length: RECOVERY_CODES_COUNT }, code);
}

/** What is stored of a recovery code: an HMAC under the server key, so a stolen table cannot be searched offline. */
export function recoveryCodeHash(serverKey: Buffer, code: string): Buffer {
  const normal = code.toLowerCase().replace('-', '');
  return createHmac('sha256', serverKey).update(`recovery:${normal}`).digest();
}
