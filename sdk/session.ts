/** The tokens of a signed-in session, as signIn, signUp and refreshSession return them. */
export interface SessionTokens {
  accessToken: string;
  refreshToken: string;
}

export interface RefreshingTokenOptions {
  /** The server's GraphQL HTTP URL, such as http://localhost:4000/graphql. */
  httpUrl: string;
  /** The session's current tokens. */
  tokens: SessionTokens;
  /**
   * Receives the new tokens after each refresh. Store the refresh token:
   * the previous one stops working.
   */
  onRefresh?: (tokens: SessionTokens) => void;
  /** Refresh this many seconds before the access token expires. Default 30. */
  marginSeconds?: number;
  /** fetch implementation; default the global one. */
  fetch?: typeof fetch;
}

const refreshMutation = `mutation RefreshSession($input: RefreshSessionInput!) {
  refreshSession(input: $input) { __typename ... on AuthPayload { accessToken refreshToken } ... on Error { code message } }
}`;

/** Reads the `exp` claim (seconds since the epoch) of a JWT without checking it; the server checks it. */
function expiresAt(accessToken: string): number {
  const payload = (accessToken.split('.')[1] ?? '').replace(/-/g, '+').replace(/_/g, '/');
  try {
    const json = atob(payload + '='.repeat((4 - (payload.length % 4)) % 4));
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === 'number' ? exp : 0;
  } catch {
    return 0;
  }
}

/**
 * Returns a `getAccessToken` for TandemClient that keeps a session's access
 * token fresh: it returns the current token, or first trades the refresh
 * token for new ones (refreshSession) when the access token expires within
 * `marginSeconds`. When a socket's token expires, the server closes it with
 * 4001 and the client reconnects with a fresh token and resumes its
 * subscriptions from their cursors, so the application notices nothing.
 *
 * Concurrent calls share one refresh. A refresh the server rejects (the
 * session was signed out) rejects the returned promise with its message.
 */
export function refreshingAccessToken(options: RefreshingTokenOptions): () => Promise<string> {
  const margin = options.marginSeconds ?? 30;
  const send = options.fetch ?? fetch;
  let tokens = options.tokens;
  let refreshing: Promise<string> | undefined;

  const refresh = async (): Promise<string> => {
    const response = await send(options.httpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: refreshMutation, variables: { input: { refreshToken: tokens.refreshToken } } }),
    });
    const body = (await response.json()) as { data?: { refreshSession?: { __typename: string; accessToken?: string; refreshToken?: string; message?: string } }; errors?: { message: string }[] };
    const result = body.data?.refreshSession;
    if (!result?.accessToken || !result.refreshToken) {
      throw new Error(`Refreshing the session failed: ${result?.message ?? body.errors?.[0]?.message ?? `HTTP ${response.status}`}`);
    }
    tokens = { accessToken: result.accessToken, refreshToken: result.refreshToken };
    options.onRefresh?.(tokens);
    return tokens.accessToken;
  };

  return async () => {
    if (expiresAt(tokens.accessToken) - Date.now() / 1000 > margin) return tokens.accessToken;
    refreshing ??= refresh().finally(() => {
      refreshing = undefined;
    });
    return refreshing;
  };
}
