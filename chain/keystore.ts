// The master mnemonic at rest: encrypted with AES-256-GCM under a key derived from the operator's passphrase with
// scrypt. The file is versioned JSON carrying its KDF parameters, so they can be raised later without breaking
// old files. The header (version, KDF, salt, IV) is authenticated as GCM additional data, and a separate check
// value (HMAC under a second derived key) tells a wrong passphrase apart from a tampered ciphertext.

import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  randomBytes,
  scrypt as scryptCb,
  timingSafeEqual,
} from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import * as bip39 from 'bip39';
import { ChainError } from './errors.js';

export const KEYSTORE_VERSION = 1 as const;

export interface ScryptParams {
  /** CPU/memory cost, a power of two. Memory used is 128 * N * r bytes. */
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

export interface KeystoreFile {
  readonly version: typeof KEYSTORE_VERSION;
  readonly kdf: 'scrypt';
  readonly kdfParams: ScryptParams;
  readonly salt: string;
  readonly cipher: 'aes-256-gcm';
  readonly iv: string;
  readonly tag: string;
  readonly ciphertext: string;
  readonly check: string;
}

/** 2^17: about 0.3 s and 128 MiB per unlock; paid once at start. */
export const SCRYPT_DEFAULT: ScryptParams = { N: 1 << 17, r: 8, p: 1 };
// A file may not make us burn unbounded memory or time: reject parameters past these.
const SCRYPT_N_MAX = 1 << 20;
const SCRYPT_N_MIN = 1 << 10;
export const PASSPHRASE_LENGTH_MIN = 12;

function scrypt(passphrase: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const maxmem = 128 * params.N * params.r * 2 + 1024 * 1024;
  return new Promise((resolve, reject) => {
    scryptCb(passphrase.normalize('NFKC'), salt, 64, { N: params.N, r: params.r, p: params.p, maxmem }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

function header(k: Pick<KeystoreFile, 'version' | 'kdf' | 'kdfParams' | 'salt' | 'cipher' | 'iv'>): Buffer {
  return Buffer.from(
    JSON.stringify([k.version, k.kdf, k.kdfParams.N, k.kdfParams.r, k.kdfParams.p, k.salt, k.cipher, k.iv]),
  );
}

function checkValue(macKey: Buffer): Buffer {
  return createHmac('sha256', macKey).update('exchange-core keystore passphrase check v1').digest();
}

export async function encryptMnemonic(
  mnemonic: string,
  passphrase: string,
  params: ScryptParams = SCRYPT_DEFAULT,
): Promise<KeystoreFile> {
  if (!bip39.validateMnemonic(mnemonic)) throw new ChainError('KEYSTORE_BAD_MNEMONIC', 'not a valid BIP-39 mnemonic');
  if (passphrase.length < PASSPHRASE_LENGTH_MIN)
    throw new ChainError(
      'KEYSTORE_WEAK_PASSPHRASE',
      `the passphrase must have at least ${PASSPHRASE_LENGTH_MIN} characters`,
    );
  checkParams(params);
  const salt = randomBytes(32);
  const iv = randomBytes(12);
  const key = await scrypt(passphrase, salt, params);
  const base = {
    version: KEYSTORE_VERSION,
    kdf: 'scrypt' as const,
    kdfParams: { N: params.N, r: params.r, p: params.p },
    salt: salt.toString('hex'),
    cipher: 'aes-256-gcm' as const,
    iv: iv.toString('hex'),
  };
  const cipher = createCipheriv('aes-256-gcm', key.subarray(0, 32), iv);
  cipher.setAAD(header(base));
  const ciphertext = Buffer.concat([cipher.update(mnemonic, 'utf8'), cipher.final()]);
  return {
    ...base,
    tag: cipher.getAuthTag().toString('hex'),
    ciphertext: ciphertext.toString('hex'),
    check: checkValue(key.subarray(32)).toString('hex'),
  };
}

export async function decryptMnemonic(file: unknown, passphrase: string): Promise<string> {
  const k = parseKeystore(file);
  const key = await scrypt(passphrase, Buffer.from(k.salt, 'hex'), k.kdfParams);
  const check = Buffer.from(k.check, 'hex');
  const expected = checkValue(key.subarray(32));
  if (check.length !== expected.length || !timingSafeEqual(check, expected)) {
    throw new ChainError(
      'KEYSTORE_WRONG_PASSPHRASE',
      'wrong passphrase (or the key derivation header of the file was altered)',
    );
  }
  let mnemonic: string;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.subarray(0, 32), Buffer.from(k.iv, 'hex'));
    decipher.setAAD(header(k));
    decipher.setAuthTag(Buffer.from(k.tag, 'hex'));
    mnemonic = Buffer.concat([decipher.update(Buffer.from(k.ciphertext, 'hex')), decipher.final()]).toString('utf8');
  } catch {
    throw new ChainError('KEYSTORE_TAMPERED', 'the keystore failed authentication: the file was altered or corrupted');
  }
  if (!bip39.validateMnemonic(mnemonic))
    throw new ChainError('KEYSTORE_TAMPERED', 'the decrypted secret is not a valid mnemonic');
  return mnemonic;
}

const HEX = /^[0-9a-f]*$/;

function parseKeystore(file: unknown): KeystoreFile {
  const bad = (what: string): never => {
    throw new ChainError('KEYSTORE_MALFORMED', `keystore file: ${what}`);
  };
  if (typeof file !== 'object' || file === null) return bad('not a JSON object');
  const k = file as Record<string, unknown>;
  if (k.version !== KEYSTORE_VERSION)
    throw new ChainError(
      'KEYSTORE_UNSUPPORTED_VERSION',
      `keystore version ${JSON.stringify(k.version)} is not supported (expected ${KEYSTORE_VERSION})`,
    );
  if (k.kdf !== 'scrypt') bad('kdf must be "scrypt"');
  if (k.cipher !== 'aes-256-gcm') bad('cipher must be "aes-256-gcm"');
  const p = k.kdfParams as Record<string, unknown> | undefined;
  if (typeof p !== 'object' || p === null) return bad('kdfParams missing');
  for (const f of ['N', 'r', 'p'] as const) if (!Number.isSafeInteger(p[f])) bad(`kdfParams.${f} must be an integer`);
  checkParams(p as unknown as ScryptParams);
  const hexLen: Record<string, number | undefined> = { salt: 64, iv: 24, tag: 32, check: 64, ciphertext: undefined };
  for (const [f, len] of Object.entries(hexLen)) {
    const v = k[f];
    if (typeof v !== 'string' || !HEX.test(v) || v.length % 2 !== 0 || (len !== undefined && v.length !== len))
      bad(`${f} must be hex${len ? ` of ${len} digits` : ''}`);
  }
  return k as unknown as KeystoreFile;
}

function checkParams(p: ScryptParams): void {
  const pow2 = p.N > 0 && (p.N & (p.N - 1)) === 0;
  if (!pow2 || p.N < SCRYPT_N_MIN || p.N > SCRYPT_N_MAX)
    throw new ChainError('KEYSTORE_MALFORMED', `scrypt N must be a power of two in [${SCRYPT_N_MIN}, ${SCRYPT_N_MAX}]`);
  if (p.r < 1 || p.r > 32 || p.p < 1 || p.p > 16)
    throw new ChainError('KEYSTORE_MALFORMED', 'scrypt r must be in [1, 32] and p in [1, 16]');
}

/** Writes a new keystore; never replaces an existing file (the only copy of a mnemonic must not be lost). */
export async function writeKeystoreFile(path: string, k: KeystoreFile): Promise<void> {
  try {
    await writeFile(path, JSON.stringify(k, null, 2) + '\n', { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST')
      throw new ChainError('KEYSTORE_EXISTS', `${path} exists; refusing to overwrite a keystore`);
    throw err;
  }
}

export async function readKeystoreFile(path: string, passphrase: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new ChainError('KEYSTORE_NOT_FOUND', `${path} does not exist (create it with npm run keys:init)`);
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ChainError('KEYSTORE_MALFORMED', `${path} is not JSON`);
  }
  return decryptMnemonic(json, passphrase);
}

/**
 * The passphrase from KEYSTORE_PASSPHRASE_FILE (a mounted secret; trailing newline dropped) or
 * KEYSTORE_PASSPHRASE. Both set is refused: which one wins would be a guess.
 */
export async function passphraseFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const file = env.KEYSTORE_PASSPHRASE_FILE;
  const inline = env.KEYSTORE_PASSPHRASE;
  if (file !== undefined && file !== '' && inline !== undefined && inline !== '') {
    throw new ChainError('KEYSTORE_NO_PASSPHRASE', 'set KEYSTORE_PASSPHRASE or KEYSTORE_PASSPHRASE_FILE, not both');
  }
  if (file !== undefined && file !== '') return (await readFile(file, 'utf8')).replace(/\r?\n$/, '');
  if (inline !== undefined && inline !== '') return inline;
  throw new ChainError(
    'KEYSTORE_NO_PASSPHRASE',
    'no passphrase: set KEYSTORE_PASSPHRASE_FILE (preferred) or KEYSTORE_PASSPHRASE',
  );
}
