import { hashPassword, verifyPassword, decoyPasswordHash } from '../auth/passwords.js';
import { hashRefreshToken, newRefreshToken } from '../auth/tokens.js';
import { Prisma, type User } from '../db/client.js';
import { UnauthenticatedError, ValidationError } from './errors.js';
import type { Actor, Services } from './services.js';
import { emailAddress, Limits, password as checkPassword, requiredText } from './validate.js';

/** A new session's tokens and user, returned by signing up, signing in and refreshing. */
export interface AuthSession {
  user: User;
  accessToken: string;
  accessTokenExpiresAt: Date;
  refreshToken: string;
  refreshTokenExpiresAt: Date;
}

async function openSession(services: Services, user: User): Promise<AuthSession> {
  const refreshToken = newRefreshToken();
  const refreshTokenExpiresAt = new Date(Date.now() + services.refreshTokenTtlSeconds * 1000);
  const session = await services.db.session.create({
    data: { userId: user.id, refreshTokenHash: hashRefreshToken(refreshToken), expiresAt: refreshTokenExpiresAt },
  });
  const access = await services.tokens.issue(user.id, session.id);
  return { user, accessToken: access.token, accessTokenExpiresAt: access.expiresAt, refreshToken, refreshTokenExpiresAt };
}

export async function signUp(services: Services, input: { email: string; password: string; displayName: string }): Promise<AuthSession> {
  const { email, emailKey } = emailAddress('input.email', input.email);
  const displayName = requiredText('input.displayName', input.displayName, Limits.displayName);
  const passwordHash = await hashPassword(checkPassword('input.password', input.password));
  try {
    const user = await services.db.user.create({ data: { email, emailKey, displayName, passwordHash } });
    services.logger.info({ userId: user.id }, 'user signed up');
    return await openSession(services, user);
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
      throw new ValidationError('input.email', 'An account with this email already exists; sign in instead.');
    }
    throw error;
  }
}

/**
 * Opens a session for the account with this email and password. `address`
 * is the client's network address: failed sign-ins are counted per account
 * and per address, and past the limit sign-in is refused for a while.
 *
 * @throws UnauthenticatedError, or RateLimitedError after too many failures.
 */
export async function signIn(services: Services, input: { email: string; password: string }, address?: string): Promise<AuthSession> {
  const emailKey = input.email.trim().toLowerCase();
  await services.rateLimits.checkSignIn(emailKey, address);
  const user = await services.db.user.findUnique({ where: { emailKey } });
  // Hash even for an unknown address, so timing does not reveal which emails have accounts.
  const matches = await verifyPassword(input.password, user?.passwordHash ?? (await decoyPasswordHash));
  if (!user || !matches) {
    services.logger.info({ userId: user?.id, address }, 'sign-in failed');
    await services.rateLimits.signInFailed(emailKey, address);
    throw new UnauthenticatedError('Wrong email or password.');
  }
  await services.rateLimits.signInSucceeded(emailKey);
  return openSession(services, user);
}

/**
 * Exchanges a refresh token for a new access token and a new refresh token.
 * The old refresh token stops working. Presenting any earlier token of the
 * session again means it was copied, so the whole session is revoked.
 */
export async function refreshSession(services: Services, input: { refreshToken: string }): Promise<AuthSession> {
  const { db } = services;
  const presented = hashRefreshToken(input.refreshToken);
  const session = await db.session.findUnique({ where: { refreshTokenHash: presented }, include: { user: true } });
  if (!session) {
    const retired = await db.retiredRefreshToken.findUnique({ where: { tokenHash: presented }, include: { session: true } });
    if (retired) {
      if (!retired.session.revokedAt) {
        await db.session.update({ where: { id: retired.sessionId }, data: { revokedAt: new Date() } });
        services.logger.warn({ sessionId: retired.sessionId, userId: retired.session.userId }, 'refresh token reused; session revoked');
      }
      throw new UnauthenticatedError('This refresh token was already used, so the session was revoked; sign in again.');
    }
    throw new UnauthenticatedError('The refresh token is not valid; sign in again.');
  }
  if (session.revokedAt) throw new UnauthenticatedError('The session was signed out; sign in again.');
  if (session.expiresAt <= new Date()) throw new UnauthenticatedError('The refresh token has expired; sign in again.');

  const refreshToken = newRefreshToken();
  const refreshTokenExpiresAt = new Date(Date.now() + services.refreshTokenTtlSeconds * 1000);
  const rotated = await db.$transaction(async (tx) => {
    // Conditional on the presented hash, so of two concurrent refreshes with
    // one token exactly one rotates it.
    const { count } = await tx.session.updateMany({
      where: { id: session.id, refreshTokenHash: presented, revokedAt: null },
      data: { refreshTokenHash: hashRefreshToken(refreshToken), rotatedAt: new Date(), expiresAt: refreshTokenExpiresAt },
    });
    if (count === 1) await tx.retiredRefreshToken.create({ data: { tokenHash: presented, sessionId: session.id } });
    return count === 1;
  });
  if (!rotated) throw new UnauthenticatedError('The refresh token was used concurrently; sign in again.');
  const access = await services.tokens.issue(session.userId, session.id);
  return { user: session.user, accessToken: access.token, accessTokenExpiresAt: access.expiresAt, refreshToken, refreshTokenExpiresAt };
}

/** Revokes the caller's session, or all their sessions with `everywhere`. Returns how many were revoked. */
export async function signOut(services: Services, actor: Actor, input: { everywhere?: boolean | null }): Promise<number> {
  const where = input.everywhere ? { userId: actor.userId, revokedAt: null } : { id: actor.sessionId, revokedAt: null };
  const { count } = await services.db.session.updateMany({ where, data: { revokedAt: new Date() } });
  services.logger.info({ userId: actor.userId, sessionId: actor.sessionId, revoked: count }, 'signed out');
  return count;
}
