export { TandemClient, type BoardEvent, type BoardSubscription, type BoardSubscriptionOptions, type ReceivedError, type TandemClientOptions } from './board-stream.js';
