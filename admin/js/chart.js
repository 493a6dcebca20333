// chart.js -- a small SVG line chart (no library, no inline styles: colours come from
// the series' CSS classes). lineChart({title, series:[{name, cls, points:[{t,n}]}],
// tickFormat}) -> <figure> with the SVG, a legend and the data as a table for screen
// readers.
import { h } from './ui.js';

const W = 640;
const H = 220;
const M = { top: 12, right: 14, bottom: 28, left: 40 };

function niceMax(v) {
	if (v <= 4) return 4;
	const p = 10 ** Math.floor(Math.log10(v));
	for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
	return 10 * p;
}

export function lineChart({ id, title, series, tickFormat, labelFormat }) {
	const all = series.flatMap((s) => s.points);
	const ts = [...new Set(all.map((p) => p.t))].sort((a, b) => a - b);
	const t0 = ts.length ? ts[0] : 0;
	const t1 = ts.length > 1 ? ts[ts.length - 1] : t0 + 1;
	const max = niceMax(Math.max(0, ...all.map((p) => p.n)));
	const iw = W - M.left - M.right;
	const ih = H - M.top - M.bottom;
	const x = (t) => M.left + ((t - t0) / (t1 - t0)) * iw;
	const y = (n) => M.top + ih - (n / max) * ih;
	const titleId = `${id}-title`;
	const descId = `${id}-desc`;
	const svg = h('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-labelledby': `${titleId} ${descId}`, preserveAspectRatio: 'xMidYMid meet' },
		h('title', { id: titleId }, title),
		h('desc', { id: descId }, series.map((s) => `${s.name}: ${s.points.reduce((a, p) => a + p.n, 0)} in total`).join('; ')));
	// grid + y labels
	for (let i = 0; i <= 4; i++) {
		const v = (max / 4) * i;
		const yy = y(v);
		svg.append(h('line', { x1: M.left, x2: W - M.right, y1: yy, y2: yy, class: 'grid' }));
		svg.append(h('text', { x: M.left - 6, y: yy + 4, class: 'axis-label', 'text-anchor': 'end' }, Number.isInteger(v) ? String(v) : v.toFixed(1)));
	}
	// x labels: about six
	const step = Math.max(1, Math.ceil(ts.length / 6));
	for (let i = 0; i < ts.length; i += step) {
		svg.append(h('text', { x: x(ts[i]), y: H - 8, class: 'axis-label', 'text-anchor': 'middle' }, tickFormat(ts[i])));
	}
	svg.append(h('line', { x1: M.left, x2: W - M.right, y1: M.top + ih, y2: M.top + ih, class: 'axis' }));
	for (const s of series) {
		const pts = [...s.points].sort((a, b) => a.t - b.t);
		if (!pts.length) continue;
		svg.append(h('polyline', { points: pts.map((p) => `${x(p.t).toFixed(1)},${y(p.n).toFixed(1)}`).join(' '), class: `line ${s.cls}` }));
		for (const p of pts) {
			if (p.n > 0) svg.append(h('circle', { cx: x(p.t).toFixed(1), cy: y(p.n).toFixed(1), r: 2.5, class: `dot ${s.cls}` }, h('title', `${s.name}, ${labelFormat(p.t)}: ${p.n}`)));
		}
	}
	const legend = h('ul.legend', series.map((s) => h('li', h('span', { class: `swatch ${s.cls}`, 'aria-hidden': 'true' }), `${s.name} (${s.points.reduce((a, p) => a + p.n, 0)})`)));
	// the same data as a table, for screen readers and copy/paste
	const rows = ts.map((t) => h('tr', h('th', { scope: 'row' }, labelFormat(t)), series.map((s) => {
		const p = s.points.find((q) => q.t === t);
		return h('td', p ? String(p.n) : '0');
	})));
	const table = h('details.chart-data', h('summary', 'Show the data as a table'),
		h('div.table-wrap.scroll-y', h('table.data.compact', h('caption.sr-only', title),
			h('thead', h('tr', h('th', { scope: 'col' }, 'Time'), series.map((s) => h('th', { scope: 'col' }, s.name)))),
			h('tbody', rows))));
	return h('figure.chart-fig', { id }, h('figcaption', title), svg, legend, table);
}
