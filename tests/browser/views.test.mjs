// views.test.mjs -- every console page against the API contract (docs/api-contract.md),
// with the API answered by the test itself (no server: the browser's requests are
// intercepted): live counters and chart, device filters and paging, the one-time
// secret, groups CRUD, the audit filters, the read-only role, wipe's typed confirmation,
// a session that ends (401). Screenshots in tests/out/browser/views-*.png.
// Environment: OUT_DIR, CHROMIUM (as dashboard.test.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const ADMIN_DIR = path.resolve(here, '../../admin');
const OUT_DIR = path.resolve(process.env.OUT_DIR || path.join(here, '../out/browser'));
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ORIGIN = 'http://127.0.0.1:9'; // never contacted: every request is answered below
const CSP = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };
fs.mkdirSync(OUT_DIR, { recursive: true });

const now = Math.floor(Date.now() / 1000);
const hour = now - (now % 3600);
const day = now - (now % 86400);

function device(i, extra = {}) {
	const id = `DEV${String(i).padStart(4, '0')}ABCDEF0123456789ABCDEF01`;
	return {
		device_id: id, hwdevid: `HW${i}`, user: `user${i % 3}@example.com`, device_name: `LAPTOP-${i}`, platform: 'windows',
		state: i % 5 === 0 ? 'unenrolled' : 'enrolled', os_version: '10.0.22631.4460', os_edition: '48', device_type: 'CIMClient_Windows',
		enrollment_type: 'Full', auth: 'onpremise', enrolled_at: now - 86400 * i, last_seen: now - 600 * i, macs: ['00-15-5D-00-00-01'],
		certificate: { serial: '0A0B', thumbprint: 'ABCDEF', not_after: now + 86400 * 300 },
		inventory: { swv: '10.0.22631.4460', oem: 'Contoso', ext_microsoft_totalram: '16384' }, devinfo: { man: 'Contoso', mod: 'Model 7' },
		...extra,
	};
}

// A small in-memory server following the contract; records every request.
function makeServer({ role = 'admin' } = {}) {
	const s = {
		calls: [],
		statsN: 0,
		groups: new Map([['Sales', new Set([device(1).device_id])], ['Kiosks', new Set()]]),
		commands: [],
		expire: false,
	};
	s.handle = (method, url, body) => {
		const p = url.pathname.replace(/^\/api\/v1/, '');
		const q = Object.fromEntries(url.searchParams);
		s.calls.push({ method, path: p, query: q, body });
		if (s.expire && p !== '/login') return [401, { error: { code: 'authentication', message: 'session expired' } }];
		let m;
		if (method === 'POST' && p === '/login') {
			if (body.password !== 'right password') return [401, { error: { code: 'authentication', message: 'wrong email or password' } }];
			return [200, { token: 'sess-token-1', expires_at: now + 43200, role, email: body.email }];
		}
		if (method === 'POST' && p === '/logout') return [204, null];
		if (method === 'GET' && p === '/me') return [200, { kind: 'session', email: 'ops@example.com', role }];
		if (method === 'GET' && p === '/stats') {
			s.statsN++;
			const total = 120 + s.statsN;
			return [200, {
				devices: { total, by_state: { enrolled: total - 7, unenrolled: 7 }, by_platform: { windows: total } },
				enrollments: { per_hour: Array.from({ length: 48 }, (_, i) => ({ t: hour - (47 - i) * 3600, n: (i * 7) % 5 + (i > 40 ? 3 : 0) })), per_day: Array.from({ length: 30 }, (_, i) => ({ t: day - (29 - i) * 86400, n: (i * 5) % 9 })) },
				sessions: { per_hour: Array.from({ length: 48 }, (_, i) => ({ t: hour - (47 - i) * 3600, n: 10 + ((i * 13) % 11) })) },
				commands: { queued: 3, done: 250 + s.statsN, failed: 2 },
			}];
		}
		if (method === 'GET' && p === '/devices') {
			const all = Array.from({ length: 60 }, (_, i) => device(i + 1));
			let list = all.filter((d) => (!q.q || d.device_name.toLowerCase().includes(q.q.toLowerCase()) || d.device_id.toLowerCase().includes(q.q.toLowerCase()))
				&& (!q.state || d.state === q.state) && (!q.platform || d.platform === q.platform) && (!q.user || d.user === q.user)
				&& (!q.last_seen_after || d.last_seen >= Number(q.last_seen_after)));
			const start = q.cursor ? Number(Buffer.from(q.cursor, 'base64url').toString()) : 0;
			const limit = Number(q.limit || 50);
			const page = list.slice(start, start + limit);
			const next = start + limit < list.length ? Buffer.from(String(start + limit)).toString('base64url') : null;
			return [200, { devices: page, next }];
		}
		if ((m = /^\/devices\/([^/]+)$/.exec(p)) && method === 'GET') {
			const n = Number(m[1].slice(3, 7));
			return [200, { ...device(n), commands: s.commands, groups: [...s.groups].filter(([, v]) => v.has(m[1])).map(([k]) => k) }];
		}
		if ((m = /^\/devices\/([^/]+)\/commands$/.exec(p))) {
			if (method === 'POST') {
				const c = { id: `cmd-${s.commands.length + 1}`, device_id: m[1], type: body.type, state: 'queued', status: null, request: body, results: [], created_at: now, sent_at: null, done_at: null };
				s.commands.unshift(c);
				return [201, c];
			}
			return [200, { commands: s.commands, next: null }];
		}
		if (method === 'GET' && p === '/groups') return [200, { groups: [...s.groups].map(([name, v]) => ({ name, devices: v.size })) }];
		if (method === 'POST' && p === '/groups') {
			if (s.groups.has(body.name)) return [409, { error: { code: 'conflict', message: 'group exists' } }];
			s.groups.set(body.name, new Set());
			return [201, { name: body.name }];
		}
		if ((m = /^\/groups\/([^/]+)$/.exec(p))) {
			const name = decodeURIComponent(m[1]);
			if (method === 'PATCH') { s.groups.set(body.name, s.groups.get(name)); s.groups.delete(name); return [200, { name: body.name }]; }
			if (method === 'DELETE') { s.groups.delete(name); return [204, null]; }
		}
		if ((m = /^\/groups\/([^/]+)\/devices$/.exec(p))) {
			const g = s.groups.get(decodeURIComponent(m[1])) || new Set();
			if (method === 'POST') { for (const d of body.devices) g.add(d); return [200, { group: m[1], added: body.devices, errors: [] }]; }
			return [200, { group: m[1], devices: [...g] }];
		}
		if (method === 'GET' && p === '/users') return [200, { users: [{ email: 'user0@example.com', created_at: now - 9000 }] }];
		if (method === 'GET' && p === '/pre-enrollments') return [200, { pre_enrollments: [{ id: 'pe1', email: 'kiosk@example.com', device_name: 'KIOSK-1', group: 'Kiosks', created_at: now - 100, expires_at: now + 86400 }] }];
		if (method === 'POST' && p === '/pre-enrollments') return [201, { email: body.email, device_name: body.device_name, secret: '7f3a9c2e5b1d4f6a8c0e2b4d6f8a0c1e', expires_at: new Date((now + body.ttl_seconds) * 1000).toISOString() }];
		if (method === 'GET' && p === '/audit') {
			const ev = [
				{ id: 'a3', at: now - 30, actor: 'ops@example.com', role: 'admin', action: 'command.create', target: device(1).device_id, detail: { type: 'lock' }, remote_addr: '127.0.0.1' },
				{ id: 'a2', at: now - 90, actor: 'mallory@example.com', role: null, action: 'login.failed', target: 'mallory@example.com', detail: 'wrong password', remote_addr: '127.0.0.1' },
				{ id: 'a1', at: now - 120, actor: 'ops@example.com', role: 'admin', action: 'login', target: 'ops@example.com', detail: '', remote_addr: '127.0.0.1' },
			].filter((e) => !q.action || e.action === q.action);
			return [200, { events: ev, next: null }];
		}
		if (method === 'POST' && p === '/admins') return [201, { email: body.email, role: body.role, created_at: now }];
		if (method === 'POST' && p === '/tokens') return [201, { id: 't2', name: body.name, role: body.role, token: 'mdm_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef', created_at: now }];
		if (method === 'GET' && p === '/admins') return [200, { admins: [{ email: 'ops@example.com', role: 'admin', created_at: now - 5000 }] }];
		if (method === 'GET' && p === '/tokens') return [200, { tokens: [{ id: 't1', name: 'inventory export', role: 'read-only', created_at: now - 4000 }] }];
		return [404, { error: { code: 'not_found', message: 'no such resource' } }];
	};
	return s;
}

async function open(browser, server) {
	const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
	const page = await context.newPage();
	page.setDefaultTimeout(10000);
	const problems = [];
	page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
	page.on('console', (m) => {
		if (m.type() === 'error' && !/status of (40[1345]|409)/.test(m.text())) problems.push(`console: ${m.text()}`);
	});
	await context.route(`${ORIGIN}/**`, async (route) => {
		const req = route.request();
		const url = new URL(req.url());
		if (url.pathname.startsWith('/api/v1/')) {
			let body = null;
			try { body = req.postData() ? JSON.parse(req.postData()) : null; } catch (e) { body = req.postData(); }
			const [status, json] = server.handle(req.method(), url, body);
			return route.fulfill({ status, headers: { 'Content-Security-Policy': CSP }, contentType: 'application/json', body: json === null ? '' : JSON.stringify(json) });
		}
		const rel = url.pathname.replace(/^\/admin\/?/, '') || 'index.html';
		const file = path.join(ADMIN_DIR, rel);
		if (!file.startsWith(ADMIN_DIR) || !fs.existsSync(file)) return route.fulfill({ status: 404, body: '' });
		return route.fulfill({ status: 200, headers: { 'Content-Security-Policy': CSP, 'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream' }, body: fs.readFileSync(file) });
	});
	await page.goto(`${ORIGIN}/admin/`);
	return { context, page, problems };
}

async function signIn(page, password = 'right password') {
	const form = page.locator('form', { has: page.getByRole('heading', { name: 'Administrator account' }) });
	await form.getByLabel('Email').fill('ops@example.com');
	await form.getByLabel('Password').fill(password);
	await form.getByRole('button', { name: 'Sign in' }).click();
}

const shot = (page, name, fullPage = false) => page.screenshot({ path: path.join(OUT_DIR, `views-${name}.png`), fullPage });
const lastCall = (s, method, p) => [...s.calls].reverse().find((c) => c.method === method && c.path === p);

let browser;
test.before(async () => {
	browser = await chromium.launch({
		executablePath: CHROMIUM, headless: true,
		args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
	});
});
test.after(async () => { if (browser) await browser.close(); });

test('admin: wrong password, then live counters and charts refresh without reloading', async () => {
	const s = makeServer();
	const { context, page, problems } = await open(browser, s);
	await signIn(page, 'wrong');
	await page.locator('#login-msg').filter({ hasText: 'Wrong email or password' }).waitFor();
	await signIn(page);
	await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
	await page.locator('#chart-hourly polyline.s1').waitFor();
	assert.equal(await page.locator('#chart-hourly polyline').count(), 2, 'enrollments and sessions lines');
	assert.equal(await page.locator('#chart-daily polyline').count(), 1, 'enrollments per day');
	const first = await page.locator('.c-total .counter-value').textContent();
	await page.evaluate(() => { window.__same = true; });
	await page.waitForFunction((v) => document.querySelector('.c-total .counter-value').textContent !== v, first, { timeout: 12000 });
	assert.equal(await page.evaluate(() => window.__same), true, 'no reload');
	assert.ok(s.statsN >= 2, 'polled again');
	await shot(page, '01-overview');
	assert.deepEqual(problems, []);
	await context.close();
});

test('devices: filters go to the server, cursor paging, wipe needs the name typed', async () => {
	const s = makeServer();
	const { context, page, problems } = await open(browser, s);
	await signIn(page);
	await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Devices' }).click();
	await page.locator('#devices-table tbody tr').first().waitFor();
	assert.equal(await page.locator('#devices-table tbody tr').count(), 50, 'first page');
	await page.getByRole('button', { name: 'Next →' }).click();
	await page.getByText('Page 2').waitFor();
	assert.equal(lastCall(s, 'GET', '/devices').query.cursor, Buffer.from('50').toString('base64url'), 'opaque cursor sent back');
	assert.equal(await page.locator('#devices-table tbody tr').count(), 10, 'second page');
	await page.getByRole('button', { name: '← Previous' }).click();
	await page.getByText('Page 1').waitFor();
	await page.getByLabel('State').selectOption('enrolled');
	await page.getByLabel('Last seen').selectOption('24h');
	await page.getByLabel('Search').fill('laptop-1');
	await page.waitForFunction(() => document.querySelector('#device-count').textContent.includes('shown'));
	await page.waitForFunction(() => [...document.querySelectorAll('#devices-table tbody tr')].every((r) => r.textContent.includes('LAPTOP-1')));
	const q = lastCall(s, 'GET', '/devices').query;
	assert.equal(q.q, 'laptop-1');
	assert.equal(q.state, 'enrolled');
	assert.ok(Number(q.last_seen_after) > now - 86400 - 60, 'last_seen_after sent');
	assert.ok(page.url().includes('state=enrolled'), 'filters kept in the address');
	await shot(page, '02-devices-filtered');
	await page.getByRole('link', { name: 'LAPTOP-12' }).click();
	await page.getByRole('heading', { level: 1, name: 'LAPTOP-12' }).waitFor();
	await page.getByRole('button', { name: 'Wipe…' }).click();
	const ok = page.getByRole('dialog').getByRole('button', { name: 'Wipe' });
	assert.equal(await ok.isDisabled(), true, 'wipe disabled until the name is typed');
	assert.equal(await page.evaluate(() => document.activeElement.id), 'confirm-input', 'focus in the name field');
	await page.keyboard.type('LAPTOP-12');
	assert.equal(await ok.isDisabled(), false);
	await page.getByRole('dialog').getByLabel('Wipe mode').selectOption('doWipeProtected');
	await shot(page, '03-wipe-confirm');
	await ok.click();
	await page.locator('#commands-table tr[data-type="wipe"][data-state="queued"]').waitFor();
	assert.deepEqual(lastCall(s, 'POST', `/devices/${device(12).device_id}/commands`).body, { type: 'wipe', mode: 'doWipeProtected' });
	// Escape cancels: nothing queued
	const before = s.commands.length;
	await page.getByRole('button', { name: 'Reboot' }).click();
	await page.getByRole('dialog').waitFor();
	await page.keyboard.press('Escape');
	await page.getByRole('dialog').waitFor({ state: 'hidden' });
	assert.equal(s.commands.length, before, 'cancelled');
	assert.equal(await page.evaluate(() => document.activeElement.dataset.action), 'reboot', 'focus back on the button');
	await shot(page, '04-device', true);
	assert.deepEqual(problems, []);
	await context.close();
});

test('enrollment: the pre-enrollment secret is shown once, with a copy button', async () => {
	const s = makeServer();
	const { context, page, problems } = await open(browser, s);
	await signIn(page);
	await page.getByRole('link', { name: 'Enrollment' }).click();
	await page.getByRole('heading', { level: 1, name: 'Enrollment' }).waitFor();
	const form = page.getByRole('form', { name: 'New pre-enrollment' });
	await form.getByLabel('User email').fill('bob@example.com');
	await form.getByLabel('Device name (optional)').fill('KIOSK-2');
	await form.getByRole('button', { name: 'Create pre-enrollment' }).click();
	const secret = page.getByRole('textbox', { name: 'One-time enrollment secret' });
	await secret.waitFor();
	assert.equal(await secret.inputValue(), '7f3a9c2e5b1d4f6a8c0e2b4d6f8a0c1e');
	assert.equal(await page.evaluate(() => document.activeElement.value), '7f3a9c2e5b1d4f6a8c0e2b4d6f8a0c1e', 'the secret has the focus');
	await page.locator('.secret-box').getByRole('button', { name: 'Copy' }).waitFor();
	await shot(page, '05-enrollment-secret', true);
	await page.getByRole('link', { name: 'Groups' }).click();
	await page.getByRole('link', { name: 'Enrollment' }).click();
	await page.getByRole('heading', { level: 1, name: 'Enrollment' }).waitFor();
	assert.equal(await page.getByRole('textbox', { name: 'One-time enrollment secret' }).count(), 0, 'gone once left');
	assert.ok(!(await page.evaluate(() => JSON.stringify(sessionStorage))).includes('7f3a9c2e'), 'never stored');
	assert.deepEqual(problems, []);
	await context.close();
});

test('groups: create, rename, delete, members', async () => {
	const s = makeServer();
	const { context, page, problems } = await open(browser, s);
	await signIn(page);
	await page.getByRole('link', { name: 'Groups' }).click();
	await page.getByRole('link', { name: 'Sales' }).waitFor();
	await page.getByRole('form', { name: 'New group' }).getByLabel('Name').fill('Finance');
	await page.getByRole('button', { name: 'Create group' }).click();
	await page.getByRole('link', { name: 'Finance' }).waitFor();
	assert.deepEqual(lastCall(s, 'POST', '/groups').body, { name: 'Finance' });
	await page.getByRole('button', { name: 'Rename Finance' }).click();
	await page.getByRole('dialog').getByLabel('New name').fill('Finance EU');
	await page.getByRole('dialog').getByRole('button', { name: 'Rename' }).click();
	await page.getByRole('link', { name: 'Finance EU' }).waitFor();
	assert.deepEqual(lastCall(s, 'PATCH', '/groups/Finance').body, { name: 'Finance EU' });
	await page.getByRole('button', { name: 'Delete Finance EU' }).click();
	await page.getByRole('dialog').getByRole('button', { name: 'Delete group' }).click();
	await page.getByRole('link', { name: 'Finance EU' }).waitFor({ state: 'detached' });
	assert.ok(lastCall(s, 'DELETE', '/groups/Finance%20EU') || lastCall(s, 'DELETE', '/groups/Finance EU'), 'DELETE sent');
	await shot(page, '06-groups');
	await page.getByRole('link', { name: 'Kiosks' }).click();
	await page.getByRole('heading', { level: 1, name: 'Group Kiosks' }).waitFor();
	await page.getByLabel('DeviceIDs').fill(`${device(2).device_id}\n${device(3).device_id}`);
	await page.getByRole('button', { name: 'Add devices' }).click();
	await page.getByRole('heading', { name: 'Devices (2)' }).waitFor();
	await page.getByRole('link', { name: 'LAPTOP-2' }).waitFor();
	await shot(page, '07-group-members');
	assert.deepEqual(problems, []);
	await context.close();
});

test('admins and API tokens: the token is shown once', async () => {
	const s = makeServer();
	const { context, page, problems } = await open(browser, s);
	await signIn(page);
	await page.getByRole('link', { name: 'Admins & tokens' }).click();
	const af = page.getByRole('form', { name: 'New administrator' });
	await af.getByLabel('Email').fill('viewer@example.com');
	await af.getByLabel('Password').fill('viewer password');
	await af.getByLabel('Role').selectOption('read-only');
	await af.getByRole('button', { name: 'Create administrator' }).click();
	await page.locator('#status').filter({ hasText: 'viewer@example.com (read-only) created' }).waitFor();
	assert.deepEqual(lastCall(s, 'POST', '/admins').body, { email: 'viewer@example.com', password: 'viewer password', role: 'read-only' });
	const tf = page.getByRole('form', { name: 'New API token' });
	await tf.getByLabel('Name').fill('export job');
	await tf.getByRole('button', { name: 'Create token' }).click();
	const tok = page.getByRole('textbox', { name: /API token "export job"/ });
	await tok.waitFor();
	assert.match(await tok.inputValue(), /^mdm_0123/);
	await shot(page, '10-access');
	await page.getByRole('button', { name: 'Done, hide it' }).click();
	assert.equal(await tok.count(), 0, 'hidden');
	assert.deepEqual(problems, []);
	await context.close();
});

test('audit log: filters', async () => {
	const s = makeServer();
	const { context, page, problems } = await open(browser, s);
	await signIn(page);
	await page.getByRole('link', { name: 'Audit log' }).click();
	await page.locator('#audit-table tbody tr').first().waitFor();
	assert.equal(await page.locator('#audit-table tbody tr').count(), 3);
	await page.getByLabel('Action').fill('login.failed');
	await page.getByRole('button', { name: 'Apply' }).click();
	await page.waitForFunction(() => document.querySelectorAll('#audit-table tbody tr').length === 1);
	assert.equal(lastCall(s, 'GET', '/audit').query.action, 'login.failed');
	await shot(page, '08-audit');
	assert.deepEqual(problems, []);
	await context.close();
});

test('read-only role: no mutating control anywhere; an ended session returns to sign-in', async () => {
	const s = makeServer({ role: 'read-only' });
	const { context, page, problems } = await open(browser, s);
	await signIn(page);
	await page.locator('#who-role').filter({ hasText: 'read-only' }).waitFor();
	assert.equal(await page.getByRole('link', { name: 'Admins & tokens' }).isVisible(), false, 'no admin page');
	await page.evaluate((id) => { location.hash = `#/devices/${id}`; }, device(4).device_id);
	await page.getByRole('heading', { level: 1, name: 'LAPTOP-4' }).waitFor();
	await page.locator('#commands-table').waitFor();
	for (const name of ['Lock', 'Reboot', 'Inventory', 'Wipe…', 'Unenroll…']) {
		assert.equal(await page.getByRole('button', { name, exact: true }).count(), 0, `${name} hidden`);
	}
	await page.getByText('Read-only role').waitFor();
	await shot(page, '09-readonly-device');
	await page.getByRole('link', { name: 'Groups' }).click();
	await page.getByRole('link', { name: 'Sales' }).waitFor();
	assert.equal(await page.getByRole('button', { name: /Create|Rename|Delete/ }).count(), 0, 'no group changes');
	await page.getByRole('link', { name: 'Enrollment' }).click();
	await page.getByRole('heading', { level: 1, name: 'Enrollment' }).waitFor();
	assert.equal(await page.getByRole('button', { name: /Create|Revoke/ }).count(), 0, 'no enrollment changes');
	assert.equal(s.calls.filter((c) => c.method !== 'GET' && c.path !== '/login').length, 0, 'nothing but GETs');
	s.expire = true;
	await page.getByRole('link', { name: 'Audit log' }).click();
	await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
	await page.getByText('Your session ended').waitFor();
	assert.equal(await page.evaluate(() => sessionStorage.getItem('mdm.session')), null, 'token dropped');
	assert.deepEqual(problems, []);
	await context.close();
});
