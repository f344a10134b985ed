// The demo's view of the exchange: its public REST API over fetch, as any client would use it, plus the checks
// and the readable output of the walkthrough. Amounts are compared exactly: decimal strings are parsed into
// bigint base units with the asset's decimals (ethers' parseUnits is exact), never into floating point.

import { parseUnits } from 'ethers';

/** A step that does not hold: the demo prints it and exits 1. */
export class DemoFailure extends Error {}

export function check(condition: boolean, what: string): void {
  if (!condition) throw new DemoFailure(what);
  say(`  ok   ${what}`);
}

export function say(line: string): void {
  process.stdout.write(line + '\n');
}

export function step(n: number, title: string): void {
  say(`\n${n}. ${title}`);
}

/** An answer other than the expected status, with the API's `{ code, message }`. */
export class ApiError extends DemoFailure {
  constructor(
    readonly status: number,
    readonly body: unknown,
    what: string,
  ) {
    super(`${what}: HTTP ${status} ${JSON.stringify(body)}`);
  }
}

const REQUEST_TIMEOUT_MS = 30_000;

export class Api {
  constructor(
    readonly baseUrl: string,
    private readonly token: string | null = null,
  ) {}

  as(token: string): Api {
    return new Api(this.baseUrl, token);
  }

  /** `expect`: the status the step needs; any other is a failure naming the call. */
  async call<T>(
    method: string,
    path: string,
    body?: unknown,
    expect: number | readonly number[] = [200, 201],
  ): Promise<T> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.token !== null) headers.authorization = `Bearer ${this.token}`;
    const res = await fetch(this.baseUrl + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await res.text();
    const parsed: unknown = text === '' ? null : JSON.parse(text);
    if (![expect].flat().includes(res.status)) throw new ApiError(res.status, parsed, `${method} ${path}`);
    return parsed as T;
  }

  get<T>(path: string): Promise<T> {
    return this.call<T>('GET', path, undefined, 200);
  }

  post<T>(path: string, body: unknown, expect: number | readonly number[] = [200, 201]): Promise<T> {
    return this.call<T>('POST', path, body, expect);
  }
}

export interface BalanceRow {
  asset: string;
  available: string;
  held: string;
  pending: string;
}

/** Balances in base units, per asset symbol; an asset without a row is all zero. */
export type Balances = Map<string, { available: bigint; held: bigint; pending: bigint }>;

export async function balances(api: Api, decimals: ReadonlyMap<string, number>): Promise<Balances> {
  const { balances: rows } = await api.get<{ balances: BalanceRow[] }>('/v1/balances');
  const out: Balances = new Map();
  for (const r of rows) {
    const d = decimals.get(r.asset);
    if (d === undefined) throw new DemoFailure(`GET /v1/balances names an asset /v1/assets does not: ${r.asset}`);
    out.set(r.asset, {
      available: parseUnits(r.available, d),
      held: parseUnits(r.held, d),
      pending: parseUnits(r.pending, d),
    });
  }
  return out;
}

/** Polls `probe` until it returns a value (not null) or `timeoutMs` passes; then the failure names `what`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | null>,
  timeoutMs: number,
  intervalMs = 500,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== null) return v;
    if (Date.now() > deadline) throw new DemoFailure(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
