// app.js -- the console shell: sign-in (password or pasted token), session and role,
// hash routing (#/devices/ID: the token never appears in a URL), per-view timers.
import { ApiError, getSession, setSession, clearSession, setUnauthorizedHandler, request } from './api.js';
import { h, clear, append, announce, field, busy } from './ui.js';
import * as overview from './views/overview.js';
import * as devices from './views/devices.js';
import * as device from './views/device.js';
import * as groups from './views/groups.js';
import * as enrollment from './views/enrollment.js';
import * as audit from './views/audit.js';
import * as access from './views/access.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const who = document.getElementById('who');

// --- routing ---------------------------------------------------------------------
const ROUTES = [
	{ re: /^\/?$/, view: overview, nav: 'overview' },
	{ re: /^\/overview$/, view: overview, nav: 'overview' },
	{ re: /^\/devices$/, view: devices, nav: 'devices' },
	{ re: /^\/devices\/([^/]+)$/, view: device, nav: 'devices', keys: ['id'] },
	{ re: /^\/groups$/, view: groups, nav: 'groups' },
	{ re: /^\/groups\/([^/]+)$/, view: groups, nav: 'groups', keys: ['name'] },
	{ re: /^\/enrollment$/, view: enrollment, nav: 'enrollment' },
	{ re: /^\/audit$/, view: audit, nav: 'audit' },
	{ re: /^\/access$/, view: access, nav: 'access' },
];

let current = null; // { timers: Set, alive: bool, cleanup }

function parseHash() {
	const raw = location.hash.replace(/^#/, '') || '/overview';
	const [path, q = ''] = raw.split('?');
	return { path, query: Object.fromEntries(new URLSearchParams(q)) };
}

function leave() {
	if (!current) return;
	current.alive = false;
	for (const t of current.timers) clearTimeout(t);
	if (typeof current.cleanup === 'function') {
		try { current.cleanup(); } catch (e) { /* ignore */ }
	}
	current = null;
}

async function route() {
	const sess = getSession();
	if (!sess) {
		showLogin();
		return;
	}
	leave();
	const { path, query } = parseHash();
	const r = ROUTES.find((x) => x.re.test(path));
	for (const a of nav.querySelectorAll('a[data-route]')) {
		if (r && a.dataset.route === r.nav) a.setAttribute('aria-current', 'page');
		else a.removeAttribute('aria-current');
	}
	clear(main);
	if (!r) {
		main.append(h('h1', 'Not found'), h('p', 'There is no such page in the console. ', h('a', { href: '#/overview' }, 'Go to the overview')));
		focusHeading();
		return;
	}
	const m = r.re.exec(path);
	const params = {};
	(r.keys || []).forEach((k, i) => { params[k] = decodeURIComponent(m[i + 1]); });
	const ctx = {
		timers: new Set(),
		alive: true,
		params,
		query,
		session: sess,
		isAdmin: sess.role === 'admin',
		readOnly: sess.role !== 'admin',
		// after(fn, ms): a timer that dies with the view
		after(fn, ms) {
			const id = setTimeout(() => { ctx.timers.delete(id); if (ctx.alive) fn(); }, ms);
			ctx.timers.add(id);
			return id;
		},
		setQuery(q) {
			// keeps filters in the address (bookmarkable) without re-rendering
			const s = new URLSearchParams(Object.entries(q).filter(([, v]) => v !== '' && v != null)).toString();
			history.replaceState(null, '', `#${path}${s ? '?' + s : ''}`);
		},
	};
	current = ctx;
	try {
		ctx.cleanup = await r.view.render(main, ctx);
	} catch (e) {
		if (ctx.alive) {
			main.append(h('p.error-box', `This page failed to load: ${e.describe ? e.describe() : e.message}`));
		}
	}
	if (ctx.alive) {
		const h1 = main.querySelector('h1');
		document.title = `${h1 ? h1.textContent : 'Console'} · MDM console`;
		if (!firstRender) focusHeading();
		firstRender = false;
	}
}
let firstRender = true;

function focusHeading() {
	const h1 = main.querySelector('h1');
	if (h1) {
		h1.tabIndex = -1;
		h1.focus({ preventScroll: false });
	}
}

// --- shell ---------------------------------------------------------------------
function showShell(sess) {
	nav.hidden = false;
	who.hidden = false;
	document.getElementById('who-name').textContent = sess.email || sess.name || (sess.kind === 'bootstrap' ? 'bootstrap token' : 'API token');
	const role = document.getElementById('who-role');
	role.textContent = sess.role + (sess.roleAssumed ? ' (assumed)' : '');
	role.className = `badge role-${sess.role === 'admin' ? 'admin' : 'readonly'}`;
	role.title = sess.roleAssumed ? 'The server does not report roles yet (GET /api/v1/me)' : 'Your role';
	document.body.classList.toggle('readonly', sess.role !== 'admin');
	for (const el of nav.querySelectorAll('[data-admin-only]')) el.hidden = sess.role !== 'admin';
}

function hideShell() {
	nav.hidden = true;
	who.hidden = true;
	document.body.classList.remove('readonly');
}

async function logout(reason) {
	const sess = getSession();
	leave();
	if (sess && sess.kind === 'session') {
		try { await request('POST', '/logout', { body: {}, quiet401: true }); } catch (e) { /* gone already */ }
	}
	clearSession();
	hideShell();
	showLogin(reason);
}

document.getElementById('logout').addEventListener('click', () => logout('You are signed out.'));

setUnauthorizedHandler(() => {
	if (!getSession()) return;
	clearSession();
	leave();
	hideShell();
	showLogin('Your session ended or the token is no longer valid: sign in again.', true);
});

// --- sign-in ---------------------------------------------------------------------
function showLogin(message, isError) {
	leave();
	hideShell();
	clear(main);
	document.title = 'Sign in · MDM console';
	const email = h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true });
	const pw = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
	const loginBtn = h('button.primary', { type: 'submit' }, 'Sign in');
	const loginMsg = h('p.form-msg', { id: 'login-msg', 'aria-live': 'polite' });
	const loginForm = h('form.card.login', { 'aria-labelledby': 'login-h' },
		h('h2', { id: 'login-h' }, 'Administrator account'),
		field('Email', email),
		field('Password', pw),
		h('div.actions', loginBtn),
		loginMsg);

	const tok = h('input.mono', { type: 'password', name: 'token', autocomplete: 'off', spellcheck: 'false', required: true });
	const tokBtn = h('button', { type: 'submit' }, 'Use token');
	const tokMsg = h('p.form-msg', { id: 'token-msg', 'aria-live': 'polite' });
	const tokForm = h('form.card.login', { 'aria-labelledby': 'token-h' },
		h('h2', { id: 'token-h' }, 'Use a token'),
		h('p.muted', 'First use, before any administrator exists: paste the bootstrap token (',
			h('code', 'MDM_ADMIN_TOKEN'), ' or ', h('code', 'var/admin.token'), '). An API token works too.'),
		field('Token', tok),
		h('div.actions', tokBtn),
		tokMsg);

	append(main, [
		h('h1', 'Sign in'),
		message ? h(isError ? 'p.error-box' : 'p.notice', message) : null,
		h('div.login-grid', loginForm, tokForm),
	]);

	loginForm.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		loginMsg.textContent = 'Signing in…';
		loginMsg.className = 'form-msg';
		await busy(loginBtn, async () => {
			try {
				const r = await request('POST', '/login', { body: { email: email.value.trim(), password: pw.value }, quiet401: true });
				pw.value = '';
				setSession({ token: r.token, role: r.role || 'read-only', email: r.email || email.value.trim(), kind: 'session', expires_at: r.expires_at });
				enter();
			} catch (e) {
				loginMsg.className = 'form-msg error';
				if (e instanceof ApiError && e.notImplemented) loginMsg.textContent = 'Password sign-in is not available on this server yet: use a token.';
				else if (e.status === 401) loginMsg.textContent = 'Wrong email or password.';
				else if (e.status === 429) loginMsg.textContent = `Too many failed attempts: try again${e.retryAfter ? ` in ${e.retryAfter} s` : ' later'}.`;
				else loginMsg.textContent = e.describe ? e.describe() : e.message;
				pw.focus();
			}
		});
	});

	tokForm.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		const token = tok.value.trim();
		tokMsg.textContent = 'Checking the token…';
		tokMsg.className = 'form-msg';
		await busy(tokBtn, async () => {
			try {
				let sess;
				try {
					const me = await request('GET', '/me', { token });
					sess = { token, role: me.role || 'read-only', kind: me.kind || 'api', email: me.email, name: me.name };
				} catch (e) {
					if (!(e instanceof ApiError) || !e.notImplemented) throw e;
					// no /me yet: a token the device list accepts is the bootstrap token (admin)
					await request('GET', '/devices', { token, query: { limit: 1 } });
					sess = { token, role: 'admin', kind: 'bootstrap', roleAssumed: true };
				}
				tok.value = '';
				setSession(sess);
				enter();
			} catch (e) {
				tokMsg.className = 'form-msg error';
				tokMsg.textContent = e.status === 401 ? 'This token is not accepted.' : (e.describe ? e.describe() : e.message);
				tok.focus();
			}
		});
	});
	email.focus();
}

function enter() {
	const sess = getSession();
	showShell(sess);
	announce(`Signed in${sess.email ? ' as ' + sess.email : ''} (${sess.role}).`);
	firstRender = false;
	if (!location.hash || location.hash === '#' || location.hash === '#/') location.hash = '#/overview';
	else route();
}

window.addEventListener('hashchange', () => route());

// --- start -----------------------------------------------------------------------
(function start() {
	const sess = getSession();
	if (sess) {
		showShell(sess);
		route();
	} else {
		showLogin();
	}
})();

