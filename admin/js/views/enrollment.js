// enrollment.js -- device users (create, list, revoke) and pre-enrollments (create with
// the one-time secret shown once and a copy button, list, revoke).
import { api, enc } from '../api.js';
import { h, clear, errorBox, announce, announceError, confirmDialog, field, busy, timeEl, secretBox } from '../ui.js';

export async function render(main, ctx) {
	main.append(h('div.page-head', h('h1', 'Enrollment'),
		h('p.muted', 'Device users sign in on the device to enroll it; a pre-enrollment secret enrolls one device for a user without a password.')));
	const preSec = h('section.card', { 'aria-labelledby': 'pe-h' });
	const userSec = h('section.card', { 'aria-labelledby': 'us-h' });
	main.append(h('div.grid-2', preSec, userSec));

	// --- pre-enrollments
	const secretSlot = h('div', { id: 'secret-slot' });
	const peList = h('div');
	preSec.append(h('h2', { id: 'pe-h' }, 'Pre-enrollments'));
	if (!ctx.readOnly) {
		const email = h('input', { type: 'email', required: true, autocomplete: 'off' });
		const dname = h('input', { type: 'text', maxLength: 120, autocomplete: 'off' });
		const group = h('input', { type: 'text', maxLength: 120, autocomplete: 'off' });
		const ttl = h('select',
			h('option', { value: 3600 }, '1 hour'),
			h('option', { value: 86400 }, '1 day'),
			h('option', { value: 604800, selected: true }, '7 days'),
			h('option', { value: 2592000 }, '30 days'));
		const btn = h('button.primary', { type: 'submit' }, 'Create pre-enrollment');
		const form = h('form.form-grid', { 'aria-label': 'New pre-enrollment' },
			field('User email', email), field('Device name (optional)', dname), field('Group (optional)', group), field('Secret valid for', ttl),
			h('div.actions', btn));
		form.addEventListener('submit', async (ev) => {
			ev.preventDefault();
			const body = { email: email.value.trim(), ttl_seconds: Number(ttl.value) };
			if (dname.value.trim()) body.device_name = dname.value.trim();
			if (group.value.trim()) body.group = group.value.trim();
			await busy(btn, async () => {
				try {
					const r = await api.post('/pre-enrollments', body);
					showSecret(r);
					form.reset();
					loadPre();
				} catch (e) { announceError(e, 'Create pre-enrollment'); }
			});
		});
		preSec.append(form, secretSlot);
	}
	preSec.append(h('h3', 'Pending'), peList);

	function showSecret(r) {
		const done = h('button', { type: 'button', on: { click: () => { clear(secretSlot); announce('The secret was removed from the screen.'); } } }, 'Done, hide it');
		clear(secretSlot).append(h('div.secret-card', { 'aria-labelledby': 'sec-h' },
			h('h3', { id: 'sec-h' }, `Secret for ${r.email}${r.device_name ? ` · ${r.device_name}` : ''}`),
			secretBox('One-time enrollment secret', r.secret),
			h('p.muted', 'Expires ', timeEl(r.expires_at), '. Enroll with the pre-enrollment authentication and this secret.'),
			done));
		announce('Pre-enrollment created: copy the secret now, it is shown only once.');
		secretSlot.querySelector('input').focus();
	}

	async function loadPre() {
		let res;
		try {
			res = await api.get('/pre-enrollments');
		} catch (e) {
			if (ctx.alive) clear(peList).append(errorBox(e, 'The list of pre-enrollments'));
			return;
		}
		if (!ctx.alive) return;
		const items = res.pre_enrollments || [];
		const tb = h('tbody');
		for (const p of items) {
			tb.append(h('tr',
				h('th', { scope: 'row' }, p.email, p.device_name ? h('div.small.muted', p.device_name) : null),
				h('td', p.group || '—'),
				h('td', timeEl(p.created_at, { relative: false })),
				h('td', timeEl(p.expires_at)),
				ctx.readOnly ? null : h('td.row-actions', h('button.danger-outline', { type: 'button', on: { click: () => revokePre(p) } }, 'Revoke', h('span.sr-only', ` pre-enrollment for ${p.email}`)))));
		}
		clear(peList).append(items.length ? h('div.table-wrap', h('table.data',
			h('caption.sr-only', 'Pending pre-enrollments'),
			h('thead', h('tr', ['User / device', 'Group', 'Created', 'Expires'].map((c) => h('th', { scope: 'col' }, c)), ctx.readOnly ? null : h('th', { scope: 'col' }, h('span.sr-only', 'Actions')))),
			tb)) : h('p.muted', 'No pending pre-enrollments.'));
	}

	async function revokePre(p) {
		const ok = await confirmDialog({ title: 'Revoke this pre-enrollment?', danger: true, confirmLabel: 'Revoke',
			body: h('p', `The secret for ${p.email}${p.device_name ? ` (${p.device_name})` : ''} stops working at once.`) });
		if (!ok) return;
		try {
			await api.del(`/pre-enrollments/${enc(p.id)}`);
			announce('Pre-enrollment revoked.');
			loadPre();
		} catch (e) { announceError(e, 'Revoke'); }
	}

	// --- users
	const userList = h('div');
	userSec.append(h('h2', { id: 'us-h' }, 'Device users'));
	if (!ctx.readOnly) {
		const email = h('input', { type: 'email', required: true, autocomplete: 'off' });
		const pw = h('input', { type: 'password', required: true, minLength: 8, autocomplete: 'new-password' });
		const btn = h('button.primary', { type: 'submit' }, 'Create user');
		const form = h('form.form-grid', { 'aria-label': 'New device user' },
			field('Email', email), field('Password', pw, 'At least 8 characters.'), h('div.actions', btn));
		form.addEventListener('submit', async (ev) => {
			ev.preventDefault();
			await busy(btn, async () => {
				try {
					const r = await api.post('/users', { email: email.value.trim(), password: pw.value });
					announce(`User ${r.email} created.`);
					form.reset();
					loadUsers();
				} catch (e) { announceError(e, 'Create user'); }
			});
		});
		userSec.append(form);
	}
	userSec.append(h('h3', 'Users'), userList);

	async function loadUsers() {
		let res;
		try {
			res = await api.get('/users');
		} catch (e) {
			if (ctx.alive) clear(userList).append(errorBox(e, 'The list of users'));
			return;
		}
		if (!ctx.alive) return;
		const users = res.users || [];
		const tb = h('tbody');
		for (const u of users) {
			tb.append(h('tr',
				h('th', { scope: 'row' }, u.email),
				h('td', timeEl(u.created_at, { relative: false })),
				ctx.readOnly ? null : h('td.row-actions', h('button.danger-outline', { type: 'button', on: { click: () => revokeUser(u.email) } }, 'Revoke', h('span.sr-only', ` ${u.email}`)))));
		}
		clear(userList).append(users.length ? h('div.table-wrap', h('table.data',
			h('caption.sr-only', 'Device users'),
			h('thead', h('tr', ['Email', 'Created'].map((c) => h('th', { scope: 'col' }, c)), ctx.readOnly ? null : h('th', { scope: 'col' }, h('span.sr-only', 'Actions')))),
			tb)) : h('p.muted', 'No users yet.'));
	}

	async function revokeUser(email) {
		const ok = await confirmDialog({ title: `Revoke ${email}?`, danger: true, confirmLabel: 'Revoke user',
			body: h('p', 'The user can no longer enroll devices. Devices already enrolled stay managed.') });
		if (!ok) return;
		try {
			await api.del(`/users/${enc(email)}`);
			announce(`User ${email} revoked.`);
			loadUsers();
		} catch (e) { announceError(e, 'Revoke user'); }
	}

	await Promise.all([loadPre(), loadUsers()]);
}
