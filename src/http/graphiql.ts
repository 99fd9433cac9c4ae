import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { renderGraphiQL, type GraphiQLOptions } from 'graphql-yoga';

/** URL prefix under which GraphiQL's scripts, styles and editor workers are served. */
export const graphiqlAssetsPath = '/graphiql-assets/';

const require = createRequire(import.meta.url);
const assetsDir = path.join(path.dirname(require.resolve('@graphql-yoga/graphiql/package.json')), 'dist');

const contentTypes: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/**
 * Renders Yoga's GraphiQL page with its assets served by this server rather
 * than a CDN, so GraphiQL works on machines without internet access.
 */
export function renderLocalGraphiQL(options: GraphiQLOptions): string {
  // Yoga's GraphiQL page opens with the untyped option `query` and ignores `defaultQuery`.
  return renderGraphiQL({ ...options, query: options.defaultQuery } as GraphiQLOptions)
    .replace(/https:\/\/unpkg\.com\/@graphql-yoga\/graphiql@[^/]+\/dist\//g, graphiqlAssetsPath)
    // An empty icon, so the browser does not ask for /favicon.ico.
    .replace(/<link rel=icon [^>]*>/, '<link rel=icon href="data:,">');
}

/**
 * Serves a file of the GraphiQL bundle. Returns false when the request is not
 * for an asset; responds 404 to names outside the bundle.
 */
export function serveGraphiQLAsset(request: IncomingMessage, response: ServerResponse): boolean {
  const url = request.url ?? '';
  if (!url.startsWith(graphiqlAssetsPath)) return false;
  const name = decodeURIComponent(url.slice(graphiqlAssetsPath.length).split('?')[0]!);
  const file = path.resolve(assetsDir, name);
  const type = contentTypes[path.extname(file)];
  if (!file.startsWith(assetsDir + path.sep) || !type || !fs.existsSync(file)) {
    response.writeHead(404, { 'content-type': 'text/plain' }).end(`No GraphiQL asset named ${name}.\n`);
    return true;
  }
  response.writeHead(200, { 'content-type': type, 'cache-control': 'public, max-age=86400' });
  fs.createReadStream(file).pipe(response);
  return true;
}
