// End-to-end browser test of inkwell's CMS: register, confirm by the mailed link, log in,
// write and publish a post, comment on it, find it on the front page, log out.
//
// Run by tests/integration/test_browser.py, which starts the services and spools every mail
// its SMTP server receives into a directory. Environment:
//   INKWELL_BASE_URL        http://127.0.0.1:PORT of inkwell-web
//   INKWELL_MAIL_SPOOL      directory of received mails, one .eml file each
//   INKWELL_SCREENSHOT_DIR  where the screenshots go (created if missing)
//   INKWELL_CHROMIUM        the browser (default /usr/bin/chromium)
// Exit 0 when every expectation held; 1 with a "FAIL: ..." line otherwise.

import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

const TOTAL_MS = 85_000;    // the whole run; the Python side allows a little more
const STEP_MS = 10_000;     // one click, fill or expectation
const NAV_MS = 15_000;      // one page load
const MAIL_MS = 20_000;     // registration to confirmation mail in the spool

const SCREENSHOTS = [
  '01-register.png', '02-check-your-mail.png', '03-confirmed.png', '04-login.png',
  '05-logged-in.png', '06-new-post.png', '07-post.png', '08-comment.png', '09-home.png',
  '10-home-375.png', '11-post-375.png', '12-logged-out.png', '13-post-anonymous.png',
];

class Failure extends Error {}

function expect(condition, message) {
  if (!condition) throw new Failure(message);
}

function requireEnv(name) {
  const value = process.env[name];
  if (!value) throw new Failure(`environment variable ${name} is not set`);
  return value;
}

// ------------------------------------------------------------------ reading the mail spool

// Splits one MIME entity into lower-cased headers (folded lines joined) and its raw body.
function splitEntity(raw) {
  const match = /\r?\n\r?\n/.exec(raw);
  const head = match ? raw.slice(0, match.index) : raw;
  const body = match ? raw.slice(match.index + match[0].length) : '';
  const headers = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const field = /^([^:\s]+):\s*(.*)$/.exec(line);
    if (field) headers[field[1].toLowerCase()] = field[2];
  }
  return { headers, body };
}

// The decoded text of a single-part body (raw is a "binary" string: one char per byte).
function decodeBody(body, headers) {
  const encoding = (headers['content-transfer-encoding'] || '7bit').trim().toLowerCase();
  let bytes;
  if (encoding === 'quoted-printable') {
    const unfolded = body.replace(/=\r?\n/g, '');  // soft line breaks
    bytes = Buffer.from(
      unfolded.replace(/=([0-9A-Fa-f]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16))),
      'latin1');
  } else if (encoding === 'base64') {
    bytes = Buffer.from(body.replace(/\s+/g, ''), 'base64');
  } else {
    bytes = Buffer.from(body, 'latin1');
  }
  const charset = /charset="?([^";\s]+)"?/i.exec(headers['content-type'] || '');
  const label = charset ? charset[1].toLowerCase() : 'utf-8';
  try {
    return new TextDecoder(label).decode(bytes);
  } catch {
    return bytes.toString('utf8');
  }
}

// Every leaf part of a message as { type, text }.
function leafParts(raw) {
  const { headers, body } = splitEntity(raw);
  const type = (headers['content-type'] || 'text/plain').split(';')[0].trim().toLowerCase();
  if (!type.startsWith('multipart/')) return [{ type, text: decodeBody(body, headers) }];
  const boundary = /boundary="?([^";]+)"?/i.exec(headers['content-type']);
  if (!boundary) return [];
  const result = [];
  const pieces = body.split(new RegExp(`\\r?\\n?--${boundary[1].replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  for (const piece of pieces.slice(1)) {
    if (piece.startsWith('--')) break;  // the closing delimiter
    result.push(...leafParts(piece.replace(/^[ \t]*\r?\n/, '')));
  }
  return result;
}

const CONFIRM_URL = /https?:\/\/[^\s<>"']+\/confirm\?token=[^\s<>"'&]+(?:&amp;[^\s<>"']+|&[^\s<>"']+)*/;

// Polls the spool for a mail to `address` with a confirmation link; returns the link.
async function waitForConfirmationUrl(spool, address, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  const wanted = address.toLowerCase();
  let seen = 0;
  for (;;) {
    const files = fs.existsSync(spool) ? fs.readdirSync(spool).filter((f) => f.endsWith('.eml')).sort() : [];
    seen = files.length;
    for (const file of files) {
      const raw = fs.readFileSync(path.join(spool, file), 'latin1');
      const { headers } = splitEntity(raw);
      if (!(headers.to || '').toLowerCase().includes(wanted)) continue;
      const parts = leafParts(raw);
      const ordered = [...parts.filter((p) => p.type === 'text/plain'),
                       ...parts.filter((p) => p.type === 'text/html')];
      for (const part of ordered) {
        const found = CONFIRM_URL.exec(part.text);
        if (found) return found[0].replace(/&amp;/g, '&');
      }
      throw new Failure(`the mail to ${address} (${file}) has no /confirm?token= link; its parts: `
                        + JSON.stringify(parts.map((p) => ({ type: p.type, text: p.text.slice(0, 400) }))));
    }
    if (Date.now() >= deadline) {
      throw new Failure(`no mail to ${address} in ${spool} within ${timeoutMs / 1000} s `
                        + `(${seen} other mail(s) there)`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

// ------------------------------------------------------------------ the browser flow

async function main() {
  const baseUrl = requireEnv('INKWELL_BASE_URL').replace(/\/$/, '');
  const spool = requireEnv('INKWELL_MAIL_SPOOL');
  const shotDir = requireEnv('INKWELL_SCREENSHOT_DIR');
  const executablePath = process.env.INKWELL_CHROMIUM || '/usr/bin/chromium';
  fs.mkdirSync(shotDir, { recursive: true });

  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch (error) {
    throw new Failure(`cannot load playwright-core (${error.message}): run scripts/install-deps test`);
  }
  expect(fs.existsSync(executablePath), `${executablePath} is missing: run scripts/install-deps test`);

  const browser = await chromium.launch({ executablePath, headless: true, timeout: NAV_MS });
  const state = { page: null };
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    state.page = page;
    page.setDefaultTimeout(STEP_MS);
    page.setDefaultNavigationTimeout(NAV_MS);

    const dialogs = [];
    page.on('dialog', async (dialog) => {
      dialogs.push(`${dialog.type()}: ${dialog.message()}`);
      await dialog.dismiss().catch(() => {});
    });
    const pageErrors = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    const badResponses = [];
    let stylesheetOk = false;
    page.on('response', (response) => {
      const url = new URL(response.url());
      if (url.pathname === '/static/style.css' && response.status() === 200) stylesheetOk = true;
      if (response.status() >= 400) badResponses.push(`${response.status()} ${response.request().method()} ${url.pathname}`);
    });

    const shot = async (name, options = {}) => {
      await page.screenshot({ path: path.join(shotDir, name), fullPage: true, ...options });
      console.log(`  screenshot ${name}`);
    };
    const step = (text) => console.log(`- ${text}`);
    // Loads a page with GET and checks the HTTP status of the document.
    const open = async (url) => {
      const response = await page.goto(url, { waitUntil: 'load' });
      expect(response, `no response for ${url}`);
      expect(response.status() < 400,
             `GET ${url} answered ${response.status()}: ${await heading(page)}`);
      return response;
    };
    // Submits by clicking and waits for the next document; checks its status.
    const submit = async (locator, what) => {
      const [response] = await Promise.all([
        page.waitForNavigation({ waitUntil: 'load' }),
        locator.click(),
      ]);
      expect(response, `${what}: the form submission led to no page`);
      expect(response.status() < 400,
             `${what}: ${response.request().method()} ${new URL(response.url()).pathname} answered `
             + `${response.status()}: ${await heading(page)}`);
      return response;
    };
    const nav = page.locator('header.site-header');

    const tag = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    const user = { name: `Ada ${tag}`, email: `ada-${tag}@example.org`, password: 'correct horse battery staple' };
    const post = { title: `Notes on the Analytical Engine ${tag}` };
    post.body = [
      '## Why the notes matter',
      '',
      'The engine *weaves* algebraic patterns as the loom weaves flowers.',
      '',
      '- first point',
      '- second point',
      '',
      '<script>alert(1)</script>',
      '',
    ].join('\n');
    const comment = 'Splendid work.\nA second line of the comment.';

    step('register');
    await open(`${baseUrl}/register`);
    expect(stylesheetOk, 'GET /static/style.css did not answer 200 with the register page');
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(background === 'rgb(251, 250, 247)', `the stylesheet is not applied (body background ${background})`);
    await page.locator('input[name="user_name"]').fill(user.name);
    await page.locator('input[name="user_email"]').fill(user.email);
    await page.locator('input[name="user_password"]').fill(user.password);
    await shot('01-register.png');
    await submit(page.getByRole('button', { name: 'Register', exact: true }), 'register');
    await page.getByRole('heading', { level: 1, name: /check your mail/i }).waitFor();
    expect((await page.locator('main').innerText()).includes(user.email),
           'the "check your mail" page does not name the address');
    await shot('02-check-your-mail.png');

    step(`wait for the confirmation mail to ${user.email}`);
    const confirmUrl = await waitForConfirmationUrl(spool, user.email, MAIL_MS);
    console.log(`  link ${confirmUrl}`);
    expect(confirmUrl.startsWith(`${baseUrl}/confirm?token=`),
           `the confirmation link ${confirmUrl} does not point at ${baseUrl}/confirm?token=…`);

    step('confirm');
    await open(confirmUrl);
    await page.getByRole('heading', { level: 1, name: /all set/i }).waitFor();
    await shot('03-confirmed.png');

    step('log in');
    await Promise.all([page.waitForNavigation(), page.locator('main').getByRole('link', { name: 'Log in' }).click()]);
    expect(new URL(page.url()).pathname === '/login', `the confirmed page's Log in link led to ${page.url()}`);
    await page.locator('input[name="email"]').fill(user.email);
    await page.locator('input[name="password"]').fill(user.password);
    await shot('04-login.png');
    await submit(page.locator('main').getByRole('button', { name: 'Log in' }), 'log in');
    await nav.getByRole('button', { name: 'Log out' }).waitFor();
    expect((await nav.innerText()).includes(user.name), 'the header does not show the user name after login');
    expect(await nav.getByRole('link', { name: 'Log in' }).count() === 0, 'the header still offers "Log in" after login');
    await shot('05-logged-in.png');

    step('write and publish a post');
    await submit(nav.getByRole('link', { name: 'New post' }), 'open the new-post form');
    await page.locator('input[name="title"]').fill(post.title);
    await page.locator('textarea[name="body"]').fill(post.body);
    const published = page.locator('input[name="published"]');
    await published.check();
    await shot('06-new-post.png');
    await submit(page.locator('main form button[type="submit"]'), 'save the post');
    await page.getByRole('heading', { level: 1, name: post.title }).waitFor();
    post.url = page.url();
    const prose = page.locator('.prose');
    expect(await prose.locator('h2', { hasText: 'Why the notes matter' }).count() === 1,
           `the Markdown heading is not rendered as <h2>: ${await prose.innerHTML()}`);
    expect(await prose.locator('li').count() === 2, `the Markdown list is not rendered: ${await prose.innerHTML()}`);
    expect(await prose.locator('em', { hasText: 'weaves' }).count() === 1, 'the *emphasis* is not rendered');
    expect(await page.locator('main script').count() === 0, 'a <script> element made it into the page');
    expect((await prose.innerText()).includes('<script>alert(1)</script>'),
           `the <script> line is not shown as text: ${await prose.innerHTML()}`);
    expect(dialogs.length === 0, `a dialog opened: ${dialogs.join('; ')}`);
    expect(await page.locator('.entry .badge').count() === 0, 'the published post is marked as a draft');
    await shot('07-post.png');

    step('comment');
    await page.locator('.comment-form textarea[name="body"]').fill(comment);
    await submit(page.getByRole('button', { name: 'Post comment' }), 'post the comment');
    const commentBody = page.locator('.comment__body', { hasText: 'Splendid work.' });
    await commentBody.waitFor();
    const shown = await commentBody.innerText();
    expect(shown.includes('Splendid work.\nA second line of the comment.'),
           `the comment lost its line break: ${JSON.stringify(shown)}`);
    expect((await page.locator('.comment').first().innerText()).includes(user.name),
           'the comment does not name its author');
    await shot('08-comment.png');

    step('front page');
    await submit(page.locator('header .brand'), 'open the front page');
    const card = page.locator('.post-card', { hasText: post.title });
    await card.waitFor();
    expect((await card.innerText()).includes(user.name), 'the front-page card does not name the author');
    expect((await card.innerText()).includes('algebraic patterns'),
           `the front-page excerpt is missing: ${JSON.stringify(await card.innerText())}`);
    await shot('09-home.png');
    await page.setViewportSize({ width: 375, height: 740 });
    await shot('10-home-375.png');
    await open(post.url);
    await page.locator('.comment__body').first().waitFor();
    await shot('11-post-375.png');
    await page.setViewportSize({ width: 1280, height: 800 });

    step('log out');
    await submit(nav.getByRole('button', { name: 'Log out' }), 'log out');
    await nav.getByRole('link', { name: 'Log in' }).waitFor();
    expect(await nav.getByRole('link', { name: 'Register' }).count() === 1, 'no Register link after logout');
    expect(await nav.getByRole('button', { name: 'Log out' }).count() === 0, 'the Log out button is still shown');
    expect(!(await nav.innerText()).includes(user.name), 'the user name is still in the header after logout');
    await shot('12-logged-out.png');
    await open(post.url);
    await page.getByRole('link', { name: 'Log in to comment' }).waitFor();
    expect(await page.locator('.comment-form').count() === 0, 'an anonymous visitor is offered the comment form');
    await shot('13-post-anonymous.png');

    expect(dialogs.length === 0, `a dialog opened: ${dialogs.join('; ')}`);
    expect(pageErrors.length === 0, `script errors on the pages: ${pageErrors.join('; ')}`);
    expect(badResponses.length === 0, `error responses: ${badResponses.join('; ')}`);
    const missing = SCREENSHOTS.filter((name) => !fs.existsSync(path.join(shotDir, name)));
    expect(missing.length === 0, `screenshots not written: ${missing.join(', ')}`);
  } catch (error) {
    if (state.page) {
      const where = state.page.url();
      const text = await state.page.locator('body').innerText({ timeout: 2000 }).catch(() => '');
      await state.page.screenshot({ path: path.join(shotDir, '99-failure.png'), fullPage: true }).catch(() => {});
      error.message += `\n  at ${where}\n  page text: ${text.replace(/\s+/g, ' ').slice(0, 600)}`;
    }
    throw error;
  } finally {
    await browser.close().catch(() => {});
  }
}

async function heading(page) {
  const h1 = await page.locator('h1').first().innerText({ timeout: 1000 }).catch(() => '');
  const lead = await page.locator('main .lead, main .error').first().innerText({ timeout: 1000 }).catch(() => '');
  return [h1, lead].filter(Boolean).join(' — ') || '(no heading)';
}

const watchdog = setTimeout(() => {
  console.error(`FAIL: the browser flow did not finish within ${TOTAL_MS / 1000} s`);
  process.exit(1);
}, TOTAL_MS);

const started = Date.now();
main().then(() => {
  clearTimeout(watchdog);
  console.log(`PASS: browser flow in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}, (error) => {
  clearTimeout(watchdog);
  const label = error instanceof Failure ? '' : `${error.name}: `;
  console.error(`FAIL: ${label}${error.message}`);
  process.exit(1);
});
