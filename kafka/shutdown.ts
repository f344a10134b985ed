// Bounded shutdown: kafkajs can wait a long time on connections left over from a broker restart, and a stop must end.

/** How long a stop waits for a Kafka client to disconnect (after a broker restart kafkajs can wait much longer). */
export const DISCONNECT_TIMEOUT_MS = 10_000;

/** Waits for `work` at most `timeoutMs`; errors and time-outs are swallowed (used only on the way out). */
export async function bounded(work: Promise<void> | undefined, timeoutMs: number): Promise<void> {
  if (work === undefined) return;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
  await Promise.race([work.catch(() => undefined), timeout]);
  clearTimeout(timer);
}
