// groups.js -- groups: list, create, rename, delete; one group's members: add, remove.
import { api, enc } from '../api.js';
import { h, clear, errorBox, announce, announceError, confirmDialog, field, busy, badge } from '../ui.js';

const NAME_RE = /^[A-Za-z0-9 _.-]{1,64}$/;
const NAME_HINT = '1 to 64 of A–Z a–z 0–9 space _ . -';

export async function render(main, ctx) {
	if (ctx.params.name) return renderGroup(main, ctx, ctx.params.name);
	main.append(h('div.page-head', h('h1', 'Groups')));
	const listSec = h('section.card', { 'aria-labelledby': 'gl-h' }, h('h2', { id: 'gl-h' }, 'All groups'));
	const side = h('div.stack');
	main.append(h('div.grid-main-side', listSec, side));

	if (!ctx.readOnly) {
		const input = h('input', { type: 'text', required: true, pattern: '[A-Za-z0-9 _.\\-]{1,64}', autocomplete: 'off' });
		const btn = h('button.primary', { type: 'submit' }, 'Create group');
		const form = h('form.card', { 'aria-labelledby': 'gc-h' }, h('h2', { id: 'gc-h' }, 'New group'), field('Name', input, NAME_HINT), h('div.actions', btn));
		form.addEventListener('submit', async (ev) => {
			ev.preventDefault();
			const name = input.value.trim();
			if (!NAME_RE.test(name)) { announce(`Group name: ${NAME_HINT}.`, 'error'); input.focus(); return; }
			await busy(btn, async () => {
				try {
					await api.post('/groups', { name });
					announce(`Group ${name} created.`);
					input.value = '';
					load();
				} catch (e) { announceError(e, `Create group ${name}`); }
			});
		});
		side.append(form);
	}
	// opening a group by name works with the older per-group route too
	const openInput = h('input', { type: 'text', required: true, autocomplete: 'off' });
	const openForm = h('form.card', { 'aria-labelledby': 'go-h' }, h('h2', { id: 'go-h' }, 'Open a group'), field('Group name', openInput), h('div.actions', h('button', { type: 'submit' }, 'Open')));
	openForm.addEventListener('submit', (ev) => { ev.preventDefault(); if (openInput.value.trim()) location.hash = `#/groups/${enc(openInput.value.trim())}`; });
	side.append(openForm);

	async function load() {
		let res;
		try {
			res = await api.get('/groups');
		} catch (e) {
			if (!ctx.alive) return;
			clear(listSec).append(h('h2', { id: 'gl-h' }, 'All groups'), errorBox(e, 'The list of groups'));
			return;
		}
		if (!ctx.alive) return;
		const groups = res.groups || [];
		const tb = h('tbody');
		for (const g of groups) {
			tb.append(h('tr', { dataset: { group: g.name } },
				h('th', { scope: 'row' }, h('a', { href: `#/groups/${enc(g.name)}` }, g.name)),
				h('td.num', String(g.devices ?? '—')),
				ctx.readOnly ? null : h('td.row-actions',
					h('button', { type: 'button', on: { click: () => rename(g.name) } }, 'Rename', h('span.sr-only', ` ${g.name}`)),
					h('button.danger-outline', { type: 'button', on: { click: () => remove(g.name) } }, 'Delete', h('span.sr-only', ` ${g.name}`)))));
		}
		clear(listSec).append(h('h2', { id: 'gl-h' }, 'All groups'),
			groups.length ? h('div.table-wrap', h('table.data',
				h('caption.sr-only', 'Groups'),
				h('thead', h('tr', h('th', { scope: 'col' }, 'Name'), h('th.num', { scope: 'col' }, 'Devices'), ctx.readOnly ? null : h('th', { scope: 'col' }, h('span.sr-only', 'Actions')))),
				tb)) : h('p.muted', 'No groups yet.'));
	}

	async function rename(name) {
		const r = await renameDialog(name);
		if (r) load();
	}
	async function remove(name) {
		if (await deleteDialog(name)) load();
	}
	await load();
}

async function renameDialog(name) {
	const input = h('input', { type: 'text', value: name, autocomplete: 'off' });
	const ok = await confirmDialog({
		title: `Rename group ${name}`, confirmLabel: 'Rename',
		body: h('p', 'Devices stay in the group under its new name.'),
		extra: { node: field('New name', input, NAME_HINT), values: () => ({ name: input.value.trim() }) },
	});
	if (!ok) return null;
	if (!NAME_RE.test(ok.name)) { announce(`Group name: ${NAME_HINT}.`, 'error'); return null; }
	try {
		await api.patch(`/groups/${enc(name)}`, { name: ok.name });
		announce(`Group ${name} renamed to ${ok.name}.`);
		return ok.name;
	} catch (e) { announceError(e, `Rename ${name}`); return null; }
}

async function deleteDialog(name) {
	const ok = await confirmDialog({
		title: `Delete group ${name}?`, danger: true, confirmLabel: 'Delete group',
		body: h('p', 'The group is removed; its devices stay enrolled and keep their other groups.'),
	});
	if (!ok) return false;
	try {
		await api.del(`/groups/${enc(name)}`);
		announce(`Group ${name} deleted.`);
		return true;
	} catch (e) { announceError(e, `Delete ${name}`); return false; }
}

async function renderGroup(main, ctx, name) {
	const head = h('div.page-head', h('p.crumbs', h('a', { href: '#/groups' }, 'Groups'), ' / '), h('h1', `Group ${name}`));
	main.append(head);
	if (!ctx.readOnly) {
		head.append(h('div.actions', { role: 'group', 'aria-label': 'Group actions' },
			h('button', { type: 'button', on: { click: async () => { const n = await renameDialog(name); if (n) location.hash = `#/groups/${enc(n)}`; } } }, 'Rename…'),
			h('button.danger-outline', { type: 'button', on: { click: async () => { if (await deleteDialog(name)) location.hash = '#/groups'; } } }, 'Delete…')));
	}
	const members = h('section.card', { 'aria-labelledby': 'gm-h' }, h('h2', { id: 'gm-h' }, 'Devices'));
	const side = h('div.stack');
	main.append(h('div.grid-main-side', members, side));

	if (!ctx.readOnly) {
		const ta = h('textarea.mono', { rows: 5, required: true, spellcheck: 'false' });
		const btn = h('button.primary', { type: 'submit' }, 'Add devices');
		const form = h('form.card', { 'aria-labelledby': 'ga-h' }, h('h2', { id: 'ga-h' }, 'Add devices'),
			field('DeviceIDs', ta, 'One per line, or separated by commas or spaces.'), h('div.actions', btn));
		form.addEventListener('submit', async (ev) => {
			ev.preventDefault();
			const ids = ta.value.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean);
			if (!ids.length) return;
			await busy(btn, async () => {
				try {
					const r = await api.post(`/groups/${enc(name)}/devices`, { devices: ids });
					const errs = (r && r.errors) || [];
					const added = r && r.added ? r.added.length : ids.length - errs.length;
					if (errs.length) announce(`${added} added; refused: ${errs.map((e) => `${e.device_id} (${e.error || e.code})`).join(', ')}`, 'error');
					else announce(`${added} device${added === 1 ? '' : 's'} added to ${name}.`);
					ta.value = '';
					load();
				} catch (e) { announceError(e, `Add to ${name}`); }
			});
		});
		side.append(form);
	}

	async function load() {
		let res;
		try {
			res = await api.get(`/groups/${enc(name)}/devices`);
		} catch (e) {
			if (ctx.alive) clear(members).append(h('h2', { id: 'gm-h' }, 'Devices'), errorBox(e, 'Members'));
			return;
		}
		if (!ctx.alive) return;
		const list = (res.devices || []).map((x) => (typeof x === 'string' ? { device_id: x } : x));
		const tb = h('tbody');
		for (const m of list) {
			const nameCell = h('th', { scope: 'row' }, h('a', { href: `#/devices/${enc(m.device_id)}` }, m.device_name || m.device_id), h('div.mono.small', m.device_id));
			const userCell = h('td', m.user || '…');
			const stateCell = h('td', m.state ? badge(m.state) : '…');
			tb.append(h('tr', { dataset: { deviceId: m.device_id } }, nameCell, userCell, stateCell,
				ctx.readOnly ? null : h('td.row-actions', h('button', { type: 'button', on: { click: () => removeMember(m.device_id) } }, 'Remove', h('span.sr-only', ` ${m.device_id}`)))));
			if (!m.device_name) {
				// older servers list ids only: fill in names
				api.get(`/devices/${enc(m.device_id)}`).then((d) => {
					clear(nameCell).append(h('a', { href: `#/devices/${enc(m.device_id)}` }, d.device_name || m.device_id), h('div.mono.small', m.device_id));
					userCell.textContent = d.user || '—';
					clear(stateCell).append(badge(d.state));
				}).catch(() => { userCell.textContent = '—'; stateCell.textContent = '—'; });
			}
		}
		clear(members).append(h('h2', { id: 'gm-h' }, `Devices (${list.length})`),
			list.length ? h('div.table-wrap', h('table.data',
				h('caption.sr-only', `Devices in ${name}`),
				h('thead', h('tr', ['Device', 'User', 'State'].map((c) => h('th', { scope: 'col' }, c)), ctx.readOnly ? null : h('th', { scope: 'col' }, h('span.sr-only', 'Actions')))),
				tb)) : h('p.muted', 'No devices in this group.'));
	}

	async function removeMember(id) {
		const ok = await confirmDialog({ title: 'Remove from the group?', body: h('p', h('span.mono', id), ` leaves ${name}.`), confirmLabel: 'Remove' });
		if (!ok) return;
		try {
			await api.del(`/groups/${enc(name)}/devices/${enc(id)}`);
			announce(`Removed ${id} from ${name}.`);
			load();
		} catch (e) { announceError(e, 'Remove'); }
	}
	await load();
}
