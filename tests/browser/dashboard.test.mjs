// dashboard.test.mjs -- the admin console in a real browser (Debian's chromium driven by
// playwright-core): sign in, find the simulated device by search, lock it through the
// confirmation dialog, see the command queued, run the device's next management session
// and see the command turn done without a reload. Screenshots in tests/out/browser/.
//
// Environment:
//   BASE_URL         gateway https URL (the API; the console is BASE_URL/admin/)
//   ADMIN_URL        console URL if not BASE_URL/admin/ (e.g. tests/browser/serve.mjs)
//   CA               CA file of the gateway certificate (for this script's own API calls;
//                    the browser ignores certificate errors of the test gateway)
//   ADMIN_EMAIL + ADMIN_PASSWORD, or ADMIN_TOKEN (bootstrap token): with only a token,
//                    an admin is created through POST /admins + POST /login when the
//                    server has them; otherwise the console's "use a token" path is used
//   DEVICE_ID        the simulator's DeviceID (enrolled, one session done)
//   SIM_SESSION_CMD  shell command running the simulator's next management session
//   OUT_DIR          screenshots (default tests/out/browser)
//   CHROMIUM         browser binary (default /usr/bin/chromium)
//   LOGIN_MODE=token use the console's "use a token" path even when password sign-in works
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exec } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const env = process.env;
const BASE_URL = (env.BASE_URL || '').replace(/\/+$/, '');
const ADMIN_URL = env.ADMIN_URL || `${BASE_URL}/admin/`;
const OUT_DIR = path.resolve(env.OUT_DIR || path.join(here, '../out/browser'));
const CHROMIUM = env.CHROMIUM || '/usr/bin/chromium';
const DEVICE_ID = env.DEVICE_ID || '';
const T = 20000; // per-step wait

for (const [k, v] of Object.entries({ BASE_URL, DEVICE_ID, SIM_SESSION_CMD: env.SIM_SESSION_CMD })) {
	if (!v) { console.error(`dashboard.test: ${k} is required`); process.exit(2); }
}
if (!env.ADMIN_TOKEN && !(env.ADMIN_EMAIL && env.ADMIN_PASSWORD)) {
	console.error('dashboard.test: ADMIN_TOKEN or ADMIN_EMAIL + ADMIN_PASSWORD is required');
	process.exit(2);
}
fs.mkdirSync(OUT_DIR, { recursive: true });
const ca = env.CA ? fs.readFileSync(env.CA) : undefined;

// callApi(method, path, body, token) -> {status, body}
function callApi(method, p, body, token) {
	const u = new URL(BASE_URL + p);
	const mod = u.protocol === 'https:' ? https : http;
	const data = body === undefined ? undefined : JSON.stringify(body);
	return new Promise((resolve, reject) => {
		const req = mod.request(u, {
			method, ca,
			headers: {
				...(token ? { Authorization: `Bearer ${token}` } : {}),
				...(data ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } : {}),
			},
		}, (res) => {
			let text = '';
			res.setEncoding('utf8');
			res.on('data', (c) => { text += c; });
			res.on('end', () => {
				let json = null;
				try { json = text ? JSON.parse(text) : null; } catch (e) { /* not JSON */ }
				resolve({ status: res.statusCode, body: json, text });
			});
		});
		req.on('error', reject);
		req.end(data);
	});
}

// How to sign in: given credentials; or an admin made with the bootstrap token when the
// server has POST /admins and POST /login; or the bootstrap token itself.
async function chooseLogin() {
	if (env.LOGIN_MODE === 'token' && env.ADMIN_TOKEN) return { mode: 'token', token: env.ADMIN_TOKEN };
	if (env.ADMIN_EMAIL && env.ADMIN_PASSWORD) return { mode: 'password', email: env.ADMIN_EMAIL, password: env.ADMIN_PASSWORD };
	const email = `browser-${Date.now()}-${crypto.randomBytes(3).toString('hex')}@example.com`;
	const password = crypto.randomBytes(12).toString('base64url');
	const made = await callApi('POST', '/api/v1/admins', { email, password, role: 'admin' }, env.ADMIN_TOKEN);
	if (made.status === 201) {
		const login = await callApi('POST', '/api/v1/login', { email, password });
		if (login.status === 200 && login.body && login.body.token) return { mode: 'password', email, password, created: true };
		if (login.status !== 404 && login.status !== 405) throw new Error(`POST /login for the new admin answered ${login.status}: ${login.text}`);
	} else if (made.status !== 404 && made.status !== 405) {
		throw new Error(`POST /admins answered ${made.status}: ${made.text}`);
	}
	return { mode: 'token', token: env.ADMIN_TOKEN };
}

function run(cmd, timeoutMs = 60000) {
	return new Promise((resolve, reject) => {
		exec(cmd, { shell: '/bin/bash', timeout: timeoutMs }, (err, stdout, stderr) => {
			if (err) reject(new Error(`${cmd}: ${err.message}\n${stdout}\n${stderr}`));
			else resolve(stdout);
		});
	});
}

const shot = (page, name, full = false) => page.screenshot({ path: path.join(OUT_DIR, `${name}.png`), fullPage: full });

test('admin console: sign in, find the device, lock it, see the command done', async (t) => {
	const login = await chooseLogin();
	t.diagnostic(`sign-in: ${login.mode}${login.created ? ' (admin created through POST /admins)' : ''}`);
	// headless, and a new empty profile per launch (playwright makes a temporary one)
	const browser = await chromium.launch({
		executablePath: CHROMIUM,
		headless: true,
		args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
			'--disable-component-update', '--disable-sync'],
	});
	const problems = [];
	try {
		const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1366, height: 768 } });
		const page = await context.newPage();
		page.setDefaultTimeout(T);
		page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
		page.on('console', (m) => {
			const text = m.text();
			// a 404/405 of a route the server does not have yet is expected and shown in the page
			if (m.type() === 'error' && !/status of 40[45]/.test(text)) problems.push(`console error: ${text}`);
			if (/Content Security Policy/i.test(text)) problems.push(`CSP: ${text}`);
		});
		let failed = false;
		const step = (name, fn) => t.test(name, { skip: failed && 'an earlier step failed' }, async (st) => {
			try { await fn(st); } catch (e) { failed = true; await shot(page, `dashboard-failed-${name.replace(/\W+/g, '-')}`, true).catch(() => {}); throw e; }
		});
		let navigations = 0;
		page.on('framenavigated', (f) => { if (f === page.mainFrame()) navigations++; });

		await step('sign in', async () => {
			const res = await page.goto(ADMIN_URL);
			assert.equal(res.status(), 200, 'console page served');
			const csp = res.headers()['content-security-policy'] || '';
			assert.match(csp, /default-src 'self'/, 'served with the strict CSP');
			await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
			// keyboard: the first focusable element is the skip link; the email field has the focus
			assert.equal(await page.evaluate(() => document.querySelector('a[href], button, input, select, textarea').className), 'skip-link');
			assert.equal(await page.evaluate(() => document.activeElement.type), 'email');
			await shot(page, 'dashboard-01-login');
			if (login.mode === 'password') {
				const form = page.locator('form', { has: page.getByRole('heading', { name: 'Administrator account' }) });
				await form.getByLabel('Email').fill(login.email);
				await form.getByLabel('Password').fill(login.password);
				await form.getByRole('button', { name: 'Sign in' }).click();
			} else {
				const form = page.locator('form', { has: page.getByRole('heading', { name: 'Use a token' }) });
				await form.getByLabel('Token').fill(login.token);
				await form.getByRole('button', { name: 'Use token' }).click();
			}
			await page.getByRole('navigation', { name: 'Main' }).waitFor();
			await page.locator('#who-role').filter({ hasText: 'admin' }).waitFor();
			const stored = await page.evaluate(() => sessionStorage.getItem('mdm.session'));
			assert.ok(stored && JSON.parse(stored).token, 'token kept in sessionStorage');
			const secret = login.mode === 'password' ? JSON.parse(stored).token : login.token;
			assert.ok(!page.url().includes(secret), 'token never in the URL');
		});

		await step('overview with live counters (or a clear notice)', async () => {
			await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
			await page.locator('.counter, .notice, .error-box').first().waitFor();
			await shot(page, 'dashboard-02-overview');
		});

		let rowLink;
		await step('find the device by search', async () => {
			await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Devices' }).click();
			await page.getByRole('heading', { level: 1, name: 'Devices' }).waitFor();
			await page.getByLabel('Search').fill(DEVICE_ID.slice(0, 12).toLowerCase());
			const row = page.locator(`#devices-table tbody tr[data-device-id="${DEVICE_ID}"]`);
			await row.waitFor();
			await page.waitForFunction((id) => {
				const rows = [...document.querySelectorAll('#devices-table tbody tr')];
				return rows.length > 0 && rows.every((r) => r.dataset.deviceId.toLowerCase().includes(id.slice(0, 12).toLowerCase()));
			}, DEVICE_ID);
			await shot(page, 'dashboard-03-devices');
			rowLink = row.getByRole('link');
		});

		let cmdId;
		await step('lock through the confirmation dialog: queued', async () => {
			await rowLink.click();
			await page.locator('#commands-table').waitFor();
			assert.ok(page.url().includes(`#/devices/${DEVICE_ID}`), 'device page');
			await page.getByRole('button', { name: 'Lock', exact: true }).click();
			const dlg = page.getByRole('dialog');
			await dlg.waitFor();
			assert.equal(await page.evaluate(() => document.getElementById('confirm').open), true, 'a real <dialog> is open');
			assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Lock', 'the confirm button has the focus');
			await shot(page, 'dashboard-04-confirm');
			await page.keyboard.press('Enter');
			await dlg.waitFor({ state: 'hidden' });
			const queued = page.locator('#commands-table tbody tr[data-type="lock"][data-state="queued"]').first();
			await queued.waitFor();
			assert.equal((await queued.locator('.cmd-state').textContent()).trim(), 'queued');
			cmdId = await queued.getAttribute('data-command-id');
			assert.ok(cmdId, 'command id on the row');
			await page.locator('#status').filter({ hasText: 'queued' }).waitFor();
			await page.locator('#poll-note').filter({ hasText: 'pending' }).waitFor();
			await page.evaluate(() => { window.__mdmNoReload = true; });
		});

		await step('the device session runs the command: done without reloading', async () => {
			const before = navigations;
			await run(env.SIM_SESSION_CMD);
			const done = page.locator(`#commands-table tbody tr[data-command-id="${cmdId}"][data-state="done"]`);
			await done.waitFor({ timeout: T });
			assert.equal((await done.locator('.cmd-state').textContent()).trim(), 'done');
			assert.match(await done.locator('td').nth(2).textContent(), /200/, 'device status 200');
			assert.equal(await page.evaluate(() => window.__mdmNoReload === true), true, 'same page, no reload');
			assert.equal(navigations, before, 'no navigation');
			await page.locator('#status').filter({ hasText: 'done' }).waitFor();
			await shot(page, 'dashboard-05-device-done');
			await shot(page, 'dashboard-06-device-full', true);
		});

		await t.test('no CSP violation or script error', () => {
			assert.deepEqual(problems, []);
		});
		await context.close();
	} finally {
		await browser.close();
	}
});
