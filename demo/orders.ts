// Placing an order in the demo and reading what happened to it: the placement's answer carries the engine's
// result (status, fills, fees). When that result did not come within the gateway's time limit (202, "unknown"),
// the order is looked up by its client order id once persistence has it, so a slow machine does not fail the demo.

import { randomBytes } from 'node:crypto';
import { parseUnits } from 'ethers';
import type { Api } from './client.js';
import { say, waitFor } from './client.js';

export interface OrderBody {
  marketId: number;
  side: 'buy' | 'sell';
  orderType: 'limit' | 'market';
  price?: string;
  quantity: string;
}

interface Fill {
  price: string;
  quantity: string;
  fee: string;
  liquidity: 'maker' | 'taker';
}
interface Placed {
  status: 'accepted' | 'unknown';
  orderId: number | null;
  orderStatus: string | null;
  filledQuantity: string | null;
  fills: Fill[];
}
interface OrderView {
  orderId: number;
  status: string;
  filledQuantity: string;
  feesPaid: string;
}

/** The order after its placement command, amounts in base units (filled: base asset; fees: quote asset). */
export interface Outcome {
  readonly orderId: number;
  readonly status: string;
  readonly filled: bigint;
  readonly feesPaid: bigint;
}

const LOOKUP_TIMEOUT_MS = 60_000;

export async function placeOrder(
  api: Api,
  who: string,
  body: OrderBody,
  d: { base: number; quote: number },
): Promise<Outcome> {
  const clientOrderId = `demo-${randomBytes(6).toString('hex')}`;
  const what = `${body.orderType} ${body.side} ${body.quantity}${body.price === undefined ? '' : ` @ ${body.price}`}`;
  const placed = await api.post<Placed>('/v1/orders', { ...body, clientOrderId }, [201, 202]);
  if (placed.status === 'accepted' && placed.orderId !== null && placed.orderStatus !== null) {
    say(`  ${who} places a ${what}: order ${placed.orderId}, ${placed.orderStatus}`);
    for (const f of placed.fills) say(`    fill: ${f.quantity} @ ${f.price} as ${f.liquidity}, fee ${f.fee}`);
    const feesPaid = placed.fills.reduce((sum, f) => sum + parseUnits(f.fee, d.quote), 0n);
    return {
      orderId: placed.orderId,
      status: placed.orderStatus,
      filled: parseUnits(placed.filledQuantity ?? '0', d.base),
      feesPaid,
    };
  }
  say(`  ${who} places a ${what}: the result did not come in time; looking the order up by its client order id`);
  const view = await waitFor(
    `order ${clientOrderId}`,
    async () => {
      try {
        return await api.get<OrderView>(`/v1/orders/by-client-id/${clientOrderId}`);
      } catch {
        return null;
      }
    },
    LOOKUP_TIMEOUT_MS,
  );
  say(`  order ${view.orderId}: ${view.status}, filled ${view.filledQuantity}, fees ${view.feesPaid}`);
  return {
    orderId: view.orderId,
    status: view.status,
    filled: parseUnits(view.filledQuantity, d.base),
    feesPaid: parseUnits(view.feesPaid, d.quote),
  };
}
