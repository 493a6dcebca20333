// api.js -- the admin API client: bearer token from sessionStorage (never in a URL),
// JSON in and out, errors as ApiError with the server's code and message.

const BASE = '/api/v1';
const KEY = 'mdm.session';

export class ApiError extends Error {
	constructor(status, code, message, path) {
		super(message);
		this.status = status;
		this.code = code;
		this.path = path;
	}
	// The route is not on this server (yet): the backend answers unknown paths with
	// 404 "no such resource" (or an empty 404 from the gateway) and known paths with
	// another method with 405.
	get notImplemented() {
		return (this.status === 404 && (this.code === 'not_found_route' || this.message === 'no such resource')) ||
			this.status === 405;
	}
	describe() {
		if (this.status === 0) return `The server could not be reached (${this.message}).`;
		if (this.notImplemented) return `This server does not offer ${this.path} yet.`;
		const what = {
			400: 'Refused',
			401: 'Not signed in',
			403: 'Not allowed for your role',
			404: 'Not found',
			409: 'Conflict',
			413: 'Too large',
			429: 'Too many attempts',
			503: 'Service unavailable',
		}[this.status] || `Error ${this.status}`;
		return `${what}: ${this.message}`;
	}
}

// --- session -------------------------------------------------------------------
// { token, role, email?, name?, kind, expires_at? } in sessionStorage: gone when the
// tab closes, never sent anywhere but the Authorization header.
export function getSession() {
	try {
		const s = JSON.parse(sessionStorage.getItem(KEY) || 'null');
		if (s && s.token) {
			if (s.expires_at && toEpoch(s.expires_at) && toEpoch(s.expires_at) * 1000 < Date.now()) {
				sessionStorage.removeItem(KEY);
				return null;
			}
			return s;
		}
	} catch (e) { /* corrupt entry: treat as signed out */ }
	return null;
}

export function setSession(s) {
	sessionStorage.setItem(KEY, JSON.stringify(s));
}

export function clearSession() {
	sessionStorage.removeItem(KEY);
}

let onUnauthorized = () => {};
export function setUnauthorizedHandler(fn) {
	onUnauthorized = fn;
}

// --- requests ------------------------------------------------------------------
function qs(params) {
	if (!params) return '';
	const u = new URLSearchParams();
	for (const [k, v] of Object.entries(params)) {
		if (v === undefined || v === null || v === '') continue;
		u.set(k, String(v));
	}
	const s = u.toString();
	return s ? `?${s}` : '';
}

export async function request(method, path, { body, query, token, quiet401 } = {}) {
	const sess = getSession();
	const tok = token || (sess && sess.token);
	const headers = { Accept: 'application/json' };
	if (tok) headers.Authorization = `Bearer ${tok}`;
	if (body !== undefined) headers['Content-Type'] = 'application/json';
	const url = BASE + path + qs(query);
	let res;
	try {
		res = await fetch(url, {
			method,
			headers,
			body: body === undefined ? undefined : JSON.stringify(body),
			cache: 'no-store',
			credentials: 'omit',
			redirect: 'error',
		});
	} catch (e) {
		throw new ApiError(0, 'network', e.message || 'network error', `${method} ${BASE}${path}`);
	}
	if (res.status === 204) return null;
	const text = await res.text();
	let data = null;
	if (text) {
		try { data = JSON.parse(text); } catch (e) { data = null; }
	}
	if (!res.ok) {
		const err = data && data.error ? data.error : null;
		let code = err && err.code ? err.code : (res.status === 404 ? 'not_found_route' : 'error');
		const msg = err && err.message ? err.message : (text && !data ? text.slice(0, 200) : res.statusText || 'request failed');
		const e = new ApiError(res.status, code, msg, `${method} ${BASE}${path}`);
		const retry = res.headers.get('Retry-After');
		if (retry) e.retryAfter = retry;
		if (res.status === 401 && !quiet401 && !token) onUnauthorized(e);
		throw e;
	}
	return data;
}

export const api = {
	get: (path, query, opts) => request('GET', path, { query, ...opts }),
	post: (path, body, opts) => request('POST', path, { body: body === undefined ? {} : body, ...opts }),
	patch: (path, body) => request('PATCH', path, { body }),
	del: (path, query) => request('DELETE', path, { query }),
};

export const enc = encodeURIComponent;

// --- values --------------------------------------------------------------------
// Times arrive as epoch seconds (number or numeric string) or ISO 8601 text.
export function toEpoch(v) {
	if (v === undefined || v === null || v === '') return null;
	if (typeof v === 'number') return v;
	if (/^\d+(\.\d+)?$/.test(String(v))) return Number(v);
	const ms = Date.parse(v);
	return Number.isNaN(ms) ? null : Math.floor(ms / 1000);
}
