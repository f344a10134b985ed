// The engine core's public surface. Nothing here does I/O or reads a clock.
export * from './commands.js';
export * from './events.js';
export * from './codes.js';
export * from './config.js';
export { Engine } from './engine.js';
export type { ClientOrderRecord } from './engine.js';
export { UINT256_MAX } from './units.js';
export { snapshot, restore, SNAPSHOT_FORMAT } from './snapshot.js';
export { checkInvariants } from './invariants.js';
export { formatUnits, parseUnits } from './decimal.js';
