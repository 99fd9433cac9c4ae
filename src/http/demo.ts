import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Logger } from '../observability/logger.js';

/** URL path of the demo page. */
export const demoPath = '/app';

const sourceDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'demo');

/**
 * Only same-origin scripts, styles and connections: the page talks to this
 * server's /graphql over fetch and WebSocket and loads nothing else.
 */
const contentSecurityPolicy = "default-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * Serves the browser demo: a board page built on the SDK in `sdk/`. The
 * script is bundled from `src/demo/app.ts` with esbuild on its first
 * request and kept in memory, so there is no build step and no committed
 * bundle.
 */
export class DemoPage {
  private script: Promise<string> | undefined;

  constructor(private readonly logger: Logger) {}

  /** Serves `/`, `/app` and the demo's files; returns false for other paths. */
  async serve(request: IncomingMessage, response: ServerResponse): Promise<boolean> {
    const pathname = (request.url ?? '/').split('?')[0]!;
    if (pathname !== '/' && pathname !== demoPath && !pathname.startsWith(`${demoPath}/`)) return false;
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      send(request, response, 405, { 'content-type': 'text/plain; charset=utf-8', allow: 'GET, HEAD' }, `The demo page answers GET and HEAD only, not ${request.method}.\n`);
      return true;
    }
    if (pathname === '/') {
      send(request, response, 302, { location: `${demoPath}/`, 'content-type': 'text/plain; charset=utf-8' }, `The demo page is at ${demoPath}/; GraphQL is at /graphql.\n`);
      return true;
    }
    const file = pathname === demoPath || pathname === `${demoPath}/` ? 'index.html' : pathname.slice(demoPath.length + 1);
    switch (file) {
      case 'index.html':
        send(request, response, 200, htmlHeaders(), await fs.promises.readFile(path.join(sourceDir, 'index.html')));
        return true;
      case 'app.css':
        send(request, response, 200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'no-cache' }, await fs.promises.readFile(path.join(sourceDir, 'app.css')));
        return true;
      case 'app.js':
        try {
          send(request, response, 200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache' }, await this.bundle());
        } catch (error) {
          this.logger.error({ err: error }, 'could not bundle the demo page script');
          send(request, response, 500, { 'content-type': 'text/plain; charset=utf-8' }, 'The demo script could not be built; the server log says why.\n');
        }
        return true;
      default:
        send(request, response, 404, { 'content-type': 'text/plain; charset=utf-8' }, `The demo has no file named ${file}; open ${demoPath}/.\n`);
        return true;
    }
  }

  private bundle(): Promise<string> {
    this.script ??= build({
      entryPoints: [path.join(sourceDir, 'app.ts')],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      minify: true,
      legalComments: 'none',
      logLevel: 'silent',
    }).then(
      (result) => result.outputFiles[0]!.text,
      (error: unknown) => {
        // Forget the failure, so the next request tries again.
        this.script = undefined;
        throw error;
      },
    );
    return this.script;
  }
}

function htmlHeaders(): Record<string, string> {
  return {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-cache',
    'content-security-policy': contentSecurityPolicy,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };
}

function send(request: IncomingMessage, response: ServerResponse, status: number, headers: Record<string, string>, body: string | Buffer): void {
  response.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(body)) });
  response.end(request.method === 'HEAD' ? undefined : body);
}
