export {
  TandemClient,
  type BoardEvent,
  type BoardSubscription,
  type BoardSubscriptionOptions,
  type PresenceSession,
  type PresenceState,
  type PresenceWatch,
  type PresenceWatchOptions,
  type ReceivedError,
  type TandemClientOptions,
} from './board-stream.js';
export * from './generated/operations.js';
export { default as possibleTypes } from './generated/possible-types.js';
export { refreshingAccessToken, type RefreshingTokenOptions, type SessionTokens } from './session.js';
