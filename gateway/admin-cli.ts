// `npm run admin -- <command>`: operator accounts, from the command line only (no route creates, disables or resets
// an operator). Needs DATABASE_URL and GATEWAY_SECRET_KEY (the gateway's: it seals the TOTP secret).
//   create-operator --name NAME --role viewer|operator|admin [--password-stdin]
//   reset-operator --name NAME [--password-stdin]    new password and TOTP secret, sessions ended, enabled again
//   disable-operator --name NAME                     no more logins, sessions ended now
//   list-operators
// create and reset print the password (generated unless read from stdin) and the TOTP enrolment (otpauth:// URI and
// a QR code to scan) once: pass them to the operator over a safe channel. Exit 0 done, 1 refused, 2 bad usage.

import postgres from 'postgres';
import { AuditLog } from '../audit/log.js';
import { OperatorAccounts, OperatorError } from './auth/operators.js';
import type { OperatorEnrolment } from './auth/operators.js';
import { qrTerminal } from './auth/totp.js';
import { DEFAULT_OPTIONS, powerOfTwoVar, secretKeyVar } from './config.js';
import { requiredPostgresUrl } from '../config/env.js';
import { migrateGateway } from './migrate.js';

const USAGE =
  'usage: DATABASE_URL=... GATEWAY_SECRET_KEY=... npm run admin -- create-operator --name NAME --role viewer|operator|admin [--password-stdin]\n' +
  '       | reset-operator --name NAME [--password-stdin] | disable-operator --name NAME | list-operators';

function usage(message: string): never {
  process.stderr.write(`admin: ${message}\n${USAGE}\n`);
  process.exit(2);
}

interface Args {
  command: string;
  name?: string;
  role?: string;
  passwordStdin: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const [command, ...rest] = argv;
  if (command === undefined) usage('no command');
  const args: Args = { command, passwordStdin: false };
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i];
    if (flag === '--password-stdin') args.passwordStdin = true;
    else if (flag === '--name' || flag === '--role') {
      const value = rest[++i];
      if (value === undefined) usage(`${flag} needs a value`);
      args[flag === '--name' ? 'name' : 'role'] = value;
    } else usage(`unknown argument ${flag}`);
  }
  return args;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

async function printEnrolment(e: OperatorEnrolment, passwordGiven: boolean): Promise<void> {
  process.stdout.write(`operator ${e.name} (${e.role})\n`);
  if (!passwordGiven) process.stdout.write(`password: ${e.password}\n`);
  process.stdout.write(
    `TOTP (required at every login; add it to an authenticator app):\n${e.otpauthUri}\n${await qrTerminal(e.otpauthUri)}\n`,
  );
}

async function run(accounts: OperatorAccounts, a: Args): Promise<void> {
  const need = (v: string | undefined, flag: string): string => v ?? usage(`${a.command} needs ${flag}`);
  const password = a.passwordStdin ? await readStdin() : undefined;
  switch (a.command) {
    case 'create-operator':
      return printEnrolment(
        await accounts.create(need(a.name, '--name'), need(a.role, '--role'), password),
        password !== undefined,
      );
    case 'reset-operator':
      return printEnrolment(await accounts.reset(need(a.name, '--name'), password), password !== undefined);
    case 'disable-operator':
      await accounts.disable(need(a.name, '--name'));
      process.stdout.write(`operator ${a.name} disabled\n`);
      return;
    case 'list-operators':
      for (const o of await accounts.list()) process.stdout.write(`${JSON.stringify(o)}\n`);
      return;
    default:
      usage(`unknown command ${a.command}`);
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  let url: string;
  let secretKey: Buffer;
  let scryptCost: number;
  try {
    url = requiredPostgresUrl(process.env, 'DATABASE_URL');
    secretKey = secretKeyVar(process.env);
    scryptCost = powerOfTwoVar(process.env, 'GATEWAY_SCRYPT_COST', DEFAULT_OPTIONS.scryptCost);
  } catch (err) {
    usage((err as Error).message);
  }
  const sql = postgres(url, { max: 2, onnotice: () => {} });
  try {
    await migrateGateway(sql);
    await run(new OperatorAccounts({ sql, secretKey, scryptCost, audit: new AuditLog() }), args);
  } catch (err) {
    if (!(err instanceof OperatorError)) throw err;
    process.stderr.write(`admin: ${err.message}\n`);
    process.exitCode = 1;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`admin: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(2);
});
