// The JSON-RPC provider of the chain service: every call is answered within a timeout or retried, a bounded number
// of times, so a node that stops answering fails a step in seconds instead of holding it for ethers' default
// 300 s. Calls are not batched: one slow call must not take others with it.
// Retries are safe here: reads are idempotent, and a re-sent eth_sendRawTransaction is answered "already known"
// (chain/tx.ts treats that as sent; the receipt decides).

import { FetchRequest, JsonRpcProvider, Network } from 'ethers';
import type { JsonRpcPayload, JsonRpcResult } from 'ethers';

export interface RpcOptions {
  /** Each attempt's limit, in ms. */
  readonly timeoutMs: number;
  /** Attempts in all (1: no retry). */
  readonly attempts: number;
}

const RETRY_DELAY_MS_MAX = 2_000;

export class BoundedJsonRpcProvider extends JsonRpcProvider {
  private readonly attempts: number;
  /** Calls that failed to get an answer (timeout, connection) and were retried or given up. */
  transportFailures = 0;

  constructor(url: string, chainId: number, opts: RpcOptions & { pollingIntervalMs: number }) {
    const request = new FetchRequest(url);
    request.timeout = opts.timeoutMs;
    // cacheTimeout -1: ethers otherwise serves a repeated call (nonce, balance) from a 250 ms cache.
    super(request, Network.from(chainId), {
      staticNetwork: true,
      cacheTimeout: -1,
      pollingInterval: opts.pollingIntervalMs,
      batchMaxCount: 1,
    });
    this.attempts = opts.attempts;
  }

  override async _send(payload: JsonRpcPayload | JsonRpcPayload[]): Promise<JsonRpcResult[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await super._send(payload);
      } catch (err) {
        // Only transport failures throw here (a JSON-RPC error is an answer): the node did not answer in time.
        this.transportFailures++;
        if (attempt >= this.attempts || this.destroyed) throw err;
        await new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** (attempt - 1), RETRY_DELAY_MS_MAX)));
      }
    }
  }
}
