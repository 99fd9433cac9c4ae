import { WebSocket } from 'ws';

/**
 * The server's WebSocket class, which records the close code the server
 * sent. The `close` event reports the code the client sent back instead, or
 * 1006 when the connection ended without a close frame, which is how it ends
 * after ws rejects an oversized message with 1009.
 */
export class ServerSocket extends WebSocket {
  /** The close code this server sent first; undefined while it sent none. */
  sentCloseCode: number | undefined;

  override close(code?: number, data?: string | Buffer): void {
    // Without a code, the close frame carries no status, which the peer reports as 1005.
    this.sentCloseCode ??= code ?? 1005;
    super.close(code, data);
  }
}
