import type { Socket } from 'node:net';
import * as ws from 'ws';
import { WebSocket } from 'ws';
import type { ResultSink } from '../schema/push-delivery.js';
import { resultToJson } from './shared-json.js';

// ws 8 exports its frame builder, Sender, which @types/ws does not declare.
const { Sender } = ws as unknown as {
  Sender: { frame(data: Buffer, options: { fin: boolean; opcode: number; mask: boolean; readOnly: boolean; rsv1: boolean }): Buffer[] };
};
const textFrame = { fin: true, opcode: 1, mask: false, readOnly: false, rsv1: false };

/**
 * Frames of the result sent last, by subscription id. Push delivery sends
 * one result to all of its subscribers in one synchronous pass, and clients
 * often use the same ids ("1", "2" ...), so most subscribers reuse a frame.
 */
const frames = { json: '', byId: new Map<string, Buffer>() };
const maxFramesKept = 1_000;

/** Returns the WebSocket frame of a graphql-ws `next` message whose payload is `json`. */
function nextFrame(id: string, prefix: string, json: string): Buffer {
  if (frames.json !== json) {
    frames.json = json;
    frames.byId.clear();
  }
  let frame = frames.byId.get(id);
  if (!frame) {
    frame = Buffer.concat(Sender.frame(Buffer.from(`${prefix}${json}}`), textFrame));
    if (frames.byId.size < maxFramesKept) frames.byId.set(id, frame);
  }
  return frame;
}

/**
 * Creates the sink through which push delivery sends the results of
 * subscription `id` on `socket`: the `next` messages graphql-ws itself would
 * send, framed by ws's own frame builder and written to the TCP socket in
 * one write each.
 *
 * Writing to the TCP socket skips ws's send queue. That queue only contains
 * frames while ws compresses or reads a Blob. This server negotiates no
 * compression and graphql-ws sends strings, so nothing ever waits in it and
 * frames cannot interleave. A socket with an extension negotiated goes
 * through ws's send instead.
 */
export function nextMessageSink(socket: WebSocket, id: string): ResultSink {
  const prefix = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
  // NOTE: `_socket` is ws 8's private field for the TCP socket. The bench's ceiling server uses it too.
  const tcp = (socket as unknown as { _socket: Socket })._socket;
  const raw = socket.extensions === '';
  return {
    send(result, sent) {
      if (socket.readyState !== WebSocket.OPEN) return false;
      const json = resultToJson(result);
      if (raw) tcp.write(nextFrame(id, prefix, json), sent);
      else WebSocket.prototype.send.call(socket, `${prefix}${json}}`, { binary: false }, sent);
      return true;
    },
  };
}
