// Market data's own codes: only what the WebSocket protocol sends (HTTP errors come from the gateway's one factory,
// gateway/errors.ts). WebSocket errors are not HTTP answers: they travel in an `error` message on an open connection
// (the connection stays), or as the reason of a close frame. Prefixed MARKET_DATA_ so they never clash with the
// gateway's EX_ codes; a code is never reused for another meaning; docs/market-data.md lists them and
// test/gateway/market-data-docs.test.ts keeps the two in step.

export const WS_ERRORS = {
  MARKET_DATA_WS_BAD_MESSAGE: 'The message is not a JSON object of a known operation with valid fields.',
  MARKET_DATA_WS_MESSAGE_TOO_LARGE: 'The message is larger than the limit.',
  MARKET_DATA_WS_CHANNEL_UNKNOWN: 'No such channel (depth:<symbol>, trades:<symbol> or user).',
  MARKET_DATA_WS_UNAUTHENTICATED: 'The user channel needs a connection authenticated on its upgrade request.',
  MARKET_DATA_WS_TOO_MANY_SUBSCRIPTIONS: 'The connection has the maximum number of subscriptions.',
  MARKET_DATA_WS_RATE_LIMITED: 'Too many messages from this connection; it is closed when it goes on.',
  MARKET_DATA_WS_UNAVAILABLE: 'Market data is starting or resynchronising; subscribe again shortly.',
  MARKET_DATA_WS_RESYNC: 'The depth stream was rebuilt: a new snapshot follows, replace the book with it.',
} as const;

export type WsErrorCode = keyof typeof WS_ERRORS;

/** Close frames: code and reason. 4000-4999 is the range RFC 6455 leaves to applications. */
export const WS_CLOSE = {
  MARKET_DATA_WS_SLOW_CONSUMER: { code: 4000, reason: 'MARKET_DATA_WS_SLOW_CONSUMER: the send queue is full' },
  MARKET_DATA_WS_SHUTDOWN: { code: 4001, reason: 'MARKET_DATA_WS_SHUTDOWN: the gateway is stopping' },
  MARKET_DATA_WS_FLOOD: { code: 4002, reason: 'MARKET_DATA_WS_FLOOD: too many messages' },
} as const;

export type WsCloseCode = keyof typeof WS_CLOSE;
