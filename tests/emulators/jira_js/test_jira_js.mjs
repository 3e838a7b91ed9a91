// The Jira emulator (emulators/jira) driven by a client nobody here wrote:
// the npm package jira.js 5.x, its Version3Client, with Basic auth (email +
// API token). Search with nextPageToken (searchForIssuesUsingJqlEnhancedSearch
// and its POST form), get, edit, labels, transitions read and done (Done needs
// a resolution), the changelog, comments in ADF, entity properties.
// Starts the emulator on a free loopback port with a temporary database and
// stops it by its process id. Exits 77 (skipped) only when node_modules (npm ci
// in this folder) is missing; non-zero on any mismatch.
//
//   node tests/emulators/jira_js/test_jira_js.mjs

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const SERVER = join(HERE, '..', '..', '..', 'emulators', 'jira', 'server.py');
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const EMAIL = 'jirajs@example.com';
const TOKEN = 'jira-js-token';
const TZ = 'Europe/Berlin';

let jira;
try {
  jira = await import('jira.js');
} catch (e) {
  if (!existsSync(join(HERE, 'node_modules', 'jira.js'))) {
    console.log('skipped: jira.js is not installed (run npm ci in tests/emulators/jira_js)');
    process.exit(77);
  }
  throw e;
}
const { Version3Client } = jira;

function startEmulator() {
  const tmp = mkdtempSync(join(tmpdir(), 'jirajs-'));
  const proc = spawn(PYTHON, [SERVER, '--port', '0', '--db', join(tmp, 'jira.db'), '--project', 'EMU:Emulated',
    '--user', `${EMAIL}:${TOKEN}:${TZ}`], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the emulator did not start in 20 s')), 20000);
    const rl = createInterface({ input: proc.stdout });
    rl.once('line', line => {
      clearTimeout(timer);
      const m = /^listening 127\.0\.0\.1:(\d+)$/.exec(line.trim());
      if (!m) {
        reject(new Error(`unexpected first line: ${line}`));
        return;
      }
      resolve({ proc, tmp, base: `http://127.0.0.1:${m[1]}` });
    });
    proc.once('exit', code => reject(new Error(`the emulator exited (${code})`)));
  });
}

const adf = (...paras) => ({
  type: 'doc', version: 1,
  content: paras.map(p => ({ type: 'paragraph', content: [{ type: 'text', text: p }] })),
});

async function rejects(promise, status) {
  try {
    await promise;
  } catch (e) {
    assert.equal(e.status, status, `expected HTTP ${status}, got ${e.status}: ${e.message}`);
    return e.response?.data;
  }
  assert.fail(`expected HTTP ${status}, the call succeeded`);
}

const emu = await startEmulator();
const client = new Version3Client({ host: emu.base, authentication: { basic: { email: EMAIL, apiToken: TOKEN } } });
const results = [];
const keys = [];

async function check(name, fn) {
  try {
    await fn();
    results.push(true);
    console.log(`ok ${results.length} - ${name}`);
  } catch (e) {
    results.push(false);
    console.log(`not ok ${results.length} - ${name}\n  ${(e.stack || String(e)).split('\n').join('\n  ')}`);
  }
}

try {
  await check('myself: account id, email, time zone', async () => {
    const me = await client.myself.getCurrentUser();
    assert.equal(me.emailAddress, EMAIL);
    assert.equal(me.timeZone, TZ);
    assert.match(me.accountId, /^712020:/);
  });

  await check('create issues (ADF description, labels)', async () => {
    for (let i = 0; i < 7; i++) {
      const created = await client.issues.createIssue({
        fields: {
          project: { key: 'EMU' }, issuetype: { name: 'Task' }, summary: `jira.js ${i}`,
          description: adf(`made by jira.js ${i}`), labels: ['jirajs', i % 2 ? 'odd' : 'even'],
        },
      });
      assert.match(created.key, /^EMU-\d+$/);
      assert.match(created.id, /^\d+$/);
      keys.push(created.key);
    }
  });

  await check('search with nextPageToken (GET), every page, last page without a token', async () => {
    const seen = [];
    let nextPageToken;
    let pages = 0;
    for (;;) {
      const page = await client.issueSearch.searchForIssuesUsingJqlEnhancedSearch({
        jql: 'project = EMU AND labels = jirajs ORDER BY key ASC', maxResults: 3, fields: ['summary', 'labels'],
        nextPageToken,
      });
      pages += 1;
      for (const issue of page.issues) {
        assert.ok(issue.fields.summary.startsWith('jira.js'));
        seen.push(issue.key);
      }
      if (page.isLast) {
        assert.equal(page.nextPageToken, undefined);
        break;
      }
      assert.equal(typeof page.nextPageToken, 'string');
      ({ nextPageToken } = page);
    }
    assert.deepEqual(seen, keys);
    assert.equal(pages, 3);
  });

  await check('search with nextPageToken (POST)', async () => {
    const first = await client.issueSearch.searchForIssuesUsingJqlEnhancedSearchPost({
      jql: 'labels = odd ORDER BY key DESC', maxResults: 2, fields: ['summary'],
    });
    assert.deepEqual(first.issues.map(i => i.key), [keys[5], keys[3]]);
    const second = await client.issueSearch.searchForIssuesUsingJqlEnhancedSearchPost({
      jql: 'labels = odd ORDER BY key DESC', maxResults: 2, fields: ['summary'], nextPageToken: first.nextPageToken,
    });
    assert.deepEqual(second.issues.map(i => i.key), [keys[1]]);
    assert.equal(second.isLast, true);
  });

  await check('a bad JQL is a 400 with errorMessages', async () => {
    const data = await rejects(client.issueSearch.searchForIssuesUsingJqlEnhancedSearch({ jql: 'nosuch = 1' }), 400);
    assert.match(data.errorMessages[0], /Field 'nosuch' does not exist/);
  });

  await check('get an issue with fields', async () => {
    const issue = await client.issues.getIssue({ issueIdOrKey: keys[0], fields: ['summary', 'status', 'description'] });
    assert.equal(issue.key, keys[0]);
    assert.deepEqual(Object.keys(issue.fields).sort(), ['description', 'status', 'summary']);
    assert.equal(issue.fields.status.name, 'To Do');
    assert.equal(issue.fields.status.statusCategory.key, 'new');
    assert.deepEqual(issue.fields.description, adf('made by jira.js 0'));
  });

  await check('edit: summary and labels (update add/remove)', async () => {
    await client.issues.editIssue({
      issueIdOrKey: keys[0], fields: { summary: 'edited by jira.js' },
      update: { labels: [{ add: 'synced' }, { remove: 'even' }] },
    });
    const issue = await client.issues.getIssue({ issueIdOrKey: keys[0], fields: ['summary', 'labels'] });
    assert.equal(issue.fields.summary, 'edited by jira.js');
    assert.deepEqual(issue.fields.labels, ['jirajs', 'synced']);
    const found = await client.issueSearch.searchForIssuesUsingJqlEnhancedSearch({ jql: 'labels = synced', fields: ['key'] });
    assert.deepEqual(found.issues.map(i => i.key), [keys[0]]);
  });

  await check('edit: status cannot be set', async () => {
    const data = await rejects(client.issues.editIssue({ issueIdOrKey: keys[1], fields: { status: { name: 'Done' } } }), 400);
    assert.match(data.errors.status, /cannot be set/);
  });

  await check('transitions: read from the current status, with screen fields', async () => {
    const { transitions } = await client.issues.getTransitions({ issueIdOrKey: keys[1], expand: 'transitions.fields' });
    assert.deepEqual(transitions.map(t => [t.id, t.to.name]), [['11', 'In Progress']]);
  });

  await check('transition in several steps; Done needs a resolution', async () => {
    await client.issues.doTransition({ issueIdOrKey: keys[1], transition: { id: '11' } });
    await client.issues.doTransition({ issueIdOrKey: keys[1], transition: { id: '31' } });
    const { transitions } = await client.issues.getTransitions({ issueIdOrKey: keys[1], expand: 'transitions.fields' });
    const done = transitions.find(t => t.to.name === 'Done');
    assert.ok(done, 'Done is available from In Review');
    assert.equal(done.fields.resolution.required, true);
    const data = await rejects(client.issues.doTransition({ issueIdOrKey: keys[1], transition: { id: done.id } }), 400);
    assert.ok(data.errors.resolution);
    await client.issues.doTransition({
      issueIdOrKey: keys[1], transition: { id: done.id }, fields: { resolution: { name: 'Done' } },
    });
    const issue = await client.issues.getIssue({ issueIdOrKey: keys[1], fields: ['status', 'resolution'] });
    assert.equal(issue.fields.status.name, 'Done');
    assert.equal(issue.fields.resolution.name, 'Done');
  });

  await check('changelog: paged, oldest first, status items', async () => {
    const p1 = await client.issues.getChangeLogs({ issueIdOrKey: keys[1], startAt: 0, maxResults: 2 });
    assert.equal(p1.total, 3);
    assert.equal(p1.isLast, false);
    assert.deepEqual(p1.values[0].items.map(i => [i.field, i.fromString, i.toString]), [['status', 'To Do', 'In Progress']]);
    const p2 = await client.issues.getChangeLogs({ issueIdOrKey: keys[1], startAt: 2, maxResults: 2 });
    assert.equal(p2.isLast, true);
    assert.deepEqual(p2.values[0].items.map(i => i.field).sort(), ['resolution', 'status']);
  });

  await check('comments in ADF: add (document and plain string) and list', async () => {
    const doc = {
      type: 'doc', version: 1,
      content: [{ type: 'paragraph', content: [{ type: 'text', text: 'line one' }, { type: 'hardBreak' }, { type: 'text', text: 'line two' }] }],
    };
    const added = await client.issueComments.addComment({ issueIdOrKey: keys[2], comment: doc });
    assert.deepEqual(added.body, doc);
    await client.issueComments.addComment({ issueIdOrKey: keys[2], comment: 'plain text, wrapped in ADF by jira.js' });
    const page = await client.issueComments.getComments({ issueIdOrKey: keys[2] });
    assert.equal(page.total, 2);
    assert.deepEqual(page.comments[0].body, doc);
    assert.equal(page.comments[1].body.content[0].content[0].text, 'plain text, wrapped in ADF by jira.js');
  });

  await check('entity properties: set, get, keys', async () => {
    await client.issueProperties.setIssueProperty({
      issueIdOrKey: keys[3], propertyKey: 'concord.link', propertyValue: { ticket: 'INC0010001', version: 3 },
    });
    const prop = await client.issueProperties.getIssueProperty({ issueIdOrKey: keys[3], propertyKey: 'concord.link' });
    assert.deepEqual(prop, { key: 'concord.link', value: { ticket: 'INC0010001', version: 3 } });
    const { keys: list } = await client.issueProperties.getIssuePropertyKeys({ issueIdOrKey: keys[3] });
    assert.deepEqual(list.map(k => k.key), ['concord.link']);
    await rejects(client.issueProperties.getIssueProperty({ issueIdOrKey: keys[3], propertyKey: 'absent' }), 404);
  });

  await check('wrong API token: 401', async () => {
    const bad = new Version3Client({ host: emu.base, authentication: { basic: { email: EMAIL, apiToken: 'wrong' } } });
    await rejects(bad.myself.getCurrentUser(), 401);
  });
} finally {
  emu.proc.kill('SIGTERM');
  await new Promise(resolve => {
    if (emu.proc.exitCode !== null) resolve();
    else emu.proc.once('exit', resolve);
  });
  rmSync(emu.tmp, { recursive: true, force: true });
}

const failed = results.filter(r => !r).length;
console.log(`${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
