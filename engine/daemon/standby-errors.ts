// The failures of the standby election and the divergence check: each stops the daemon with a stable code.

/** Stable codes of the standby's failures (never reused). */
export type StandbyErrorCode =
  | 'ENGINE_STANDBY_DIVERGED' // a computed event differs from the published event with the same seq
  | 'ENGINE_STANDBY_BACKLOG_LOST' // promotion needs computed events the check no longer holds
  | 'ENGINE_LEASE_LOST'; // the writer's lease ran out or was taken: it stops writing and exits

export class StandbyError extends Error {
  override readonly name = 'StandbyError';
  /** The daemon exits on it: a restart rebuilds from the logs (daemon/log.ts isFatalLogError). */
  readonly fatal = true;
  constructor(
    readonly code: StandbyErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}
