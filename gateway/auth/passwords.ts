// Password hashes: scrypt (memory-hard, node:crypto) with a random 16-byte salt per user. The parameters are
// stored with the hash, so raising the cost later leaves old hashes verifiable.

import { randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import type { ScryptOptions } from 'node:crypto';

const KEY_BYTES = 32;
const SALT_BYTES = 16;
const R = 8;
const P = 1;
/** Bounds on stored parameters, so a tampered row cannot make verification allocate gigabytes. */
const COST_MAX = 1 << 20;

function scrypt(password: string, salt: Buffer, opts: ScryptOptions): Promise<Buffer> {
  // maxmem must exceed 128 * N * r bytes, which node's 32 MiB default does not for N >= 2^15.
  const maxmem = 256 * (opts.N ?? 0) * (opts.r ?? R) + 1024 * 1024;
  return new Promise((resolve, reject) =>
    scryptCb(password, salt, KEY_BYTES, { ...opts, maxmem }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export async function hashPassword(password: string, cost: number): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await scrypt(password, salt, { N: cost, r: R, p: P });
  return `scrypt$${cost}$${R}$${P}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number);
  if (!Number.isSafeInteger(N) || N < 2 || N > COST_MAX || r !== R || p !== P) return false;
  const salt = Buffer.from(parts[4], 'base64url');
  const expected = Buffer.from(parts[5], 'base64url');
  if (expected.length !== KEY_BYTES) return false;
  const key = await scrypt(password, salt, { N, r, p });
  return timingSafeEqual(key, expected);
}

/**
 * A hash to verify against when the username does not exist, so an unknown name costs the same time as a wrong
 * password and the answer time does not reveal which usernames exist.
 */
export async function dummyHash(cost: number): Promise<string> {
  return hashPassword(randomBytes(16).toString('hex'), cost);
}
