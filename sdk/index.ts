export { TandemClient, type BoardEvent, type BoardSubscription, type BoardSubscriptionOptions, type ReceivedError, type TandemClientOptions } from './board-stream.js';
export * from './generated/operations.js';
export { default as possibleTypes } from './generated/possible-types.js';
