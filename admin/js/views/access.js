// access.js -- console administrators (create with a role, delete) and API tokens
// (create: the token is shown once with a copy button; list; delete). Admin role only.
import { api, enc } from '../api.js';
import { h, clear, errorBox, announce, announceError, confirmDialog, field, busy, timeEl, badge, secretBox } from '../ui.js';

const ROLES = [['read-only', 'read-only: may look, not change'], ['admin', 'admin: may do everything']];

function roleSelect(value) {
	return h('select', ROLES.map(([v, l]) => h('option', { value: v, selected: v === value }, l)));
}

export async function render(main, ctx) {
	main.append(h('div.page-head', h('h1', 'Admins & tokens')));
	if (!ctx.isAdmin) {
		main.append(h('p.notice', 'Only administrators manage console accounts and API tokens.'));
		return;
	}
	const adminSec = h('section.card', { 'aria-labelledby': 'ad-h' });
	const tokSec = h('section.card', { 'aria-labelledby': 'tk-h' });
	main.append(h('div.grid-2', adminSec, tokSec));

	// --- administrators
	const adminList = h('div');
	{
		const email = h('input', { type: 'email', required: true, autocomplete: 'off' });
		const pw = h('input', { type: 'password', required: true, minLength: 8, autocomplete: 'new-password' });
		const role = roleSelect('read-only');
		const btn = h('button.primary', { type: 'submit' }, 'Create administrator');
		const form = h('form.form-grid', { 'aria-label': 'New administrator' },
			field('Email', email), field('Password', pw, 'At least 8 characters.'), field('Role', role), h('div.actions', btn));
		form.addEventListener('submit', async (ev) => {
			ev.preventDefault();
			await busy(btn, async () => {
				try {
					const r = await api.post('/admins', { email: email.value.trim(), password: pw.value, role: role.value });
					announce(`Administrator ${r.email} (${r.role}) created.`);
					form.reset();
					loadAdmins();
				} catch (e) { announceError(e, 'Create administrator'); }
			});
		});
		adminSec.append(h('h2', { id: 'ad-h' }, 'Console accounts'), form, h('h3', 'Accounts'), adminList);
	}

	async function loadAdmins() {
		let res;
		try { res = await api.get('/admins'); } catch (e) {
			if (ctx.alive) clear(adminList).append(errorBox(e, 'The list of administrators'));
			return;
		}
		if (!ctx.alive) return;
		const tb = h('tbody');
		for (const a of res.admins || []) {
			const self = ctx.session.email && ctx.session.email === a.email;
			tb.append(h('tr', h('th', { scope: 'row' }, a.email, self ? h('span.muted', ' (you)') : null), h('td', badge(a.role)), h('td', timeEl(a.created_at, { relative: false })),
				h('td.row-actions', h('button.danger-outline', { type: 'button', on: { click: () => delAdmin(a.email) } }, 'Delete', h('span.sr-only', ` ${a.email}`)))));
		}
		clear(adminList).append((res.admins || []).length ? h('div.table-wrap', h('table.data', h('caption.sr-only', 'Administrators'),
			h('thead', h('tr', ['Email', 'Role', 'Created'].map((c) => h('th', { scope: 'col' }, c)), h('th', { scope: 'col' }, h('span.sr-only', 'Actions')))), tb))
			: h('p.muted', 'No console accounts yet: sign-in works with the bootstrap token only.'));
	}

	async function delAdmin(email) {
		const ok = await confirmDialog({ title: `Delete ${email}?`, danger: true, confirmLabel: 'Delete account', body: h('p', 'The account can no longer sign in.') });
		if (!ok) return;
		try { await api.del(`/admins/${enc(email)}`); announce(`Administrator ${email} deleted.`); loadAdmins(); } catch (e) { announceError(e, 'Delete administrator'); }
	}

	// --- API tokens
	const tokList = h('div');
	const tokSlot = h('div');
	{
		const name = h('input', { type: 'text', required: true, maxLength: 64, autocomplete: 'off' });
		const role = roleSelect('read-only');
		const btn = h('button.primary', { type: 'submit' }, 'Create token');
		const form = h('form.form-grid', { 'aria-label': 'New API token' }, field('Name', name, 'What uses it, e.g. "inventory export".'), field('Role', role), h('div.actions', btn));
		form.addEventListener('submit', async (ev) => {
			ev.preventDefault();
			await busy(btn, async () => {
				try {
					const r = await api.post('/tokens', { name: name.value.trim(), role: role.value });
					clear(tokSlot).append(h('div.secret-card', secretBox(`API token "${r.name}" (${r.role})`, r.token),
						h('button', { type: 'button', on: { click: () => clear(tokSlot) } }, 'Done, hide it')));
					tokSlot.querySelector('input').focus();
					announce('API token created: copy it now, it is shown only once.');
					form.reset();
					loadTokens();
				} catch (e) { announceError(e, 'Create token'); }
			});
		});
		tokSec.append(h('h2', { id: 'tk-h' }, 'API tokens'), form, tokSlot, h('h3', 'Tokens'), tokList);
	}

	async function loadTokens() {
		let res;
		try { res = await api.get('/tokens'); } catch (e) {
			if (ctx.alive) clear(tokList).append(errorBox(e, 'The list of tokens'));
			return;
		}
		if (!ctx.alive) return;
		const tb = h('tbody');
		for (const t of res.tokens || []) {
			tb.append(h('tr', h('th', { scope: 'row' }, t.name, h('div.mono.small.muted', t.id)), h('td', badge(t.role)), h('td', timeEl(t.created_at, { relative: false })),
				h('td.row-actions', h('button.danger-outline', { type: 'button', on: { click: () => delToken(t) } }, 'Delete', h('span.sr-only', ` token ${t.name}`)))));
		}
		clear(tokList).append((res.tokens || []).length ? h('div.table-wrap', h('table.data', h('caption.sr-only', 'API tokens'),
			h('thead', h('tr', ['Name', 'Role', 'Created'].map((c) => h('th', { scope: 'col' }, c)), h('th', { scope: 'col' }, h('span.sr-only', 'Actions')))), tb))
			: h('p.muted', 'No API tokens.'));
	}

	async function delToken(t) {
		const ok = await confirmDialog({ title: `Delete token ${t.name}?`, danger: true, confirmLabel: 'Delete token', body: h('p', 'Programs using it are refused from now on.') });
		if (!ok) return;
		try { await api.del(`/tokens/${enc(t.id)}`); announce(`Token ${t.name} deleted.`); loadTokens(); } catch (e) { announceError(e, 'Delete token'); }
	}

	await Promise.all([loadAdmins(), loadTokens()]);
}
