import { serverAudits, type Audit, type AuditResult } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from './support/server.js';

/**
 * SHOULD and MAY audits from graphql-http's serverAudits() that Tandem fails,
 * keyed by audit id, each with the reason. The last test fails when an audit
 * outside this list fails, and also when a listed audit passes, so update
 * the list with the server.
 *
 * Empty because Tandem (graphql-yoga 5.24) passes all 23 SHOULD and 25 MAY
 * audits of graphql-http 1.23.1, in both the sqlite and postgresql projects.
 */
const knownShouldMayFailures: Readonly<Record<string, string>> = {};

/** Formats a failed audit with the server's response, for a failure message. */
async function describeFailure(result: Exclude<AuditResult, { status: 'ok' }>): Promise<string> {
  const { response } = result;
  let body = '(body already read by the audit)';
  if (!response.bodyUsed) {
    body = await response.text().catch((error: Error) => `(body could not be read: ${error.message})`);
  }
  const contentType = response.headers.get('content-type') ?? '(none)';
  return `${result.id} "${result.name}" (${result.status}): ${result.reason}\n  HTTP ${response.status}, content-type ${contentType}\n  body: ${body}`;
}

describe('GraphQL over HTTP audits', () => {
  let server: TestServer | undefined;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server?.stop());

  // The audits are listed while vitest collects the tests, before the server
  // starts, so each audit reads the URL when it runs.
  const audits: Audit[] = serverAudits({
    url: () => {
      if (!server) throw new Error('The test server is not running because beforeAll did not start it.');
      return server.url;
    },
    fetchFn: fetch,
  });
  const mustAudits = audits.filter((audit) => audit.name.startsWith('MUST '));
  const shouldMayAudits = audits.filter((audit) => !audit.name.startsWith('MUST '));

  it('audit list is not empty', () => {
    expect(mustAudits.length).toBeGreaterThan(0);
    expect(shouldMayAudits.length).toBeGreaterThan(0);
  });

  it.each(mustAudits.map((audit) => [`${audit.id} ${audit.name}`, audit] as const))('%s', async (_name, audit) => {
    const result = await audit.fn();
    if (result.status !== 'ok') {
      expect.fail(await describeFailure(result));
    }
  });

  it('SHOULD and MAY failures match the list', async () => {
    const failures = new Map<string, string>();
    for (const audit of shouldMayAudits) {
      const result = await audit.fn();
      if (result.status !== 'ok') {
        failures.set(audit.id, await describeFailure(result));
      }
    }

    const unlisted = [...failures.keys()].filter((id) => !(id in knownShouldMayFailures));
    const nowPassing = Object.keys(knownShouldMayFailures).filter((id) => !failures.has(id));
    const unlistedMessage = unlisted.map((id) => failures.get(id)).join('\n');
    expect(unlisted, `These SHOULD/MAY audits fail but are missing from knownShouldMayFailures. Fix the server, or list each with its reason.\n${unlistedMessage}`).toEqual([]);
    expect(nowPassing, 'These audits in knownShouldMayFailures now pass or no longer exist. Remove them from the list.').toEqual([]);
  });
});
