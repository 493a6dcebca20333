// ui.js -- DOM helpers (text only: no HTML strings from data), formatting, status
// messages, the confirmation dialog and copy buttons.
import { toEpoch } from './api.js';

// h('tag.class#id', {attrs, on: {event: fn}}, ...children)
export function h(spec, attrs, ...children) {
	const m = /^([a-z0-9-]+)?((?:[.#][\w-]+)*)$/i.exec(spec);
	const tag = (m && m[1]) || 'div';
	const isSvg = ['svg', 'g', 'path', 'line', 'polyline', 'circle', 'rect', 'text', 'title', 'desc'].includes(tag);
	const el = isSvg ? document.createElementNS('http://www.w3.org/2000/svg', tag) : document.createElement(tag);
	if (m && m[2]) {
		for (const part of m[2].match(/[.#][\w-]+/g)) {
			if (part[0] === '.') el.classList.add(part.slice(1));
			else el.id = part.slice(1);
		}
	}
	if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
		children.unshift(attrs);
		attrs = null;
	}
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === undefined || v === null || v === false) continue;
		if (k === 'on') {
			for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
		} else if (k === 'class') {
			for (const c of String(v).split(/\s+/).filter(Boolean)) el.classList.add(c);
		} else if (k === 'dataset') {
			Object.assign(el.dataset, v);
		} else if (v === true) {
			// boolean attributes (selected, disabled, required…) as attributes, so that
			// form.reset() restores them
			el.setAttribute(k.toLowerCase(), '');
		} else if (k in el && !isSvg && typeof v !== 'string') {
			el[k] = v;
		} else {
			el.setAttribute(k, String(v));
		}
	}
	append(el, children);
	return el;
}

export function append(el, children) {
	for (const c of children.flat(Infinity)) {
		if (c === undefined || c === null || c === false) continue;
		el.append(c instanceof Node ? c : document.createTextNode(String(c)));
	}
	return el;
}

export function clear(el) {
	while (el.firstChild) el.firstChild.remove();
	return el;
}

// --- formatting ----------------------------------------------------------------
const pad = (n) => String(n).padStart(2, '0');

export function fmtDate(v) {
	const t = toEpoch(v);
	if (t === null) return '—';
	const d = new Date(t * 1000);
	return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function fmtAgo(v, now = Date.now() / 1000) {
	const t = toEpoch(v);
	if (t === null) return 'never';
	const s = Math.round(now - t);
	if (s < -60) return `in ${fmtSpan(-s)}`;
	if (s < 45) return 'just now';
	return `${fmtSpan(s)} ago`;
}

export function fmtSpan(s) {
	if (s < 90) return `${Math.max(1, Math.round(s))} s`;
	if (s < 5400) return `${Math.round(s / 60)} min`;
	if (s < 129600) return `${Math.round(s / 3600)} h`;
	return `${Math.round(s / 86400)} d`;
}

// <time> with the absolute date visible and the relative one as a suffix
export function timeEl(v, { relative = true } = {}) {
	const t = toEpoch(v);
	if (t === null) return h('span.muted', '—');
	const iso = new Date(t * 1000).toISOString();
	return h('time', { datetime: iso, title: iso }, fmtDate(t), relative ? h('span.muted', ` (${fmtAgo(t)})`) : null);
}

export function badge(state) {
	const s = String(state || 'unknown');
	return h('span.badge', { class: `st-${s.replace(/[^a-z0-9-]/gi, '')}` }, s);
}

// --- status messages -----------------------------------------------------------
// #status is aria-live=polite (progress, success); #alert is role=alert (errors).
let statusTimer = null;
export function announce(text, kind = 'ok') {
	const el = document.getElementById(kind === 'error' ? 'alert' : 'status');
	const other = document.getElementById(kind === 'error' ? 'status' : 'alert');
	if (!el) return;
	clear(other);
	clear(el);
	el.append(h('span', text));
	if (kind === 'error') {
		el.append(' ', h('button.link', { type: 'button', on: { click: () => clear(el) } }, 'Dismiss'));
	}
	el.dataset.kind = kind;
	clearTimeout(statusTimer);
	if (kind !== 'error') statusTimer = setTimeout(() => clear(el), 8000);
}

export function announceError(err, what) {
	const msg = err && err.describe ? err.describe() : String(err && err.message ? err.message : err);
	announce(what ? `${what}: ${msg}` : msg, 'error');
}

// An inline error box for a section that could not load.
export function errorBox(err, what) {
	const msg = err && err.describe ? err.describe() : String(err && err.message ? err.message : err);
	if (err && err.notImplemented) {
		return h('p.notice', { role: 'note' }, `${what ? what + ': ' : ''}not available on this server yet. `, h('span.muted', `(${err.path} answered ${err.status})`));
	}
	return h('p.error-box', `${what ? what + ': ' : ''}${msg}`);
}

// --- confirmation dialog ---------------------------------------------------------
// confirmDialog({title, body, confirmLabel, danger, typeToConfirm, extra}) -> Promise
// resolving to false (cancelled) or an object of the extra fields' values (true-ish).
export function confirmDialog({ title, body, confirmLabel = 'Confirm', danger = false, typeToConfirm = null, extra = null }) {
	const dlg = document.getElementById('confirm');
	const form = h('form', { method: 'dialog' });
	const titleId = 'confirm-title';
	const descId = 'confirm-desc';
	const okBtn = h('button', { type: 'submit', value: 'ok', class: danger ? 'danger' : 'primary' }, confirmLabel);
	const cancelBtn = h('button', { type: 'button', value: 'cancel' }, 'Cancel');
	let input = null;
	append(form, [
		h('h2', { id: titleId }, title),
		h('div', { id: descId }, body),
		extra ? extra.node : null,
	]);
	if (typeToConfirm) {
		input = h('input', { type: 'text', id: 'confirm-input', autocomplete: 'off', spellcheck: 'false' });
		append(form, [h('label', { for: 'confirm-input' }, 'Type ', h('strong.mono', typeToConfirm), ' to confirm'), input]);
		okBtn.disabled = true;
		input.addEventListener('input', () => { okBtn.disabled = input.value.trim() !== typeToConfirm; });
	}
	append(form, [h('div.dialog-actions', cancelBtn, okBtn)]);
	clear(dlg);
	dlg.append(form);
	dlg.setAttribute('aria-labelledby', titleId);
	dlg.setAttribute('aria-describedby', descId);
	const opener = document.activeElement;
	return new Promise((resolve) => {
		let result = false;
		cancelBtn.addEventListener('click', () => dlg.close('cancel'));
		form.addEventListener('submit', (ev) => {
			if (input && input.value.trim() !== typeToConfirm) {
				ev.preventDefault();
				return;
			}
			result = extra && extra.values ? extra.values() : {};
		});
		dlg.addEventListener('close', () => {
			if (dlg.returnValue !== 'ok') result = false;
			if (opener && opener.isConnected) opener.focus();
			resolve(result);
		}, { once: true });
		dlg.returnValue = '';
		dlg.showModal();
		(input || okBtn).focus();
	});
}

// --- copy ------------------------------------------------------------------------
export function copyButton(getText, label = 'Copy') {
	const btn = h('button', { type: 'button' }, label);
	btn.addEventListener('click', async () => {
		const text = getText();
		try {
			await navigator.clipboard.writeText(text);
			announce('Copied to the clipboard.');
		} catch (e) {
			// no clipboard permission: select the text so Ctrl+C works
			const target = btn.previousElementSibling;
			if (target && target.select) target.select();
			announce('Could not copy automatically: the text is selected, press Ctrl+C.', 'error');
		}
	});
	return btn;
}

// A one-time secret box: read-only field + copy button + warning.
export function secretBox(label, value, note) {
	const id = `secret-${Math.random().toString(36).slice(2)}`;
	const field = h('input.mono.secret', { id, type: 'text', readOnly: true, value, spellcheck: 'false', autocomplete: 'off' });
	field.addEventListener('focus', () => field.select());
	return h('div.secret-box', { role: 'group', 'aria-labelledby': `${id}-l` },
		h('label', { id: `${id}-l`, for: id }, label),
		h('div.row', field, copyButton(() => value)),
		h('p.warn', note || 'Shown only once: copy it now. It cannot be displayed again.'));
}

// Key/value description list
export function dl(rows) {
	const el = h('dl.kv');
	for (const [k, v] of rows) {
		if (v === undefined) continue;
		el.append(h('dt', k), h('dd', v === null || v === '' ? h('span.muted', '—') : v));
	}
	return el;
}

// A labelled form field: returns {wrap, input}
export function field(label, input, hint) {
	if (!input.id) input.id = `f-${Math.random().toString(36).slice(2)}`;
	const hintEl = hint ? h('span.hint', { id: `${input.id}-hint` }, hint) : null;
	if (hintEl) input.setAttribute('aria-describedby', hintEl.id);
	return h('div.field', h('label', { for: input.id }, label), input, hintEl);
}

export function button(label, onClick, cls) {
	return h('button', { type: 'button', class: cls, on: { click: onClick } }, label);
}

// Runs fn with the button disabled and aria-busy set; errors announced.
export async function busy(btn, fn) {
	if (btn) { btn.disabled = true; btn.setAttribute('aria-busy', 'true'); }
	try {
		return await fn();
	} finally {
		if (btn) { btn.disabled = false; btn.removeAttribute('aria-busy'); }
	}
}
