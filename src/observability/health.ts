import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Services } from '../domain/services.js';

/**
 * Responds to `/health` (the process is up: always 200) and `/ready` (200
 * when the database responds and the bus can deliver, else 503 naming what
 * is down, and 503 once the server is stopping). Returns false for other paths.
 */
export async function serveHealth(request: IncomingMessage, response: ServerResponse, services: Services, stopping: () => boolean = () => false): Promise<boolean> {
  const path = (request.url ?? '').split('?')[0];
  if (path === '/health') {
    send(response, 200, { status: 'ok' });
    return true;
  }
  if (path !== '/ready') return false;
  if (stopping()) {
    send(response, 503, { status: 'stopping' });
    return true;
  }

  const checks: Record<string, 'ok' | string> = {};
  try {
    await services.db.$queryRawUnsafe('SELECT 1');
    checks.database = 'ok';
  } catch (error) {
    checks.database = `unreachable: ${(error as Error).message}`;
    services.logger.warn({ err: error }, 'readiness check: database unreachable');
  }
  checks.bus = services.bus.healthy() ? 'ok' : 'disconnected: events are logged and delivered once it is back';
  const ready = Object.values(checks).every((value) => value === 'ok');
  send(response, ready ? 200 : 503, { status: ready ? 'ready' : 'degraded', checks });
  return true;
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
}
