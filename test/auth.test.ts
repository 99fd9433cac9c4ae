import { decodeJwt, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql, socketClient, subscribeSocket } from './support/client.js';
import { createTeam, mutate } from './support/fixtures.js';
import { startServer, testTokenSecret, type TestServer, waitForListeners } from './support/server.js';

const password = 'correct horse battery';

const authSelection = '... on AuthPayload { accessToken accessTokenExpiresAt refreshToken refreshTokenExpiresAt user { id email displayName } }';

const meQuery = '{ me { __typename ... on User { id email displayName } ... on Error { code message } } }';

const boardEventsSubscription = 'subscription($b: ID!) { boardEvents(boardId: $b) { __typename ... on CardCreatedEvent { card { title } } } }';

let emailCounter = 0;

/** Returns an email address that no other test in this file uses. */
function uniqueEmail(name: string): string {
  emailCounter += 1;
  return `${name}-${emailCounter}@auth.example.com`;
}

/** Decodes the subject (user id) and session id claims of an access token, without verifying it. */
function accessClaims(token: string): { sub: string; sid: string } {
  const payload = decodeJwt(token);
  expect(typeof payload.sub).toBe('string');
  expect(typeof payload.sid).toBe('string');
  return { sub: payload.sub as string, sid: payload.sid as string };
}

/** Signs an access token like the server's, with the given secret and expiry in seconds since the epoch. */
async function signAccessToken(secret: string, claims: { sub: string; sid: string }, expiresAt: number): Promise<string> {
  return new SignJWT({ sid: claims.sid })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(claims.sub)
    .setIssuer('tandem')
    .setAudience('tandem-api')
    .setIssuedAt(expiresAt - 900)
    .setExpirationTime(expiresAt)
    .sign(new TextEncoder().encode(secret));
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

describe('authentication', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server.stop());

  async function signUp(input: { email: string; password?: string; displayName?: string }) {
    return mutate(server, undefined, 'signUp', { password, displayName: 'Ada', ...input }, authSelection);
  }

  async function signIn(email: string, withPassword = password) {
    return mutate(server, undefined, 'signIn', { email, password: withPassword }, authSelection);
  }

  async function refresh(refreshToken: string) {
    return mutate(server, undefined, 'refreshSession', { refreshToken }, authSelection);
  }

  async function signOut(token: string, input: { everywhere?: boolean } = {}) {
    return mutate(server, token, 'signOut', input, '... on SignOutPayload { revokedSessions }');
  }

  async function me(token?: string) {
    const result = await graphql(server, meQuery, undefined, token);
    expect(result.errors).toBeUndefined();
    return result.data.me;
  }

  /** Signs up a fresh user and returns the AuthPayload. */
  async function newAccount(name: string) {
    const email = uniqueEmail(name);
    const payload = await signUp({ email, displayName: name });
    expect(payload.__typename).toBe('AuthPayload');
    return { email, ...payload };
  }

  function userCount(): Promise<number> {
    return server.app.services.db.user.count();
  }

  describe('signUp', () => {
    it('returns tokens and user', async () => {
      const email = uniqueEmail('Grace');
      const before = Date.now();
      const payload = await signUp({ email, displayName: '  Grace Hopper  ' });

      expect(payload.__typename).toBe('AuthPayload');
      expect(payload.user.email).toBe(email);
      expect(payload.user.displayName).toBe('Grace Hopper');
      expect(payload.accessToken.split('.')).toHaveLength(3);
      expect(payload.refreshToken.length).toBeGreaterThanOrEqual(32);
      expect(payload.refreshToken).not.toBe(payload.accessToken);

      // The test server issues access tokens for 900 s and refresh tokens for 3600 s.
      const accessExpiry = Date.parse(payload.accessTokenExpiresAt);
      const refreshExpiry = Date.parse(payload.refreshTokenExpiresAt);
      expect(accessExpiry).toBeGreaterThanOrEqual(before + 899_000);
      expect(accessExpiry).toBeLessThanOrEqual(Date.now() + 901_000);
      expect(refreshExpiry).toBeGreaterThanOrEqual(before + 3_599_000);
      expect(refreshExpiry).toBeLessThanOrEqual(Date.now() + 3_601_000);
      expect(decodeJwt(payload.accessToken).exp).toBe(Math.floor(accessExpiry / 1000));
    });

    it('access token authorizes me', async () => {
      const account = await newAccount('Linus');

      const viewer = await me(account.accessToken);

      expect(viewer.__typename).toBe('User');
      expect(viewer.id).toBe(account.user.id);
      expect(viewer.email).toBe(account.email);
      expect(viewer.displayName).toBe('Linus');
    });

    it('email uniqueness ignores letter case', async () => {
      const before = await userCount();
      const first = await signUp({ email: 'ada@x.io' });
      expect(first.__typename).toBe('AuthPayload');

      const second = await signUp({ email: 'Ada@X.io', displayName: 'Other Ada' });

      expect(second.__typename).toBe('ValidationError');
      expect(second.code).toBe('VALIDATION_FAILED');
      expect(second.field).toBe('input.email');
      expect(second.message).toMatch(/already exists/);
      expect(await userCount()).toBe(before + 1);
    });

    it('accepts boundary password and name lengths', async () => {
      const payload = await signUp({ email: uniqueEmail('bounds'), password: '12345678', displayName: 'n'.repeat(80) });

      expect(payload.__typename).toBe('AuthPayload');
      expect(payload.user.displayName).toHaveLength(80);
    });

    const invalidInputs = [
      { case: 'invalid email', input: { email: 'not-an-email' }, field: 'input.email', message: /email address/ },
      { case: 'email without domain', input: { email: 'ada@' }, field: 'input.email', message: /email address/ },
      { case: 'short password', input: { password: '1234567' }, field: 'input.password', message: /at least 8/ },
      { case: 'overlong password', input: { password: 'p'.repeat(201) }, field: 'input.password', message: /at most 200/ },
      { case: 'empty display name', input: { displayName: '' }, field: 'input.displayName', message: /must not be empty/ },
      { case: 'blank display name', input: { displayName: '   ' }, field: 'input.displayName', message: /must not be empty/ },
      { case: 'overlong display name', input: { displayName: 'n'.repeat(81) }, field: 'input.displayName', message: /81 characters.*maximum is 80/ },
    ];
    for (const { case: name, input, field, message } of invalidInputs) {
      it(`rejects ${name}`, async () => {
        const before = await userCount();

        const result = await signUp({ email: uniqueEmail('invalid'), ...input });

        expect(result.__typename).toBe('ValidationError');
        expect(result.code).toBe('VALIDATION_FAILED');
        expect(result.field).toBe(field);
        expect(result.message).toMatch(message);
        expect(await userCount()).toBe(before);
      });
    }
  });

  describe('signIn', () => {
    it('accepts email in any case', async () => {
      const account = await newAccount('Barbara');

      for (const email of [account.email, account.email.toUpperCase(), `  ${account.email.replace('b', 'B')}  `]) {
        const payload = await signIn(email);
        expect(payload.__typename).toBe('AuthPayload');
        expect(payload.user.id).toBe(account.user.id);
        expect(payload.accessToken).not.toBe(account.accessToken);
        expect((await me(payload.accessToken)).id).toBe(account.user.id);
      }
    });

    it('opens a separate session', async () => {
      const account = await newAccount('Edsger');

      const payload = await signIn(account.email);

      expect(accessClaims(payload.accessToken).sid).not.toBe(accessClaims(account.accessToken).sid);
      expect(payload.refreshToken).not.toBe(account.refreshToken);
    });

    it('wrong password equals unknown email', async () => {
      const account = await newAccount('Donald');

      const wrongPassword = await signIn(account.email, 'not the password');
      const unknownEmail = await signIn(uniqueEmail('nobody'));

      expect(wrongPassword.__typename).toBe('UnauthenticatedError');
      expect(wrongPassword.code).toBe('UNAUTHENTICATED');
      expect(wrongPassword.message).toBe('Wrong email or password.');
      expect(unknownEmail.__typename).toBe('UnauthenticatedError');
      expect(unknownEmail.code).toBe('UNAUTHENTICATED');
      expect(unknownEmail.message).toBe(wrongPassword.message);
    });
  });

  describe('refreshSession', () => {
    it('rotates the refresh token', async () => {
      const account = await newAccount('Alan');

      const first = await refresh(account.refreshToken);
      expect(first.__typename).toBe('AuthPayload');
      expect(first.user.id).toBe(account.user.id);
      expect(first.refreshToken).not.toBe(account.refreshToken);
      expect(accessClaims(first.accessToken).sid).toBe(accessClaims(account.accessToken).sid);
      expect((await me(first.accessToken)).id).toBe(account.user.id);

      const second = await refresh(first.refreshToken);
      expect(second.__typename).toBe('AuthPayload');
      expect(second.refreshToken).not.toBe(first.refreshToken);
      expect((await me(second.accessToken)).id).toBe(account.user.id);
    });

    it('reused token revokes the session', async () => {
      const account = await newAccount('Ken');
      const rotated = await refresh(account.refreshToken);
      expect(rotated.__typename).toBe('AuthPayload');

      const replay = await refresh(account.refreshToken);
      expect(replay.__typename).toBe('UnauthenticatedError');
      expect(replay.code).toBe('UNAUTHENTICATED');
      expect(replay.message).toMatch(/already used/);

      const newest = await refresh(rotated.refreshToken);
      expect(newest.__typename).toBe('UnauthenticatedError');
      expect(newest.code).toBe('UNAUTHENTICATED');
      const viewer = await me(rotated.accessToken);
      expect(viewer.__typename).toBe('UnauthenticatedError');
      expect(viewer.code).toBe('UNAUTHENTICATED');
    });

    it('older rotated token revokes too', async () => {
      const account = await newAccount('Dennis');
      const first = await refresh(account.refreshToken);
      expect(first.__typename).toBe('AuthPayload');
      const second = await refresh(first.refreshToken);
      expect(second.__typename).toBe('AuthPayload');

      // A token from two rotations ago was used too, so presenting it is a replay as well.
      const replay = await refresh(account.refreshToken);
      expect(replay.__typename).toBe('UnauthenticatedError');
      expect(replay.code).toBe('UNAUTHENTICATED');

      const newest = await refresh(second.refreshToken);
      expect(newest.__typename).toBe('UnauthenticatedError');
      expect(newest.code).toBe('UNAUTHENTICATED');
    });

    it('concurrent refreshes rotate once', async () => {
      const account = await newAccount('Racer');

      const results = await Promise.all([refresh(account.refreshToken), refresh(account.refreshToken)]);

      const typenames = results.map((result) => result.__typename).sort();
      expect(typenames).toEqual(['AuthPayload', 'UnauthenticatedError']);
      const loser = results.find((result) => result.__typename === 'UnauthenticatedError');
      expect(loser.code).toBe('UNAUTHENTICATED');
    });

    it('rejects an unknown token', async () => {
      const result = await refresh('not-a-refresh-token');

      expect(result.__typename).toBe('UnauthenticatedError');
      expect(result.code).toBe('UNAUTHENTICATED');
      expect(result.message).toMatch(/not valid/);
    });

    it('rejects an expired refresh token', async () => {
      // A lifetime of 0 s makes every refresh token expire as it is issued.
      const shortLived = await startServer({ refreshTokenTtlSeconds: 0 });
      try {
        const payload = await mutate(shortLived, undefined, 'signUp', { email: uniqueEmail('expiring'), password, displayName: 'Expiring' }, authSelection);
        expect(payload.__typename).toBe('AuthPayload');

        const result = await mutate(shortLived, undefined, 'refreshSession', { refreshToken: payload.refreshToken }, authSelection);

        expect(result.__typename).toBe('UnauthenticatedError');
        expect(result.code).toBe('UNAUTHENTICATED');
        expect(result.message).toMatch(/expired/);
      } finally {
        await shortLived.stop();
      }
    });
  });

  describe('signOut', () => {
    it('ends only the current session', async () => {
      const account = await newAccount('Margaret');
      const other = await signIn(account.email);

      const result = await signOut(account.accessToken);

      expect(result.__typename).toBe('SignOutPayload');
      expect(result.revokedSessions).toBe(1);
      const viewer = await me(account.accessToken);
      expect(viewer.__typename).toBe('UnauthenticatedError');
      expect(viewer.code).toBe('UNAUTHENTICATED');
      expect(viewer.message).toMatch(/signed out/);
      const refreshed = await refresh(account.refreshToken);
      expect(refreshed.__typename).toBe('UnauthenticatedError');
      expect(refreshed.code).toBe('UNAUTHENTICATED');
      expect(refreshed.message).toMatch(/signed out/);

      expect((await me(other.accessToken)).id).toBe(account.user.id);
      expect((await refresh(other.refreshToken)).__typename).toBe('AuthPayload');
    });

    it('everywhere ends other sessions', async () => {
      const account = await newAccount('Frances');
      const laptop = await signIn(account.email);
      const phone = await signIn(account.email);
      const bystander = await newAccount('Bystander');

      const result = await signOut(laptop.accessToken, { everywhere: true });

      expect(result.__typename).toBe('SignOutPayload');
      expect(result.revokedSessions).toBe(3);
      for (const session of [account, laptop, phone]) {
        const viewer = await me(session.accessToken);
        expect(viewer.__typename).toBe('UnauthenticatedError');
        expect(viewer.code).toBe('UNAUTHENTICATED');
        const refreshed = await refresh(session.refreshToken);
        expect(refreshed.__typename).toBe('UnauthenticatedError');
        expect(refreshed.code).toBe('UNAUTHENTICATED');
      }
      expect((await me(bystander.accessToken)).id).toBe(bystander.user.id);
    });

    it('requires a signed-in user', async () => {
      const result = await signOut('');

      expect(result.__typename).toBe('UnauthenticatedError');
      expect(result.code).toBe('UNAUTHENTICATED');
    });
  });

  describe('access tokens', () => {
    it('me without token is unauthenticated', async () => {
      const viewer = await me();

      expect(viewer.__typename).toBe('UnauthenticatedError');
      expect(viewer.code).toBe('UNAUTHENTICATED');
      expect(viewer.message).toMatch(/Sign in first/);
      expect(viewer.message).toMatch(/Authorization: Bearer/);
    });

    it('self-signed valid token is accepted', async () => {
      // This token is built like the rejected ones below, so each rejection comes from the one claim or key that differs.
      const account = await newAccount('Valid');
      const token = await signAccessToken(testTokenSecret, accessClaims(account.accessToken), nowSeconds() + 600);

      const viewer = await me(token);

      expect(viewer.__typename).toBe('User');
      expect(viewer.id).toBe(account.user.id);
    });

    it('expired token mentions expiry', async () => {
      const account = await newAccount('Expired');
      const token = await signAccessToken(testTokenSecret, accessClaims(account.accessToken), nowSeconds() - 60);

      const viewer = await me(token);

      expect(viewer.__typename).toBe('UnauthenticatedError');
      expect(viewer.code).toBe('UNAUTHENTICATED');
      expect(viewer.message).toMatch(/expired/);
      expect(viewer.message).toMatch(/refreshSession/);
    });

    it('cached token expires on time', async () => {
      // The server remembers tokens it has verified, but never past their expiry.
      const account = await newAccount('Remembered');
      const expiresAt = nowSeconds() + 2;
      const token = await signAccessToken(testTokenSecret, accessClaims(account.accessToken), expiresAt);
      expect((await me(token)).__typename).toBe('User');
      expect((await me(token)).__typename).toBe('User');

      await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAt * 1000 - Date.now()) + 100));
      const viewer = await me(token);

      expect(viewer.__typename).toBe('UnauthenticatedError');
      expect(viewer.message).toMatch(/expired/);
    });

    it('garbage token is rejected', async () => {
      const viewer = await me('garbage');

      expect(viewer.__typename).toBe('UnauthenticatedError');
      expect(viewer.code).toBe('UNAUTHENTICATED');
      expect(viewer.message).toMatch(/invalid/);
    });

    it('Bearer without a token is explained', async () => {
      const response = await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer ' },
        body: JSON.stringify({ query: meQuery }),
      });
      const viewer = ((await response.json()) as { data: { me: { code: string; message: string } } }).data.me;

      expect(viewer.code).toBe('UNAUTHENTICATED');
      expect(viewer.message).toMatch(/no token after `Bearer`/);
    });

    it('token from another secret is rejected', async () => {
      const account = await newAccount('Forged');
      const token = await signAccessToken('another-secret-another-secret-another-secret', accessClaims(account.accessToken), nowSeconds() + 600);

      const viewer = await me(token);

      expect(viewer.__typename).toBe('UnauthenticatedError');
      expect(viewer.code).toBe('UNAUTHENTICATED');
      expect(viewer.message).toMatch(/invalid/);
    });
  });

  describe('WebSocket', () => {
    it('valid token can subscribe', async () => {
      const team = await createTeam(server);
      const client = socketClient(server, team.viewer.token);
      const { collector, unsubscribe } = subscribeSocket(client, boardEventsSubscription, { b: team.boardId });
      try {
        await waitForListeners(server, 1);

        const card = await mutate(server, team.owner.token, 'createCard', { columnId: team.todoId, title: 'Over the socket' }, '... on Card { id }');
        expect(card.__typename).toBe('Card');

        const [event] = await collector.count(1);
        expect(event!.errors).toBeUndefined();
        expect(event!.data.boardEvents.__typename).toBe('CardCreatedEvent');
        expect(event!.data.boardEvents.card.title).toBe('Over the socket');
        expect(collector.errors).toEqual([]);
      } finally {
        unsubscribe();
        await client.dispose();
      }
    });

    it('socket query sees token user', async () => {
      const account = await newAccount('Socket');
      const client = socketClient(server, account.accessToken);
      const { collector } = subscribeSocket(client, meQuery);
      try {
        await collector.done();

        expect(collector.errors).toEqual([]);
        expect(collector.results).toHaveLength(1);
        expect(collector.results[0]!.data.me.__typename).toBe('User');
        expect(collector.results[0]!.data.me.id).toBe(account.user.id);
      } finally {
        await client.dispose();
      }
    });

    const refusedTokens = [
      { case: 'garbage token', token: async () => 'garbage' },
      { case: 'expired token', token: async () => signAccessToken(testTokenSecret, accessClaims((await newAccount('WsExpired')).accessToken), nowSeconds() - 60) },
      {
        case: 'signed-out token',
        token: async () => {
          const account = await newAccount('WsSignedOut');
          expect((await signOut(account.accessToken)).revokedSessions).toBe(1);
          return account.accessToken as string;
        },
      },
    ];
    for (const { case: name, token } of refusedTokens) {
      it(`closes 4403 on ${name}`, async () => {
        const client = socketClient(server, await token());
        const closeCodes: number[] = [];
        client.on('closed', (event) => closeCodes.push((event as { code: number }).code));
        const { collector } = subscribeSocket(client, meQuery);
        try {
          await collector.done();

          expect(collector.results).toEqual([]);
          expect(collector.errors).toHaveLength(1);
          expect((collector.errors[0] as { code: number }).code).toBe(4403);
          expect(closeCodes).toEqual([4403]);
        } finally {
          await client.dispose();
        }
      });
    }
  });
});

