// audit.js -- the audit log, newest first: filters (actor, action, since, until) and
// cursor paging.
import { api } from '../api.js';
import { h, clear, errorBox, field, timeEl, badge } from '../ui.js';

const ACTIONS = ['login', 'login.failed', 'logout', 'admin.create', 'admin.delete', 'token.create', 'token.delete',
	'user.create', 'user.delete', 'preenrollment.create', 'preenrollment.delete', 'command.create',
	'device.unenroll', 'group.create', 'group.rename', 'group.delete', 'group.add', 'group.remove'];

function toLocalInput(epoch) {
	if (!epoch) return '';
	const d = new Date(Number(epoch) * 1000);
	const p = (n) => String(n).padStart(2, '0');
	return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}
function fromLocalInput(v) {
	if (!v) return '';
	const ms = new Date(v).getTime();
	return Number.isNaN(ms) ? '' : String(Math.floor(ms / 1000));
}

function detailText(v) {
	if (v === null || v === undefined || v === '') return '';
	if (typeof v !== 'object') return String(v);
	// {"role":"read-only","status":201} -> role: read-only · status: 201
	return Object.entries(v).map(([k, x]) => `${k}: ${x !== null && typeof x === 'object' ? JSON.stringify(x) : x}`).join(' · ');
}

export async function render(main, ctx) {
	const f = { actor: ctx.query.actor || '', action: ctx.query.action || '', since: ctx.query.since || '', until: ctx.query.until || '' };
	const actor = h('input', { type: 'text', value: f.actor, autocomplete: 'off', placeholder: 'email or token name' });
	const action = h('input', { type: 'text', value: f.action, list: 'audit-actions', autocomplete: 'off', placeholder: 'e.g. login.failed' });
	const since = h('input', { type: 'datetime-local', value: toLocalInput(f.since) });
	const until = h('input', { type: 'datetime-local', value: toLocalInput(f.until) });
	const form = h('form.filters', { role: 'search', 'aria-label': 'Filter the audit log' },
		field('Actor', actor), field('Action', action), h('datalist', { id: 'audit-actions' }, ACTIONS.map((a) => h('option', { value: a }))),
		field('Since', since), field('Until', until),
		h('div.field.actions', h('button.primary', { type: 'submit' }, 'Apply'), h('button', { type: 'reset' }, 'Clear')));
	const count = h('p.count', { 'aria-live': 'polite' });
	const wrap = h('div.table-wrap');
	const prev = h('button', { type: 'button', disabled: true }, '← Newer');
	const next = h('button', { type: 'button', disabled: true }, 'Older →');
	const pageLabel = h('span.muted');
	main.append(h('div.page-head', h('h1', 'Audit log'), h('p.muted', 'Every change made through the API and every sign-in, newest first. The log cannot be edited.')),
		form, count, wrap, h('nav.pager', { 'aria-label': 'Audit log pages' }, prev, pageLabel, next));

	let cursors = [null];
	let page = 0;
	let seq = 0;
	async function load() {
		const my = ++seq;
		let res;
		wrap.setAttribute('aria-busy', 'true');
		try {
			res = await api.get('/audit', { ...f, cursor: cursors[page] ?? undefined, limit: 50 });
		} catch (e) {
			if (my !== seq || !ctx.alive) return;
			wrap.removeAttribute('aria-busy');
			clear(wrap).append(errorBox(e, 'Audit log'));
			count.textContent = '';
			return;
		}
		if (my !== seq || !ctx.alive) return;
		wrap.removeAttribute('aria-busy');
		const ev = res.events || [];
		cursors[page + 1] = res.next ?? null;
		prev.disabled = page === 0;
		next.disabled = res.next === null || res.next === undefined || res.next === '';
		pageLabel.textContent = `Page ${page + 1}`;
		count.textContent = ev.length ? `${ev.length} event${ev.length === 1 ? '' : 's'} on this page.` : 'No events match.';
		const tb = h('tbody');
		for (const e of ev) {
			const failed = /fail|denied|refused/.test(e.action || '');
			tb.append(h('tr', { class: failed ? 'row-warn' : null },
				h('td', timeEl(e.at)),
				h('td', e.actor || '—', e.role ? h('div', badge(e.role)) : null),
				h('th', { scope: 'row' }, h('span.mono', e.action || '?')),
				h('td.wrap', e.target || '—'),
				h('td.wrap.small', detailText(e.detail) || h('span.muted', '—')),
				h('td.mono.small', e.remote_addr || '—')));
		}
		clear(wrap).append(h('table.data', { id: 'audit-table' },
			h('caption.sr-only', 'Audit events'),
			h('thead', h('tr', ['When', 'Actor', 'Action', 'Target', 'Detail', 'Address'].map((c) => h('th', { scope: 'col' }, c)))),
			tb));
	}

	function apply() {
		f.actor = actor.value.trim();
		f.action = action.value.trim();
		f.since = fromLocalInput(since.value);
		f.until = fromLocalInput(until.value);
		ctx.setQuery(f);
		cursors = [null];
		page = 0;
		load();
	}
	form.addEventListener('submit', (e) => { e.preventDefault(); apply(); });
	form.addEventListener('reset', () => setTimeout(apply, 0));
	prev.addEventListener('click', () => { if (page > 0) { page--; load(); } });
	next.addEventListener('click', () => { if (cursors[page + 1] != null) { page++; load(); } });
	await load();
}
