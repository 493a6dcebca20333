// devices.js -- the device table: search (q), filters (platform, state, user, last
// seen), cursor paging. Filters go to the server; the page is also refined here, so a
// server that does not filter yet still shows only matching rows of the page it sent.
import { api, enc, toEpoch } from '../api.js';
import { h, clear, timeEl, badge, errorBox, field } from '../ui.js';

const PAGE = 50;
const SEEN = [
	['', 'Any time'],
	['1h', 'In the last hour'],
	['24h', 'In the last 24 hours'],
	['7d', 'In the last 7 days'],
	['not7d', 'Not in the last 7 days'],
	['not30d', 'Not in the last 30 days'],
];
const SECS = { '1h': 3600, '24h': 86400, '7d': 604800, not7d: 604800, not30d: 2592000 };

function seenRange(v) {
	if (!v || !SECS[v]) return {};
	const t = Math.floor(Date.now() / 1000) - SECS[v];
	return v.startsWith('not') ? { last_seen_before: t } : { last_seen_after: t };
}

export function matches(d, f) {
	if (f.q) {
		const q = f.q.toLowerCase();
		if (!String(d.device_name || '').toLowerCase().includes(q) && !String(d.device_id || '').toLowerCase().includes(q)) return false;
	}
	if (f.platform && String(d.platform || '').toLowerCase() !== f.platform.toLowerCase()) return false;
	if (f.state && d.state !== f.state) return false;
	if (f.user && !String(d.user || '').toLowerCase().includes(f.user.toLowerCase())) return false;
	const r = seenRange(f.seen);
	const ls = toEpoch(d.last_seen);
	if (r.last_seen_after && (ls === null || ls < r.last_seen_after)) return false;
	if (r.last_seen_before && ls !== null && ls >= r.last_seen_before) return false;
	return true;
}

function select(options, value) {
	const s = h('select');
	for (const [v, label] of options) s.append(h('option', { value: v, selected: v === value }, label));
	return s;
}

export async function render(main, ctx) {
	const f = {
		q: ctx.query.q || '',
		platform: ctx.query.platform || '',
		state: ctx.query.state || '',
		user: ctx.query.user || '',
		seen: ctx.query.seen || '',
	};
	const q = h('input', { type: 'search', name: 'q', value: f.q, placeholder: 'Name or DeviceID', autocomplete: 'off', spellcheck: 'false' });
	const platform = select([['', 'Any platform'], ['windows', 'Windows']], f.platform);
	const state = select([['', 'Any state'], ['enrolled', 'enrolled'], ['unenrolled', 'unenrolled']], f.state);
	const user = h('input', { type: 'text', name: 'user', value: f.user, placeholder: 'user@example.com', autocomplete: 'off' });
	const seen = select(SEEN, f.seen);
	const form = h('form.filters', { role: 'search', 'aria-label': 'Filter devices' },
		field('Search', q),
		field('Platform', platform),
		field('State', state),
		field('User', user),
		field('Last seen', seen),
		h('div.field.actions',
			h('button.primary', { type: 'submit' }, 'Apply'),
			h('button', { type: 'reset' }, 'Clear')));
	const count = h('p.count', { 'aria-live': 'polite', id: 'device-count' });
	const tableWrap = h('div.table-wrap');
	const prev = h('button', { type: 'button', disabled: true }, '← Previous');
	const next = h('button', { type: 'button', disabled: true }, 'Next →');
	const pageLabel = h('span.muted');
	main.append(
		h('div.page-head', h('h1', 'Devices')),
		form,
		count,
		tableWrap,
		h('nav.pager', { 'aria-label': 'Device pages' }, prev, pageLabel, next),
	);

	// options known to the server (stats), added to the selects when available
	api.get('/stats').then((st) => {
		const add = (sel, keys) => {
			const have = new Set([...sel.options].map((o) => o.value));
			for (const k of keys) if (!have.has(k)) sel.append(h('option', { value: k }, k));
		};
		if (st && st.devices) {
			add(platform, Object.keys(st.devices.by_platform || {}));
			add(state, Object.keys(st.devices.by_state || {}));
		}
	}).catch(() => {});

	let cursors = [null]; // cursor of each page seen so far
	let page = 0;
	let seq = 0;

	async function load() {
		const my = ++seq;
		const params = { limit: PAGE, cursor: cursors[page] ?? undefined, q: f.q, platform: f.platform, state: f.state, user: f.user, ...seenRange(f.seen) };
		tableWrap.setAttribute('aria-busy', 'true');
		let res;
		try {
			res = await api.get('/devices', params);
		} catch (e) {
			if (my !== seq || !ctx.alive) return;
			tableWrap.removeAttribute('aria-busy');
			clear(tableWrap).append(errorBox(e, 'Devices'));
			count.textContent = '';
			return;
		}
		if (my !== seq || !ctx.alive) return;
		tableWrap.removeAttribute('aria-busy');
		const all = res.devices || [];
		const rows = all.filter((d) => matches(d, f));
		const nextCursor = res.next ?? null;
		cursors[page + 1] = nextCursor;
		prev.disabled = page === 0;
		next.disabled = nextCursor === null || nextCursor === undefined || nextCursor === '';
		pageLabel.textContent = `Page ${page + 1}`;
		const filtered = f.q || f.platform || f.state || f.user || f.seen;
		count.textContent = rows.length === 0
			? (filtered ? 'No device matches these filters on this page.' : 'No devices enrolled yet.')
			: `${rows.length} device${rows.length === 1 ? '' : 's'} shown${filtered ? ' (filtered)' : ''}${next.disabled ? '' : '; more on the next page'}.`;
		clear(tableWrap).append(table(rows));
	}

	function table(rows) {
		const tb = h('tbody');
		for (const d of rows) {
			tb.append(h('tr', { dataset: { deviceId: d.device_id } },
				h('th', { scope: 'row' },
					h('a', { href: `#/devices/${enc(d.device_id)}` }, d.device_name || d.device_id),
					h('div.mono.small', d.device_id)),
				h('td', d.user || '—'),
				h('td', d.platform || '—'),
				h('td', d.os_version || '—'),
				h('td', badge(d.state)),
				h('td', timeEl(d.last_seen)),
				h('td', timeEl(d.enrolled_at, { relative: false }))));
		}
		return h('table.data', { id: 'devices-table' },
			h('caption.sr-only', 'Devices'),
			h('thead', h('tr', ['Device', 'User', 'Platform', 'OS version', 'State', 'Last seen', 'Enrolled'].map((c) => h('th', { scope: 'col' }, c)))),
			tb);
	}

	function readForm() {
		f.q = q.value.trim();
		f.platform = platform.value;
		f.state = state.value;
		f.user = user.value.trim();
		f.seen = seen.value;
		ctx.setQuery(f);
		cursors = [null];
		page = 0;
		load();
	}

	let debounce = null;
	q.addEventListener('input', () => {
		clearTimeout(debounce);
		debounce = setTimeout(readForm, 300);
	});
	for (const s of [platform, state, seen]) s.addEventListener('change', readForm);
	form.addEventListener('submit', (ev) => { ev.preventDefault(); readForm(); });
	form.addEventListener('reset', () => setTimeout(readForm, 0));
	prev.addEventListener('click', () => { if (page > 0) { page--; load(); } });
	next.addEventListener('click', () => { if (cursors[page + 1] != null) { page++; load(); } });

	await load();
	return () => clearTimeout(debounce);
}
