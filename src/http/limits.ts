import type { IncomingMessage, ServerResponse } from 'node:http';
import type { WebSocket } from 'ws';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { GraphQLError, NoSchemaIntrospectionCustomRule, type ValidationContext } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Limits } from '../config.js';
import type { Logger } from '../observability/logger.js';

/** The GraphQL document limits, as graphql-armor checks them, with the setting that raises each. */
const documentLimits = [
  { pattern: /Query depth limit of (\d+) exceeded, found (\d+)/, what: 'depth', setting: 'GRAPHQL_MAX_DEPTH' },
  { pattern: /Query Cost limit of (\d+) exceeded, found (\d+)/, what: 'cost', setting: 'GRAPHQL_MAX_COST' },
  { pattern: /Aliases limit of (\d+) exceeded, found (\d+)/, what: 'number of aliases', setting: 'GRAPHQL_MAX_ALIASES' },
  { pattern: /Directives limit of (\d+) exceeded, found (\d+)/, what: 'number of directives', setting: 'GRAPHQL_MAX_DIRECTIVES' },
  { pattern: /Token limit of (\d+) exceeded/, what: 'number of tokens', setting: 'GRAPHQL_MAX_TOKENS' },
];

/**
 * Rewrites a graphql-armor rejection as an error that names the limit, the
 * operation's value, the setting and what to do, with the code
 * OPERATION_TOO_COMPLEX. Returns other errors unchanged.
 */
export function explainLimitError<T extends Error>(error: T): T | GraphQLError {
  if (!(error instanceof GraphQLError)) return error;
  for (const limit of documentLimits) {
    const match = limit.pattern.exec(error.message);
    if (!match) continue;
    const [, max, found] = match;
    const measured = found ? `is ${found}` : `is over ${max}`;
    return new GraphQLError(
      `The operation's ${limit.what} ${measured}; the limit is ${max} (${limit.setting}). Split or simplify the operation, or raise ${limit.setting} on the server.`,
      { nodes: error.nodes, extensions: { code: 'OPERATION_TOO_COMPLEX', limit: limit.setting, max: Number(max), ...(found ? { found: Number(found) } : {}) } },
    );
  }
  return error;
}

/**
 * Envelop plugins that bound a GraphQL document before it runs: depth, cost,
 * aliases, directives and tokens (graphql-armor), with errors from
 * explainLimitError. Depth and cost leave introspection out, because
 * GraphiQL's introspection query nests deeper than any operation on boards.
 * Field suggestions ("Did you mean ...?") are hidden in production only.
 */
export function useDocumentLimits(limits: Limits, production: boolean): Plugin[] {
  // The validation rules report their error as a validation error, as
  // GraphQL's own rules do, instead of throwing it.
  const report = { propagateOnRejection: false, onReject: [(context: ValidationContext | null, error: GraphQLError) => context?.reportError(explainLimitError(error))] };
  return [
    EnvelopArmorPlugin({
      maxDepth: { n: limits.depth, ...report },
      // A depth factor of 1 makes the cost the size of the selection, objects counting 2 and
      // scalars 1. The default factor of 1.5 per level put an ordinary board query in the billions.
      costLimit: { maxCost: limits.cost, depthCostFactor: 1, ...report },
      maxAliases: { n: limits.aliases, ...report },
      maxDirectives: { n: limits.directives, ...report },
      maxTokens: { n: limits.tokens },
      blockFieldSuggestion: { enabled: production },
    }) as Plugin,
    {
      // The token limit is checked while parsing and throws.
      onParse: () => ({ result, replaceParseResult }) => {
        if (result instanceof GraphQLError) replaceParseResult(explainLimitError(result));
      },
      onValidate: () => ({ result, setResult }) => {
        if (result.some(isValidationAborted)) setResult(result.map((error) => (isValidationAborted(error) ? validationAbortedError(error) : error)));
      },
    },
  ];
}

/**
 * Returns true for graphql-js 16's bare "Validation aborted.", which its
 * overlapping-fields rule raises when comparing a selection's fields
 * exceeds an internal work budget, as a thousand copies of one field do.
 */
function isValidationAborted(error: Error): error is GraphQLError {
  return error instanceof GraphQLError && error.message === 'Validation aborted.';
}

function validationAbortedError(error: GraphQLError): GraphQLError {
  return new GraphQLError(
    'The operation repeats the same fields so often that the server stopped checking whether they can be merged. Select each field once per selection set, or split the operation.',
    { nodes: error.nodes, extensions: { code: 'OPERATION_TOO_COMPLEX' } },
  );
}

/** Thrown by readBody for a body over the limit. */
export class BodyTooLargeError extends Error {
  override name = 'BodyTooLargeError';
}

/**
 * Reads a request's whole body, up to `maxBytes`.
 *
 * @throws BodyTooLargeError as soon as the declared length or the bytes received pass `maxBytes`.
 */
export async function readBody(request: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length']);
  if (declared > maxBytes) throw new BodyTooLargeError(`The request body is ${declared} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new BodyTooLargeError(`The request body is over ${maxBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * Sends one error in the GraphQL over HTTP shape, for requests refused
 * before Yoga sees them, and closes the connection afterwards.
 */
export function sendError(response: ServerResponse, status: number, error: { message: string; extensions: Record<string, unknown> }, headers: Record<string, string> = {}): void {
  const body = JSON.stringify({ errors: [error] });
  response.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', connection: 'close', 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

/** Sends 413; the closed connection spares reading the rest of the body. */
export function sendBodyTooLarge(response: ServerResponse, error: BodyTooLargeError, maxBytes: number): void {
  sendError(response, 413, {
    message: `${error.message}; the limit is ${maxBytes} bytes (HTTP_MAX_BODY_BYTES). Send a smaller document or fewer variables.`,
    extensions: { code: 'PAYLOAD_TOO_LARGE', limit: 'HTTP_MAX_BODY_BYTES', max: maxBytes },
  });
}

/**
 * Logs a WebSocket message over WS_MAX_MESSAGE_BYTES as what it is, a
 * client's mistake. ws closes such a socket with 1009 by itself, then emits
 * an error that graphql-ws would print to stderr as an internal error. Also
 * closes a socket with 4400 when its client sends a message type that only
 * a server sends.
 */
export function guardSocketMessages(socket: WebSocket, logger: Logger, maxBytes: number): void {
  const emit = socket.emit.bind(socket);
  socket.emit = ((event: string | symbol, ...args: unknown[]) => {
    if (event === 'error' && (args[0] as { code?: string })?.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
      logger.info({ limit: maxBytes }, 'WebSocket message over WS_MAX_MESSAGE_BYTES; closed the socket with 1009');
      return true;
    }
    if (event === 'message') {
      // graphql-ws closes with 4500 (internal error) for a message only a
      // server sends, such as `next`, so the client would retry its mistake.
      // It is a malformed message, so it gets 4400 instead.
      const message = parseMessage(args[0]);
      if (message?.type !== undefined && serverOnlyTypes.has(message.type)) {
        socket.close(4400, `Invalid message: a client does not send ${message.type} messages.`);
        return true;
      }
      // graphql-ws would close with a bare "Invalid message received".
      if (message?.type === 'connection_init' && message.payload != null && typeof message.payload !== 'object') {
        socket.close(4400, 'Invalid connection_init: payload must be an object, such as {"authorization": "Bearer <token>"}.');
        return true;
      }
    }
    return emit(event, ...args);
  }) as WebSocket['emit'];
}

/** Message types of the graphql-transport-ws protocol that only a server sends. */
const serverOnlyTypes = new Set(['connection_ack', 'next', 'error']);

/** Returns a message's type and payload, or undefined when it is not a JSON object with a string type. */
function parseMessage(data: unknown): { type: string; payload?: unknown } | undefined {
  try {
    const parsed = JSON.parse(String(data)) as { type?: unknown; payload?: unknown };
    return typeof parsed?.type === 'string' ? { type: parsed.type, payload: parsed.payload } : undefined;
  } catch {
    return undefined;
  }
}


/** Envelop plugin that rejects introspection (`__schema`, `__type`) as a validation error; used when INTROSPECTION is off. */
export function useNoIntrospection(): Plugin {
  return {
    onValidate: ({ addValidationRule }) => addValidationRule(NoSchemaIntrospectionCustomRule),
  };
}

/**
 * Returns whether a browser page at `origin` may call the API: it is listed in
 * CORS_ORIGINS (or the list contains `*`), or it is the server's own origin.
 * A request without an Origin header does not come from a page and passes.
 */
export function originAllowed(origin: string | undefined, host: string | undefined, allowed: string[]): boolean {
  if (!origin) return true;
  if (allowed.includes('*') || allowed.includes(origin)) return true;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}
