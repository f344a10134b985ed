// One WebSocket to /v1/ws for the whole page: channels are subscribed by whoever needs them and re-subscribed
// after every reconnect (backoff 0.5 s doubling to 10 s). The session cookie authenticates it, so the `user`
// channel works once signed in; restart() reconnects after signing in or out.

import { Store } from './store.js';

export type StreamStatus = 'connecting' | 'live' | 'reconnecting';
export type Message = Record<string, unknown> & { type: string; channel?: string };
type Handler = (m: Message) => void;

const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 10_000;

export class Stream {
  readonly status = new Store<StreamStatus>('connecting');
  private socket: WebSocket | null = null;
  private readonly handlers = new Map<string, Set<Handler>>();
  private backoffMs = BACKOFF_MIN_MS;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private nextId = 1;

  connect(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/v1/ws`;
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.onopen = () => {
      this.backoffMs = BACKOFF_MIN_MS;
      this.status.set('live');
      for (const channel of this.handlers.keys()) this.send({ op: 'subscribe', channel });
    };
    socket.onmessage = (e) => this.dispatch(e.data);
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.status.set('reconnecting');
      // Every channel starts over on the new connection (a depth book takes its new snapshot).
      for (const [channel, set] of this.handlers) for (const h of set) h({ type: 'disconnected', channel });
      this.timer = setTimeout(() => this.connect(), this.backoffMs);
      this.backoffMs = Math.min(BACKOFF_MAX_MS, this.backoffMs * 2);
    };
  }

  /** Reconnect now (the session changed): the new connection authenticates with the current cookie. */
  restart(): void {
    const old = this.socket;
    this.socket = null;
    old?.close();
    this.connect();
  }

  subscribe(channel: string, handler: Handler): () => void {
    let set = this.handlers.get(channel);
    if (set === undefined) {
      set = new Set();
      this.handlers.set(channel, set);
      this.send({ op: 'subscribe', channel });
    }
    set.add(handler);
    return () => {
      const s = this.handlers.get(channel);
      if (s === undefined) return;
      s.delete(handler);
      if (s.size === 0) {
        this.handlers.delete(channel);
        this.send({ op: 'unsubscribe', channel });
      }
    };
  }

  /** Subscribes again (a depth book that saw a gap asks for a fresh snapshot this way). */
  resubscribe(channel: string): void {
    this.send({ op: 'unsubscribe', channel });
    this.send({ op: 'subscribe', channel });
  }

  private send(msg: Record<string, unknown>): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify({ ...msg, id: this.nextId++ }));
  }

  private dispatch(data: unknown): void {
    if (typeof data !== 'string') return;
    let msg: Message;
    try {
      msg = JSON.parse(data) as Message;
    } catch {
      return;
    }
    const channel = msg.channel;
    if (typeof channel !== 'string') return;
    for (const h of this.handlers.get(channel) ?? []) h(msg);
  }
}

export const stream = new Stream();
