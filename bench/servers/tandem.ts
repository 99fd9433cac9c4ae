/**
 * Tandem as the benchmarks run it: the real app from src/app.ts, configured
 * from the environment like `npm start`, plus the control channel of
 * bench/lib/ipc.ts. Start it with --expose-gc so memory readings follow a
 * full collection.
 */
import { createApp } from '../../src/app.js';
import { loadSettings } from '../../src/config.js';
import { reportReady } from '../lib/ipc.js';

const app = await createApp(loadSettings());
const { url } = await app.start();
reportReady(url);
process.on('SIGTERM', () => void app.stop().then(() => process.exit(0)));
