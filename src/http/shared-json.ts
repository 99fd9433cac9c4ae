import type { ExecutionResult } from 'graphql';
import type { WebSocket } from 'ws';

/**
 * Serialises each subscription result once, however many WebSocket
 * subscribers receive it. Subscribers that share an execution get the same
 * result object, so its JSON is cached by identity. graphql-ws builds each
 * `next` message with JSON.stringify and our replacer, which puts a marker in
 * place of the payload. The socket's send then splices the cached JSON in.
 */

const resultJson = new WeakMap<object, string>();
// graphql-ws stringifies a message and hands it to send() in one synchronous
// step, so at most one marked message is ever in flight. When the socket is
// no longer open, graphql-ws skips send(); the next message overwrites the slot.
let marked: { marker: number; json: string } | undefined;
let nextMarker = 0;
// The marker can only match at the payload key: an operation id that
// contains the same text has its quotes escaped.
const markerPattern = /"payload":"\\u0000result:(\d+)"/;

/** Counts of result serialisations, for tests. */
export const serialisation = { results: 0 };

/** graphql-ws `jsonMessageReplacer`: replaces a `next` payload with a marker for its cached JSON. */
export function replaceResultWithMarker(this: unknown, key: string, value: unknown): unknown {
  const message = this as { type?: string } | undefined;
  if (key !== 'payload' || message?.type !== 'next' || typeof value !== 'object' || value === null) return value;
  // Layers above the execution may copy the result object, but a shared
  // execution's `data` object stays the same, so it is the cache key. A
  // result with errors is cached by its own identity.
  const marker = nextMarker++;
  marked = { marker, json: resultToJson(value as ExecutionResult) };
  return `\u0000result:${marker}`;
}

/** Returns the JSON of a result, serialising it only the first time any subscriber sends it. */
export function resultToJson(result: ExecutionResult): string {
  const cacheKey = !result.errors?.length && typeof result.data === 'object' && result.data !== null ? result.data : result;
  let json = resultJson.get(cacheKey);
  if (json === undefined) {
    json = JSON.stringify(result);
    serialisation.results += 1;
    resultJson.set(cacheKey, json);
  }
  return json;
}

/** Puts the cached JSON back in place of a marker; other messages pass unchanged. */
export function spliceResult(data: string): string {
  const match = markerPattern.exec(data);
  if (!match) return data;
  const slot = marked;
  if (slot?.marker !== Number(match[1])) return data;
  marked = undefined;
  const json = slot.json;
  return `${data.slice(0, match.index)}"payload":${json}${data.slice(match.index + match[0].length)}`;
}

/** Wraps a socket's send so that marked messages go out with their payload. */
export function spliceResultsOnSend(socket: WebSocket): void {
  const send = socket.send.bind(socket) as (data: unknown, ...rest: unknown[]) => void;
  socket.send = ((data: unknown, ...rest: unknown[]) => send(typeof data === 'string' ? spliceResult(data) : data, ...rest)) as WebSocket['send'];
}
