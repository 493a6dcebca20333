// overview.js -- live counters (GET /stats every few seconds, without reloading) and
// the charts of enrollments and management sessions over time.
import { api } from '../api.js';
import { h, clear, errorBox } from '../ui.js';
import { lineChart } from '../chart.js';

const POLL_MS = 5000;
const pad = (n) => String(n).padStart(2, '0');
const hourTick = (t) => { const d = new Date(t * 1000); return `${pad(d.getHours())}:00`; };
const hourLabel = (t) => { const d = new Date(t * 1000); return `${d.getMonth() + 1}/${d.getDate()} ${pad(d.getHours())}:00`; };
const dayTick = (t) => { const d = new Date(t * 1000); return `${d.getMonth() + 1}/${d.getDate()}`; };

function pts(arr) {
	return (Array.isArray(arr) ? arr : []).map((p) => ({ t: Number(p.t), n: Number(p.n) || 0 })).filter((p) => Number.isFinite(p.t));
}

function counter(label, value, cls) {
	return h('div.counter', { class: cls }, h('span.counter-value', String(value ?? '—')), h('span.counter-label', label));
}

export async function render(main, ctx) {
	const updated = h('span.muted', { id: 'stats-updated' });
	const counters = h('section.counters', { 'aria-labelledby': 'cnt-h' }, h('h2.sr-only', { id: 'cnt-h' }, 'Counters'));
	const charts = h('div.grid-2');
	const body = h('div', counters, charts);
	main.append(
		h('div.page-head', h('div.title-row', h('h1', 'Overview'), updated)),
		body);

	const open = {}; // which "data as a table" boxes are open across refreshes
	let failures = 0;

	async function tick() {
		if (document.hidden) { ctx.after(tick, POLL_MS); return; }
		let st;
		try {
			st = await api.get('/stats');
			failures = 0;
		} catch (e) {
			if (!ctx.alive) return;
			if (e.notImplemented) {
				clear(counters).append(errorBox(e, 'Live counters'), h('p', 'Meanwhile: ', h('a', { href: '#/devices' }, 'browse the devices'), '.'));
				updated.textContent = '';
				return; // nothing to poll
			}
			failures++;
			updated.textContent = `Update failed (${e.describe ? e.describe() : e.message}); retrying…`;
			ctx.after(tick, Math.min(POLL_MS * 2 ** failures, 60000));
			return;
		}
		if (!ctx.alive) return;
		draw(st);
		updated.textContent = `Live · updated ${new Date().toLocaleTimeString()}`;
		ctx.after(tick, POLL_MS);
	}

	function draw(st) {
		const dev = st.devices || {};
		const bs = dev.by_state || {};
		const bp = dev.by_platform || {};
		const cm = st.commands || {};
		clear(counters).append(
			h('h2.sr-only', { id: 'cnt-h' }, 'Counters'),
			h('div.counter-row',
				counter('devices', dev.total ?? Object.values(bs).reduce((a, b) => a + Number(b || 0), 0), 'c-total'),
				...Object.entries(bs).map(([k, v]) => counter(k, v, `c-${k}`)),
				...Object.entries(bp).map(([k, v]) => counter(k, v, 'c-platform')),
				counter('commands queued', cm.queued, 'c-queued'),
				counter('commands done', cm.done, 'c-done'),
				counter('commands failed', cm.failed, 'c-failed')));
		for (const fig of charts.querySelectorAll('details')) open[fig.closest('figure').id] = fig.open;
		const enrH = pts(st.enrollments && st.enrollments.per_hour);
		const sesH = pts(st.sessions && st.sessions.per_hour);
		const enrD = pts(st.enrollments && st.enrollments.per_day);
		clear(charts).append(
			h('section.card', lineChart({
				id: 'chart-hourly', title: 'Enrollments and management sessions per hour, last 48 hours',
				series: [{ name: 'Enrollments', cls: 's1', points: enrH }, { name: 'Sessions', cls: 's2', points: sesH }],
				tickFormat: hourTick, labelFormat: hourLabel,
			})),
			h('section.card', lineChart({
				id: 'chart-daily', title: 'Enrollments per day, last 30 days',
				series: [{ name: 'Enrollments', cls: 's1', points: enrD }],
				tickFormat: dayTick, labelFormat: dayTick,
			})));
		for (const fig of charts.querySelectorAll('figure')) {
			const det = fig.querySelector('details');
			if (det && open[fig.id]) det.open = true;
		}
	}

	await tick();
}
