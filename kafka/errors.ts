// Errors of the events topic's readers, each with a stable code (never reused). docs/events-topic.md's table lists
// the same codes with the same meanings (test/kafka/errors-docs.test.ts).

/** Every code with what it means. */
export const EVENTS_ERROR_CODES = {
  EVENTS_SEQ_GAP: 'a record starts after the next expected seq: events are missing',
  EVENTS_BAD_RECORD:
    'a record that is not a run of consecutive v1 events: not JSON, another envelope, an unknown event type, a seq out of order',
} as const;

export type EventStreamErrorCode = keyof typeof EVENTS_ERROR_CODES;

export class EventStreamError extends Error {
  override readonly name = 'EventStreamError';
  constructor(
    readonly code: EventStreamErrorCode,
    message: string,
    /** Offset of the record in the topic. */
    readonly offset: number,
  ) {
    super(message);
  }
}
