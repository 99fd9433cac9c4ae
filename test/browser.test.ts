/**
 * The browser demo at /app and GraphiQL, driven in Debian's headless
 * Chromium through playwright-core against a real server.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphqlData } from './support/client.js';
import { artifactPath, chromiumUnavailable, launchChromium } from './support/browser.js';
import { createCard, createTeam, expectResult, mutate, type Team, type TestUser } from './support/fixtures.js';
import { startServer, type TestServer } from './support/server.js';

const password = 'correct horse battery';
const project = process.env.TEST_DATABASE ?? 'sqlite';
const skipReason = chromiumUnavailable();

describe('the demo page over HTTP', () => {
  let server: TestServer;
  let withoutDemo: TestServer;
  beforeAll(async () => {
    [server, withoutDemo] = await Promise.all([startServer(), startServer({ demoApp: false })]);
  });
  afterAll(() => Promise.all([server?.stop(), withoutDemo?.stop()]));

  const get = (target: TestServer, path: string, init?: RequestInit) => fetch(new URL(path, target.url), { redirect: 'manual', ...init });

  it('serves the page, its script and its styles, and sends / to it', async () => {
    const root = await get(server, '/');
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/app/');
    const page = await get(server, '/app/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(await page.text()).toContain('<script type="module" src="/app/app.js">');
    const script = await get(server, '/app/app.js');
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await script.text()).toContain('boardEvents');
    expect((await get(server, '/app/app.css')).status).toBe(200);
    const head = await get(server, '/app', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('answers unknown files and other methods with what to do', async () => {
    const missing = await get(server, '/app/..%2F..%2Fpackage.json');
    expect(missing.status).toBe(404);
    const other = await get(server, '/app/secrets.txt');
    expect(other.status).toBe(404);
    expect(await other.text()).toMatch(/no file named secrets\.txt; open \/app\//);
    const post = await get(server, '/app/', { method: 'POST', body: '{}' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('is not served when DEMO_APP is off', async () => {
    expect((await get(withoutDemo, '/app/')).status).toBe(404);
    expect((await get(withoutDemo, '/')).status).toBe(404);
  });
});

describe.skipIf(skipReason !== null)('in headless Chromium', () => {
  let server: TestServer;
  let team: Team;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer(), launchChromium()]);
    team = await createTeam(server);
  });
  afterAll(async () => {
    await Promise.all(contexts.map((context) => context.close()));
    await browser?.close();
    await server?.stop();
  });

  /** Opens a new browser context (its own storage, like another person's browser) and a page on `path`. */
  async function openPage(path: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1100, height: 700 } });
    contexts.push(context);
    const page = await context.newPage();
    // A script error fails the test rather than leaving a page that never updates.
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
    await page.goto(new URL(path, server.url).href);
    (page as Page & { scriptErrors: string[] }).scriptErrors = errors;
    return page;
  }

  const scriptErrors = (page: Page) => (page as Page & { scriptErrors: string[] }).scriptErrors;

  async function signInOnPage(user: TestUser): Promise<Page> {
    const page = await openPage('/');
    await expect.poll(() => page.url()).toMatch(/\/app\/$/);
    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#board-name', { hasText: 'Roadmap' }).waitFor();
    return page;
  }

  /** The card's list item in the column, or nothing when it is not there. */
  const cardIn = (page: Page, columnId: string, title: string) => page.locator(`section.column[data-column-id="${columnId}"] li.card`, { hasText: title });

  it('shows moves, new cards and presence live', async () => {
    const cardId = await createCard(server, team.owner.token, team.todoId, 'Ship the demo');
    const [ownerPage, memberPage] = await Promise.all([signInOnPage(team.owner), signInOnPage(team.member)]);

    for (const page of [ownerPage, memberPage]) {
      await expect.poll(() => page.locator('#presence li').allTextContents()).toEqual(expect.arrayContaining([expect.stringMatching(/^owner/), expect.stringMatching(/^member/)]));
      await cardIn(page, team.todoId, 'Ship the demo').waitFor();
    }
    expect(await ownerPage.locator('#presence li', { hasText: '(you)' }).textContent()).toBe('owner (you)');
    expect(await memberPage.locator('#presence li', { hasText: '(you)' }).textContent()).toBe('member (you)');

    // The owner moves the card with its column menu, and the member's page shows it moved.
    await ownerPage.getByLabel('Move "Ship the demo" to column').selectOption({ label: 'Done' });
    await cardIn(memberPage, team.doneId, 'Ship the demo').waitFor({ timeout: 5_000 });
    expect(await cardIn(memberPage, team.todoId, 'Ship the demo').count()).toBe(0);
    const stored = await graphqlData(server, 'query($id: ID!) { node(id: $id) { ... on Card { column { id } } } }', { id: cardId }, team.owner.token);
    expect(stored.node.column.id).toBe(team.doneId);

    // The member adds a card; the owner sees it arrive.
    await memberPage.getByLabel('New card in To do').fill('Written by the member');
    await memberPage.getByLabel('New card in To do').press('Enter');
    await cardIn(ownerPage, team.todoId, 'Written by the member').waitFor({ timeout: 5_000 });

    // The member drags the new card onto Done, above the moved card.
    await cardIn(memberPage, team.todoId, 'Written by the member').locator('.title').dragTo(cardIn(memberPage, team.doneId, 'Ship the demo'));
    await expect
      .poll(() => ownerPage.locator(`section.column[data-column-id="${team.doneId}"] li.card .title`).allTextContents(), { timeout: 5_000 })
      .toEqual(['Written by the member', 'Ship the demo']);

    // Focusing a card shows the others who is looking at it.
    await cardIn(memberPage, team.doneId, 'Ship the demo').click();
    await cardIn(ownerPage, team.doneId, 'member looking at this').waitFor({ timeout: 5_000 });

    await ownerPage.screenshot({ path: artifactPath(`demo-${project}-owner.png`) });
    await memberPage.screenshot({ path: artifactPath(`demo-${project}-member.png`) });
    expect(scriptErrors(ownerPage)).toEqual([]);
    expect(scriptErrors(memberPage)).toEqual([]);

    // Leaving the board removes the member from the owner's presence list.
    await memberPage.close();
    await expect.poll(() => ownerPage.locator('#presence li').allTextContents(), { timeout: 5_000 }).toEqual(['owner (you)']);
  });

  it('saves titles typed in quick succession', async () => {
    const page = await signInOnPage(team.member);
    const field = page.getByLabel('New card in Done');
    // Each title is typed right after the previous Enter, before its response can arrive.
    for (const title of ['Quick one', 'Quick two', 'Quick three']) {
      await field.pressSequentially(title, { delay: 5 });
      await field.press('Enter');
    }
    const long = `${'a'.repeat(150)} long word`;
    await field.fill(long);
    await field.press('Enter');
    for (const title of ['Quick one', 'Quick two', 'Quick three', long]) await cardIn(page, team.doneId, title).waitFor({ timeout: 5_000 });
    const titles = await page.locator(`section.column[data-column-id="${team.doneId}"] li.card .title`).allTextContents();
    expect(titles.filter((title) => title.startsWith('Quick') || title === long)).toEqual(['Quick one', 'Quick two', 'Quick three', long]);
    // The long word wraps inside its card rather than widening the column.
    const column = await page.locator(`section.column[data-column-id="${team.doneId}"]`).boundingBox();
    expect(column!.width).toBeLessThan(300);

    await field.fill('   ');
    await field.press('Enter');
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/needs a title/);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Email').waitFor();
    await page.waitForTimeout(300);
    expect(await page.locator('#connection').isHidden()).toBe(true);
  });

  it('explains a failed sign-in', async () => {
    const page = await openPage('/app/');
    await page.getByLabel('Email').fill(team.owner.email);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/email or password/i);
    expect(await page.getByLabel('Email').inputValue()).toBe(team.owner.email);
    expect(await page.locator('#board').isHidden()).toBe(true);
  });

  it('keeps the session across a reload', async () => {
    const page = await openPage('/app/');
    await page.getByLabel('Email').fill(team.viewer.email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#board-name', { hasText: 'Roadmap' }).waitFor();
    await page.reload();
    await page.locator('#board-name', { hasText: 'Roadmap' }).waitFor();
    expect(page.url()).toContain(`#board=${encodeURIComponent(team.boardId)}`);
    // A viewer may not move cards: the server's refusal is shown, and nothing moves.
    const title = `Viewer test ${Date.now()}`;
    await createCard(server, team.owner.token, team.todoId, title);
    await page.getByLabel(`Move "${title}" to column`).selectOption({ label: 'Done' });
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/VIEWER|not allowed|permission/i);
    await cardIn(page, team.todoId, title).waitFor();
    expect(await page.getByLabel(`Move "${title}" to column`).inputValue()).toBe(team.todoId);
  });

  it('runs a GraphiQL subscription over WebSocket', async () => {
    const page = await openPage('/graphql');
    const frames: string[] = [];
    page.on('websocket', (socket) => {
      expect(socket.url()).toBe(server.wsUrl);
      socket.on('framesent', (frame) => frames.push(String(frame.payload)));
    });
    await page.locator('.graphiql-query-editor').waitFor();
    await expect.poll(() => page.locator('.graphiql-query-editor').textContent()).toMatch(/Welcome\sto\sTandem's\sGraphiQL/);

    // A new tab, so the welcome text's own operations do not compete with this one.
    await page.getByRole('button', { name: 'New tab' }).click();
    // GraphiQL sends the tab's headers with each operation, in its extensions.
    await page.locator('button[data-name="headers"]').click();
    await page.locator('.graphiql-editor-tool .graphiql-editor:visible').click();
    await page.keyboard.insertText(JSON.stringify({ Authorization: `Bearer ${team.member.token}` }));

    // From the board's cursor, so the card made below arrives however long the subscription takes to start.
    const { board } = await graphqlData(server, 'query($id: ID!) { board(id: $id) { ... on Board { eventCursor } } }', { id: team.boardId }, team.member.token);
    await page.locator('.graphiql-query-editor .graphiql-editor').click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText(
      `subscription Watch { boardEvents(boardId: "${team.boardId}", after: "${board.eventCursor}") { __typename sequence ... on CardCreatedEvent { card { title } } } }`,
    );
    await page.locator('.graphiql-execute-button').click();

    await expect.poll(() => frames.find((frame) => frame.includes('"type":"subscribe"')) ?? '', { timeout: 10_000 }).toContain(`Bearer ${team.member.token}`);
    const created = await mutate(server, team.owner.token, 'createCard', { columnId: team.todoId, title: 'Seen in GraphiQL' }, '... on Card { id }');
    expectResult(created, 'Card');
    await page.locator('.graphiql-response', { hasText: 'Seen in GraphiQL' }).waitFor({ timeout: 10_000 });
    expect(await page.locator('.graphiql-response').textContent()).toContain('CardCreatedEvent');
    await page.screenshot({ path: artifactPath(`graphiql-${project}.png`) });
  });
});
