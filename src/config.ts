import { z } from 'zod';

/** Validated, typed settings. Every field comes from one environment variable. */
export interface Settings {
  /** TCP port for HTTP and WebSocket; 0 picks a free port. Default 4000. */
  port: number;
  /** Interface to listen on. Default `localhost`. */
  host: string;
  /**
   * `file:PATH` for SQLite (relative paths resolve from the working
   * directory) or `postgresql://USER:PASSWORD@HOST:PORT/DATABASE` for
   * PostgreSQL. Default `file:./data/tandem.db`.
   */
  databaseUrl: string;
  /** Most connections each instance opens to PostgreSQL. Default 10; SQLite ignores it. */
  databasePoolSize: number;
  /** HMAC secret for access tokens, at least 32 characters; generated in development when unset. */
  tokenSecret: string | undefined;
  /** pino level: fatal, error, warn, info, debug, trace or silent. Default `info`. */
  logLevel: LogLevel;
  /** `production` refuses to start without TOKEN_SECRET. Default `development`. */
  nodeEnv: 'development' | 'production' | 'test';
  /** Lifetime of an access token, in seconds. Default 900 (15 minutes). */
  accessTokenTtlSeconds: number;
  /** Lifetime of a refresh token (and so of a session without use), in seconds. Default 2,592,000 (30 days). */
  refreshTokenTtlSeconds: number;
  /** Serve GraphiQL at the GraphQL path for browsers. Default on outside production. */
  graphiql: boolean;
  /** Serve the browser demo at /app (and redirect / to it). Default on outside production. */
  demoApp: boolean;
  /** Whether schema introspection (`__schema`, `__type`) is served. Default on outside production. */
  introspection: boolean;
  /**
   * Origins allowed to call the API from a browser, over HTTP (CORS) and
   * WebSocket; `*` allows any. Requests without an Origin header are always
   * allowed. Default `*` outside production, none in production.
   */
  corsOrigins: string[];
  /** Events older than this are pruned from each board's log, in seconds. Default 604,800 (7 days). */
  eventRetentionSeconds: number;
  /** At most this many newest events are kept per board. Default 10,000. */
  eventRetentionCount: number;
  /**
   * Events a subscription may hold that its client has not yet taken. Past
   * it, the subscription ends with SLOW_CONSUMER. Default 1,000.
   */
  subscriptionQueueLimit: number;
  /**
   * Interval of WebSocket keepalive pings, in seconds. A client that misses a
   * pong is disconnected at the next ping, so a vanished client leaves
   * presence within twice this. Default 12.
   */
  keepAliveSeconds: number;
  /** How long a stop waits for requests in flight before it cuts them, in seconds. */
  shutdownGraceSeconds: number;
  /**
   * Mutations per user per window (MUTATION_RATE_LIMIT per
   * MUTATION_RATE_WINDOW_SECONDS), and failed sign-ins per account and per
   * address (SIGN_IN_FAILURE_LIMIT per SIGN_IN_FAILURE_WINDOW_SECONDS).
   */
  rateLimits: { mutations: number; mutationWindowSeconds: number; signInFailures: number; signInWindowSeconds: number };
  /** Bounds on what one request, socket or GraphQL document may use. */
  limits: Limits;
  /** `redis://` or `rediss://` URL of Redis; set, it carries events between instances. Default unset: the in-process bus. */
  redisUrl: string | undefined;
  /** Prefix of the Redis channel names. Default `tandem:`. */
  redisPrefix: string;
  /**
   * With Redis: a presence session whose instance stopped renewing it (the
   * instance crashed) leaves within this many seconds plus a third. Default 30.
   */
  presenceTtlSeconds: number;
  /**
   * Bearer token that `GET /metrics` requires, at least 16 characters
   * without spaces. Default unset: the metrics are served to anyone who
   * reaches the port.
   */
  metricsToken: string | undefined;
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** Resource limits; each is set by the environment variable named in its doc. */
export interface Limits {
  /** HTTP_MAX_BODY_BYTES: largest request body; a larger one gets 413. */
  httpBodyBytes: number;
  /** WS_MAX_MESSAGE_BYTES: largest WebSocket message; a larger one closes the socket with 1009. */
  socketMessageBytes: number;
  /** WS_INIT_TIMEOUT_SECONDS: time a new WebSocket has to send connection_init; after it, close 4408. */
  socketInitSeconds: number;
  /** WS_MAX_SUBSCRIPTIONS: operations open at once on one WebSocket; one more is refused with an error. */
  subscriptionsPerSocket: number;
  /** WS_MAX_CONNECTIONS_PER_USER: WebSockets one signed-in user may have open on one process; one more is closed with 1008. */
  socketsPerUser: number;
  /** GRAPHQL_MAX_DEPTH: deepest selection nesting of an operation. */
  depth: number;
  /**
   * GRAPHQL_MAX_COST: largest cost of an operation. Each scalar field counts
   * 1 and each object field 2, and a field with `first` or `last` counts its
   * whole selection that many times, as the number of objects it may return.
   */
  cost: number;
  /** GRAPHQL_MAX_ALIASES: aliases in one operation. */
  aliases: number;
  /** GRAPHQL_MAX_DIRECTIVES: directives in one operation. */
  directives: number;
  /** GRAPHQL_MAX_TOKENS: lexical tokens in one document. */
  tokens: number;
}

/** Thrown when an environment variable contains a value the server cannot use. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const integer = (min: number, max: number) =>
  z
    .string()
    .regex(/^-?\d+$/, { message: 'expected a whole number' })
    .transform(Number)
    .pipe(z.number().min(min, { message: `expected at least ${min}` }).max(max, { message: `expected at most ${max}` }));

const boolean = z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1');

/**
 * Environment variables, their expected form and their defaults. The keys are
 * the variable names, so an error can name the variable.
 */
const environment = z.object({
  PORT: integer(0, 65535).default(4000),
  HOST: z.string().min(1, { message: 'expected a host name or address' }).default('localhost'),
  DATABASE_URL: z
    .string()
    .regex(/^(file:.+|postgres(ql)?:\/\/.+)/, {
      message: 'expected file:PATH for SQLite (for example file:./data/tandem.db) or postgresql://USER:PASSWORD@HOST:PORT/DATABASE',
    })
    .default('file:./data/tandem.db'),
  DATABASE_POOL_SIZE: integer(1, 1_000).default(10),
  TOKEN_SECRET: z.string().min(32, { message: 'expected at least 32 characters' }).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  ACCESS_TOKEN_TTL_SECONDS: integer(10, 86_400).default(900),
  REFRESH_TOKEN_TTL_SECONDS: integer(60, 31_536_000).default(2_592_000),
  GRAPHIQL: boolean.optional(),
  DEMO_APP: boolean.optional(),
  INTROSPECTION: boolean.optional(),
  CORS_ORIGINS: z
    .string()
    .transform((value) => value.split(',').map((origin) => origin.trim()).filter(Boolean))
    .pipe(
      z
        .array(
          z.string().superRefine((origin, context) => {
            if (origin === '*' || /^https?:\/\/[^/\s]+$/.test(origin)) return;
            const message = /^https?:\/\/[^/\s]+\//.test(origin)
              ? `${origin} has a path; an origin has none, not even a trailing slash: write https://app.example.com`
              : 'expected origins such as https://app.example.com, separated by commas, or *';
            context.addIssue({ code: 'custom', message });
          }),
        )
        .refine((origins) => !origins.includes('*') || origins.length === 1, { message: 'use * alone, or a list of origins without *' }),
    )
    .optional(),
  EVENT_RETENTION_SECONDS: integer(60, 315_360_000).default(604_800),
  EVENT_RETENTION_COUNT: integer(100, 100_000_000).default(10_000),
  SUBSCRIPTION_QUEUE_LIMIT: integer(10, 1_000_000).default(1_000),
  WS_KEEPALIVE_SECONDS: integer(1, 3_600).default(12),
  SHUTDOWN_GRACE_SECONDS: integer(0, 600).default(10),
  HTTP_MAX_BODY_BYTES: integer(1_024, 104_857_600).default(1_048_576),
  WS_MAX_MESSAGE_BYTES: integer(1_024, 104_857_600).default(1_048_576),
  WS_INIT_TIMEOUT_SECONDS: integer(1, 600).default(10),
  WS_MAX_SUBSCRIPTIONS: integer(1, 100_000).default(100),
  WS_MAX_CONNECTIONS_PER_USER: integer(1, 100_000).default(50),
  MUTATION_RATE_LIMIT: integer(1, 1_000_000).default(600),
  MUTATION_RATE_WINDOW_SECONDS: integer(1, 86_400).default(60),
  SIGN_IN_FAILURE_LIMIT: integer(1, 10_000).default(10),
  SIGN_IN_FAILURE_WINDOW_SECONDS: integer(1, 86_400).default(900),
  GRAPHQL_MAX_DEPTH: integer(2, 1_000).default(15),
  GRAPHQL_MAX_COST: integer(10, 1_000_000_000).default(5_000_000),
  GRAPHQL_MAX_ALIASES: integer(0, 10_000).default(30),
  GRAPHQL_MAX_DIRECTIVES: integer(0, 10_000).default(50),
  GRAPHQL_MAX_TOKENS: integer(10, 1_000_000).default(5_000),
  REDIS_URL: z.string().regex(/^rediss?:\/\/.+/, { message: 'expected redis://HOST:PORT or rediss://HOST:PORT' }).optional(),
  REDIS_KEY_PREFIX: z.string().min(1).max(100).default('tandem:'),
  PRESENCE_TTL_SECONDS: integer(2, 3_600).default(30),
  METRICS_TOKEN: z
    .string()
    .regex(/^\S*$/, { message: 'expected a token without spaces, as it is sent after "Bearer "' })
    .min(16, { message: 'expected at least 16 characters' })
    .optional(),
});

/** The environment variables that Tandem reads, as keys. */
export const environmentShape = environment.shape;

/**
 * Reads the settings from `env`. Empty strings count as unset.
 *
 * @throws ConfigError naming each invalid variable, its value and the expected form.
 */
export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const present = Object.fromEntries(
    Object.keys(environment.shape)
      .filter((key) => env[key] !== undefined && env[key] !== '')
      .map((key) => [key, env[key]]),
  );
  const parsed = environment.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0]);
      // URLs may hold a password; it is not repeated in the message.
      const shown = name === 'TOKEN_SECRET' || name === 'METRICS_TOKEN' ? '(hidden)' : JSON.stringify(present[name]?.replace(/(\/\/[^:/@]*:)[^@/]*@/, '$1***@').replace(/([?&][^=&]*pass[^=&]*=)[^&]*/gi, '$1***'));
      return `${name}=${shown}: ${issue.message}`;
    });
    throw new ConfigError(`Invalid environment:\n  ${lines.join('\n  ')}`);
  }
  const values = parsed.data;
  return {
    port: values.PORT,
    host: values.HOST,
    databaseUrl: values.DATABASE_URL,
    databasePoolSize: values.DATABASE_POOL_SIZE,
    tokenSecret: values.TOKEN_SECRET,
    logLevel: values.LOG_LEVEL,
    nodeEnv: values.NODE_ENV,
    accessTokenTtlSeconds: values.ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlSeconds: values.REFRESH_TOKEN_TTL_SECONDS,
    graphiql: values.GRAPHIQL ?? values.NODE_ENV !== 'production',
    demoApp: values.DEMO_APP ?? values.NODE_ENV !== 'production',
    introspection: values.INTROSPECTION ?? values.NODE_ENV !== 'production',
    // Unset: any origin in development; in production, only requests that
    // name no origin (servers, native apps) or come from the server's own.
    corsOrigins: values.CORS_ORIGINS ?? (values.NODE_ENV === 'production' ? [] : ['*']),
    eventRetentionSeconds: values.EVENT_RETENTION_SECONDS,
    eventRetentionCount: values.EVENT_RETENTION_COUNT,
    subscriptionQueueLimit: values.SUBSCRIPTION_QUEUE_LIMIT,
    keepAliveSeconds: values.WS_KEEPALIVE_SECONDS,
    shutdownGraceSeconds: values.SHUTDOWN_GRACE_SECONDS,
    rateLimits: {
      mutations: values.MUTATION_RATE_LIMIT,
      mutationWindowSeconds: values.MUTATION_RATE_WINDOW_SECONDS,
      signInFailures: values.SIGN_IN_FAILURE_LIMIT,
      signInWindowSeconds: values.SIGN_IN_FAILURE_WINDOW_SECONDS,
    },
    limits: {
      httpBodyBytes: values.HTTP_MAX_BODY_BYTES,
      socketMessageBytes: values.WS_MAX_MESSAGE_BYTES,
      socketInitSeconds: values.WS_INIT_TIMEOUT_SECONDS,
      subscriptionsPerSocket: values.WS_MAX_SUBSCRIPTIONS,
      socketsPerUser: values.WS_MAX_CONNECTIONS_PER_USER,
      depth: values.GRAPHQL_MAX_DEPTH,
      cost: values.GRAPHQL_MAX_COST,
      aliases: values.GRAPHQL_MAX_ALIASES,
      directives: values.GRAPHQL_MAX_DIRECTIVES,
      tokens: values.GRAPHQL_MAX_TOKENS,
    },
    redisUrl: values.REDIS_URL,
    redisPrefix: values.REDIS_KEY_PREFIX,
    presenceTtlSeconds: values.PRESENCE_TTL_SECONDS,
    metricsToken: values.METRICS_TOKEN,
  };
}
