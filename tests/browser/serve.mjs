// serve.mjs -- a stand-in for the gateway's /admin/ static serving, for working on the
// console (and for the browser test while a gateway without /admin/ is in use):
// serves admin/ at /admin/ with the gateway's security headers (strict CSP) and
// forwards /api/ to the real gateway. Loopback only.
//   node tests/browser/serve.mjs --upstream https://localhost:8443 --ca var/ca/ca.pem [--port 0]
// Prints "listening http://127.0.0.1:PORT" once ready.
import http from 'node:http';
import https from 'node:https';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
	if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
	return acc;
}, []));
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(args.root || path.join(here, '../../admin'));
const upstream = new URL(args.upstream || process.env.BASE_URL || 'https://localhost:8443');
const ca = args.ca || process.env.CA ? fs.readFileSync(args.ca || process.env.CA) : undefined;
const port = Number(args.port || 0);

const TYPES = {
	'.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
	'.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml', '.png': 'image/png', '.json': 'application/json',
	'.ico': 'image/x-icon', '.txt': 'text/plain; charset=utf-8',
};
const SECURITY = {
	'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
	'X-Content-Type-Options': 'nosniff',
	'X-Frame-Options': 'DENY',
	'Referrer-Policy': 'no-referrer',
	'Cache-Control': 'no-store',
};

function send(res, status, headers, body) {
	res.writeHead(status, { ...SECURITY, ...headers });
	res.end(body);
}

const server = http.createServer((req, res) => {
	const url = new URL(req.url, 'http://x');
	if (url.pathname.startsWith('/api/')) {
		const p = https.request({
			host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, ca,
			servername: upstream.hostname,
			headers: { ...req.headers, host: upstream.host },
		}, (up) => {
			res.writeHead(up.statusCode, up.headers);
			up.pipe(res);
		});
		p.on('error', (e) => send(res, 502, { 'Content-Type': 'application/json' }, JSON.stringify({ error: { code: 'unavailable', message: `proxy: ${e.message}` } })));
		req.pipe(p);
		return;
	}
	if (url.pathname === '/admin') return send(res, 301, { Location: '/admin/' }, '');
	if (!url.pathname.startsWith('/admin/')) return send(res, 404, { 'Content-Type': 'text/plain' }, 'not found');
	let rel = decodeURIComponent(url.pathname.slice('/admin/'.length)) || 'index.html';
	const file = path.resolve(root, rel);
	if (!file.startsWith(root + path.sep) || rel.split('/').some((s) => s.startsWith('.'))) return send(res, 404, {}, '');
	fs.readFile(file, (err, data) => {
		if (err) return send(res, 404, { 'Content-Type': 'text/plain' }, 'not found');
		send(res, 200, { 'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream' }, req.method === 'HEAD' ? undefined : data);
	});
});
server.listen(port, '127.0.0.1', () => {
	console.log(`listening http://127.0.0.1:${server.address().port}`);
});
