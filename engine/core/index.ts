// The engine core's public surface. Nothing here does I/O or reads a clock.
export * from './commands.js';
export * from './events.js';
export * from './codes.js';
export * from './config.js';
export * from './formats.js';
export { Engine } from './engine.js';
export type { ClientOrderRecord } from './engine.js';
export { UINT256_MAX } from './units.js';
export { snapshot, snapshotSlices, snapshotJson, restore, SNAPSHOT_FORMAT } from './snapshot.js';
export { checkInvariants } from './invariants.js';
export { formatUnits, parseUnits } from './decimal.js';
// Types of the book's internals, for tools that inspect queues (tools/lobster compares the engine's queues with a
// real feed's); only types: nothing outside engine/ imports the core's modules but this one.
export type { BookSide } from './book-side.js';
export type { Market, Order } from './order.js';
