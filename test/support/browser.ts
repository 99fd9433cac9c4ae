import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium, or CHROMIUM_PATH. Playwright's own browser download cannot run here. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Screenshots and other files a test leaves for people to look at; ignored by git. */
export const artifactsDir = path.resolve('test-results', 'browser');

/**
 * Returns null when Chromium is installed, or the reason to print when the
 * browser tests must be skipped. With REQUIRE_SERVICES=1 (set by .ci/run,
 * which installs Chromium first) a missing Chromium throws instead.
 */
export function chromiumUnavailable(): string | null {
  if (fs.existsSync(chromiumPath)) return null;
  const reason = `Chromium is not at ${chromiumPath}`;
  if (process.env.REQUIRE_SERVICES === '1') throw new Error(`REQUIRE_SERVICES=1, but ${reason}. Install Debian's chromium package or set CHROMIUM_PATH.`);
  console.log(`Skipping the browser tests: ${reason}. Install Debian's chromium package (apt-get install chromium) or set CHROMIUM_PATH to run them.`);
  return reason;
}

/**
 * Starts headless Chromium with a fresh profile. The flags keep it from
 * calling hosts that this machine cannot reach (updates, sync, QUIC probes).
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Path for an artifact named `name`, creating the folder. */
export function artifactPath(name: string): string {
  fs.mkdirSync(artifactsDir, { recursive: true });
  return path.join(artifactsDir, name);
}
