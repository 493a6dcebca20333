// device.js -- one device: summary, inventory, DevInfo, certificate, enrollment data,
// groups, command history (auto-refreshed while a command is pending) and the actions
// lock / reboot / inventory / wipe / unenroll behind a confirmation dialog.
import { api, enc, toEpoch } from '../api.js';
import { h, clear, dl, timeEl, badge, errorBox, announce, announceError, confirmDialog, field, busy, fmtDate } from '../ui.js';

const FINAL = new Set(['done', 'failed', 'cancelled', 'expired', 'error', 'superseded']);
const POLL_MS = 2000;

// OMA-DM status codes a device answers with (SyncML Representation Protocol)
const DM_STATUS = {
	200: 'OK', 202: 'Accepted for processing', 204: 'No content', 212: 'Authentication accepted',
	213: 'Chunked item accepted', 215: 'Not executed', 216: 'Atomic roll back OK',
	400: 'Bad request', 401: 'Invalid credentials', 403: 'Forbidden', 404: 'Not found',
	405: 'Command not allowed', 406: 'Optional feature not supported', 407: 'Missing credentials',
	408: 'Request timeout', 412: 'Incomplete command', 413: 'Request entity too large',
	415: 'Unsupported media type', 418: 'Already exists', 424: 'Size mismatch', 425: 'Permission denied',
	500: 'Command failed', 506: 'Processing error', 507: 'Atomic failed', 516: 'Atomic roll back failed',
};

const INV_LABELS = {
	swv: 'Software version', oem: 'Manufacturer (OEM)', hwv: 'Hardware version', fwv: 'Firmware version',
	devtyp: 'Device type', ext_microsoft_devicename: 'Device name', ext_microsoft_smbiosserialnumber: 'Serial number',
	ext_microsoft_totalram: 'RAM (MB)', ext_microsoft_osplatform: 'OS platform',
	ext_microsoft_processorarchitecture: 'Processor architecture', ext_microsoft_localtime: 'Device local time',
	ext_microsoft_dnscomputername: 'DNS computer name', ext_microsoft_totalstorage: 'Storage (MB)',
};
const ARCH = { 0: 'x86', 5: 'ARM', 9: 'x64', 12: 'ARM64' };
const DEVINFO_LABELS = { devid: 'DeviceID', man: 'Manufacturer', mod: 'Model', dmv: 'DM client version', lang: 'Language' };
const ENROLL_KEYS = [
	['user', 'User'], ['auth', 'Authentication'], ['enrollment_type', 'Enrollment type'],
	['device_type', 'Device type'], ['application_version', 'Client version'], ['locale', 'Locale'],
	['login_status', 'Login status'], ['hwdevid', 'Hardware id (HWDevID)'],
];

// Nested objects (contract) or the flat prefixed fields (older servers).
function section(d, obj, prefix) {
	if (d[obj] && typeof d[obj] === 'object') return d[obj];
	const out = {};
	for (const [k, v] of Object.entries(d)) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = v;
	return out;
}

function invValue(k, v) {
	if (k === 'ext_microsoft_processorarchitecture' && ARCH[v] !== undefined) return `${ARCH[v]} (${v})`;
	return String(v);
}

function statusText(s) {
	if (s === null || s === undefined || s === '') return h('span.muted', '—');
	const n = Number(s);
	return h('span', { title: DM_STATUS[n] || '' }, String(s), DM_STATUS[n] ? h('span.muted', ` ${DM_STATUS[n]}`) : null);
}

function resultsCell(c) {
	const res = c.results || [];
	if (!res.length) return h('span.muted', c.error ? String(c.error) : '—');
	const list = h('dl.results');
	for (const r of res) {
		const data = r.data === null || r.data === undefined ? '' : String(r.data);
		const shown = data.length > 200 ? `${data.slice(0, 200)}… (${data.length} characters)` : data;
		list.append(h('dt.mono', r.target || '?'), h('dd.mono', shown || h('span.muted', '(empty)')));
	}
	return h('details', h('summary', `${res.length} result${res.length === 1 ? '' : 's'}`), list);
}

function commandLabel(c) {
	const r = c.request || {};
	if (c.type === 'wipe' && r.mode) return `wipe (${r.mode})`;
	if (c.type === 'policy' && r.action) return `policy ${r.action}`;
	if (c.type === 'raw' && r.verb) return `raw ${r.verb}`;
	return c.type || '?';
}

export async function render(main, ctx) {
	const id = ctx.params.id;
	const head = h('div.page-head');
	main.append(head);
	let d;
	try {
		d = await api.get(`/devices/${enc(id)}`);
	} catch (e) {
		head.append(h('h1', 'Device'));
		main.append(errorBox(e, `Device ${id}`), h('p', h('a', { href: '#/devices' }, '← Back to the devices')));
		return;
	}
	if (!ctx.alive) return;
	const name = d.device_name || d.device_id;
	const enrolled = d.state !== 'unenrolled';

	// --- header + actions
	const actions = h('div.actions', { role: 'group', 'aria-label': 'Device actions' });
	head.append(
		h('p.crumbs', h('a', { href: '#/devices' }, 'Devices'), ' / '),
		h('div.title-row', h('h1', name), badge(d.state)),
		h('p.mono.small.muted', d.device_id));
	if (ctx.readOnly) {
		actions.append(h('p.muted', 'Read-only role: commands are not available.'));
	} else {
		const mk = (label, fn, cls) => h('button', { type: 'button', class: cls, disabled: !enrolled, dataset: { action: label.replace('…', '').toLowerCase() }, on: { click: (ev) => fn(ev.currentTarget) } }, label);
		actions.append(
			mk('Lock', (b) => simple(b, 'lock', 'Lock this device?', 'The device locks its screen at its next management session.')),
			mk('Reboot', (b) => simple(b, 'reboot', 'Reboot this device?', 'The device restarts at its next management session; unsaved work is lost.')),
			mk('Inventory', (b) => simple(b, 'inventory', 'Refresh the inventory?', 'The device reports its hardware and software details at its next session.')),
			mk('Wipe…', wipe, 'danger'),
			mk('Unenroll…', unenroll, 'danger-outline'));
		if (!enrolled) actions.append(h('p.muted', 'This device is unenrolled: it takes no more commands.'));
	}
	head.append(actions);

	// --- details
	const inv = section(d, 'inventory', 'inv_');
	const devinfo = section(d, 'devinfo', 'devinfo_');
	const cert = d.certificate || {};
	const certExp = toEpoch(cert.not_after);
	const daysLeft = certExp ? Math.floor((certExp - Date.now() / 1000) / 86400) : null;
	const lastSeen = h('span', timeEl(d.last_seen));

	const summary = h('section.card', { 'aria-labelledby': 'sum-h' }, h('h2', { id: 'sum-h' }, 'Summary'), dl([
		['Name', name],
		['User', d.user || null],
		['Platform', d.platform || null],
		['OS version', d.os_version || null],
		['OS edition', d.os_edition || null],
		['State', badge(d.state)],
		['Last seen', lastSeen],
		['Enrolled', timeEl(d.enrolled_at)],
		d.first_enrolled_at && d.first_enrolled_at !== d.enrolled_at ? ['First enrolled', timeEl(d.first_enrolled_at)] : [null, undefined],
		d.unenrolled_at ? ['Unenrolled', timeEl(d.unenrolled_at)] : [null, undefined],
		['MAC addresses', (d.macs || []).length ? h('span.mono', (d.macs || []).join(', ')) : null],
	]));
	const certSec = h('section.card', { 'aria-labelledby': 'cert-h' }, h('h2', { id: 'cert-h' }, 'Certificate'), dl([
		['Serial', cert.serial ? h('span.mono.wrap', cert.serial) : null],
		['Thumbprint', cert.thumbprint ? h('span.mono.wrap', cert.thumbprint) : null],
		['Expires', certExp ? h('span', fmtDate(certExp), h('span', { class: daysLeft < 30 ? 'warn-text' : 'muted' }, ` (${daysLeft >= 0 ? `${daysLeft} days left` : 'expired'})`)) : null],
		d.renewed_at ? ['Renewed', timeEl(d.renewed_at)] : [null, undefined],
	]));
	const enrollSec = h('section.card', { 'aria-labelledby': 'enr-h' }, h('h2', { id: 'enr-h' }, 'Enrollment'),
		dl(ENROLL_KEYS.filter(([k]) => d[k] !== undefined).map(([k, l]) => [l, k === 'hwdevid' ? h('span.mono.wrap', d[k]) : String(d[k])])));
	const invKeys = Object.keys(inv).filter((k) => k !== 'at');
	const invSec = h('section.card', { 'aria-labelledby': 'inv-h' }, h('h2', { id: 'inv-h' }, 'Inventory'),
		invKeys.length
			? dl([...invKeys.map((k) => [INV_LABELS[k] || k, invValue(k, inv[k])]), d.inventory_at ? ['Reported', timeEl(d.inventory_at)] : [null, undefined]])
			: h('p.muted', 'No inventory reported yet.'));
	const diKeys = Object.keys(devinfo);
	const diSec = h('section.card', { 'aria-labelledby': 'di-h' }, h('h2', { id: 'di-h' }, 'DevInfo'),
		diKeys.length ? dl(diKeys.map((k) => [DEVINFO_LABELS[k] || k, String(devinfo[k])])) : h('p.muted', 'The device has not contacted the management service yet.'));
	const groupsSec = h('section.card', { 'aria-labelledby': 'grp-h' }, h('h2', { id: 'grp-h' }, 'Groups'));

	main.append(h('div.grid-3', summary, h('div.stack', certSec, enrollSec), h('div.stack', diSec, groupsSec)), h('div.grid-1', invSec));

	// --- command history
	const cmdBody = h('tbody');
	const pollNote = h('span.muted', { id: 'poll-note' });
	const cmdSec = h('section.card', { 'aria-labelledby': 'cmd-h', id: 'commands' },
		h('div.section-head', h('h2', { id: 'cmd-h' }, 'Commands'), pollNote,
			h('button', { type: 'button', on: { click: () => refresh(true) } }, 'Refresh')),
		h('div.table-wrap', h('table.data.commands', { id: 'commands-table' },
			h('caption.sr-only', 'Command history, newest first'),
			h('thead', h('tr', ['Queued', 'Command', 'State', 'Device status', 'Sent', 'Finished', 'Results'].map((c) => h('th', { scope: 'col' }, c)))),
			cmdBody)));
	main.append(cmdSec);

	let commands = Array.isArray(d.commands) ? d.commands : null;
	const known = new Map(); // id -> state, to announce changes

	function renderCommands() {
		clear(cmdBody);
		if (!commands || !commands.length) {
			cmdBody.append(h('tr', h('td', { colspan: 7 }, h('span.muted', 'No commands yet.'))));
			return;
		}
		for (const c of commands) {
			cmdBody.append(h('tr', { dataset: { commandId: c.id, type: c.type, state: c.state } },
				h('td', timeEl(c.created_at)),
				h('th', { scope: 'row' }, commandLabel(c), h('div.mono.small.muted', { title: 'Command id' }, c.id)),
				h('td.cmd-state', badge(c.state)),
				h('td', statusText(c.status)),
				h('td', timeEl(c.sent_at, { relative: false })),
				h('td', timeEl(c.done_at, { relative: false })),
				h('td', resultsCell(c))));
		}
	}

	function pending() {
		return (commands || []).filter((c) => !FINAL.has(c.state));
	}

	function noteChanges() {
		for (const c of commands || []) {
			const before = known.get(c.id);
			if (before && before !== c.state && FINAL.has(c.state)) {
				announce(`${commandLabel(c)} is now ${c.state}${c.status ? ` (device status ${c.status})` : ''}.`, c.state === 'done' ? 'ok' : 'error');
			}
			known.set(c.id, c.state);
		}
	}

	let timer = null;
	let inFlight = false;
	async function refresh(manual) {
		if (inFlight) return;
		inFlight = true;
		try {
			const [cs, dev] = await Promise.all([
				api.get(`/devices/${enc(id)}/commands`, { limit: 50 }),
				api.get(`/devices/${enc(id)}`).catch(() => null),
			]);
			if (!ctx.alive) return;
			commands = cs.commands || [];
			noteChanges();
			renderCommands();
			if (dev) clear(lastSeen).append(timeEl(dev.last_seen));
			if (manual) announce('Command history refreshed.');
		} catch (e) {
			if (ctx.alive) clear(cmdBody).append(h('tr', h('td', { colspan: 7 }, errorBox(e, 'Command history'))));
		} finally {
			inFlight = false;
		}
		schedule();
	}

	function schedule() {
		if (!ctx.alive) return;
		if (timer) { clearTimeout(timer); ctx.timers.delete(timer); timer = null; }
		const p = pending().length;
		if (p > 0) {
			pollNote.textContent = `Auto-refreshing: ${p} command${p === 1 ? '' : 's'} pending.`;
			timer = ctx.after(() => { timer = null; refresh(false); }, POLL_MS);
		} else {
			pollNote.textContent = '';
		}
	}

	if (commands) {
		noteChanges();
		renderCommands();
		schedule();
	} else {
		refresh(false);
	}

	// --- groups
	async function loadGroups() {
		clear(groupsSec).append(h('h2', { id: 'grp-h' }, 'Groups'));
		let names = Array.isArray(d.groups) ? d.groups.map((g) => (typeof g === 'string' ? g : g.name)) : null;
		let allGroups = null;
		if (!names) {
			try {
				const gl = await api.get('/groups');
				allGroups = (gl.groups || []).map((g) => g.name);
				const member = await Promise.all(allGroups.slice(0, 50).map(async (g) => {
					const r = await api.get(`/groups/${enc(g)}/devices`).catch(() => ({ devices: [] }));
					return (r.devices || []).some((x) => (typeof x === 'string' ? x : x.device_id) === id) ? g : null;
				}));
				names = member.filter(Boolean);
			} catch (e) {
				groupsSec.append(h('p.muted', 'The server does not report group membership yet.'));
			}
		}
		if (!ctx.alive) return;
		if (names) {
			if (!names.length) groupsSec.append(h('p.muted', 'In no group.'));
			const ul = h('ul.chips');
			for (const g of names) {
				ul.append(h('li', h('a', { href: `#/groups/${enc(g)}` }, g),
					ctx.readOnly ? null : h('button.link', {
						type: 'button', 'aria-label': `Remove from group ${g}`,
						on: { click: (ev) => removeFromGroup(ev.currentTarget, g) },
					}, '×')));
			}
			if (names.length) groupsSec.append(ul);
		}
		if (!ctx.readOnly) {
			const input = h('input', { type: 'text', list: 'group-names', autocomplete: 'off', pattern: '[A-Za-z0-9 _.\\-]{1,64}', required: true });
			const dlist = h('datalist', { id: 'group-names' });
			if (allGroups === null) {
				api.get('/groups').then((gl) => { for (const g of gl.groups || []) dlist.append(h('option', { value: g.name })); }).catch(() => {});
			} else for (const g of allGroups) dlist.append(h('option', { value: g }));
			const btn = h('button', { type: 'submit' }, 'Add');
			const form = h('form.inline', field('Add to group', input), dlist, btn);
			form.addEventListener('submit', async (ev) => {
				ev.preventDefault();
				const g = input.value.trim();
				await busy(btn, async () => {
					try {
						await api.post(`/groups/${enc(g)}/devices`, { devices: [id] });
						announce(`Added to group ${g}.`);
						d.groups = undefined;
						if (names) d.groups = [...new Set([...names, g])];
						loadGroups();
					} catch (e) { announceError(e, `Add to group ${g}`); }
				});
			});
			groupsSec.append(form);
		}
	}

	async function removeFromGroup(btn, g) {
		const ok = await confirmDialog({ title: `Remove from ${g}?`, body: h('p', `${name} leaves the group ${g}. Bulk commands to the group no longer reach it.`), confirmLabel: 'Remove' });
		if (!ok) return;
		try {
			await api.del(`/groups/${enc(g)}/devices/${enc(id)}`);
			announce(`Removed from group ${g}.`);
			if (Array.isArray(d.groups)) d.groups = d.groups.filter((x) => (typeof x === 'string' ? x : x.name) !== g);
			loadGroups();
		} catch (e) { announceError(e, `Remove from group ${g}`); }
	}
	loadGroups();

	// --- actions
	async function queue(btn, body, label) {
		await busy(btn, async () => {
			try {
				const c = await api.post(`/devices/${enc(id)}/commands`, body);
				commands = [c, ...(commands || []).filter((x) => x.id !== c.id)];
				known.set(c.id, c.state);
				renderCommands();
				announce(`${label} ${c.state || 'queued'}: the device gets it at its next session.`);
				schedule();
			} catch (e) { announceError(e, label); }
		});
	}

	async function simple(btn, type, title, text) {
		const ok = await confirmDialog({ title, body: h('p', h('strong', name), ` — ${text}`), confirmLabel: type[0].toUpperCase() + type.slice(1) });
		if (ok) queue(btn, { type }, type[0].toUpperCase() + type.slice(1));
	}

	async function wipe(btn) {
		const mode = h('select', { id: 'wipe-mode' },
			h('option', { value: 'doWipe' }, 'Reset the device (doWipe)'),
			h('option', { value: 'doWipeProtected' }, 'Reset, harder to bypass (doWipeProtected)'),
			h('option', { value: 'doWipePersistUserData' }, 'Reset, keep user data (doWipePersistUserData)'));
		const ok = await confirmDialog({
			title: 'Wipe this device?', danger: true, confirmLabel: 'Wipe',
			body: h('p', 'All data on ', h('strong', name), ' is erased at its next management session. This cannot be undone.'),
			extra: { node: field('Wipe mode', mode), values: () => ({ mode: mode.value }) },
			typeToConfirm: name,
		});
		if (ok) queue(btn, { type: 'wipe', mode: ok.mode }, 'Wipe');
	}

	async function unenroll(btn) {
		const force = h('input', { type: 'checkbox', id: 'unenroll-force' });
		const ok = await confirmDialog({
			title: 'Unenroll this device?', danger: true, confirmLabel: 'Unenroll',
			body: h('p', h('strong', name), ' is told to leave management at its next session; its certificate is then revoked.'),
			extra: {
				node: h('div.field.check', force, h('label', { for: 'unenroll-force' }, 'Now: revoke the certificate at once, without waiting for the device')),
				values: () => ({ force: force.checked }),
			},
			typeToConfirm: name,
		});
		if (!ok) return;
		await busy(btn, async () => {
			try {
				await api.del(`/devices/${enc(id)}`, ok.force ? { force: 1 } : undefined);
				announce(ok.force ? 'Device unenrolled and certificate revoked.' : 'Unenrollment queued: the device leaves at its next session.');
				refresh(false);
			} catch (e) { announceError(e, 'Unenroll'); }
		});
	}

	return () => { if (timer) clearTimeout(timer); };
}

