#!/bin/sh
# Creates the files docker/compose.yml mounts as secrets, once; an existing file is never
# replaced (least of all the CA: every enrolled device trusts it).
#   ca.pem, ca.key         the device CA (RSA 2048, 10 years, CN "MDM Device CA"), as
#                          `mdm-pki --init` would create it; or copy your own CA here
#   tls.pem                HTTPS certificate + key for the gateway, issued by that CA for
#                          the host of $MDM_PUBLIC_URL (and localhost). Real Windows devices
#                          need a publicly trusted one: replace this file (operations.md)
#   admin_token.conf       MDM_ADMIN_TOKEN=<64 hex digits>, read by the registry (MDM_CONFIG)
# Usage: docker/init-secrets.sh [extra DNS names...]
# Environment: MDM_SECRETS_DIR (default: docker/secrets), MDM_PUBLIC_URL,
#   MDM_SECRETS_OWNER (default 10001, the containers' user; files are chown'ed to it when
#   run as root, since compose mounts secret files with their host owner and mode).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dir=${MDM_SECRETS_DIR:-$here/secrets}
owner=${MDM_SECRETS_OWNER-10001}
host=$(printf '%s' "${MDM_PUBLIC_URL:-https://localhost}" | sed -E 's#^https?://(\[[^]]*\]|[^:/]*).*#\1#')
mkdir -p "$dir"
chmod 700 "$dir"
umask 077
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ ! -f "$dir/ca.pem" ] || [ ! -f "$dir/ca.key" ]; then
	if [ -f "$dir/ca.pem" ] || [ -f "$dir/ca.key" ]; then
		echo "init-secrets: only one of ca.pem / ca.key exists in $dir; refusing to replace half a CA" >&2
		exit 1
	fi
	cat >"$tmp/ca.cnf" <<'CNF'
[req]
distinguished_name = dn
x509_extensions = v3_ca
prompt = no
[dn]
CN = MDM Device CA
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
CNF
	openssl req -x509 -new -newkey rsa:2048 -nodes -sha256 -days 3650 -config "$tmp/ca.cnf" \
		-keyout "$tmp/ca.key" -out "$tmp/ca.pem" 2>/dev/null
	mv "$tmp/ca.key" "$dir/ca.key"
	mv "$tmp/ca.pem" "$dir/ca.pem"
	chmod 644 "$dir/ca.pem"
	echo "init-secrets: created the device CA $dir/ca.pem"
fi

if [ ! -f "$dir/tls.pem" ]; then
	# scripts/dev-certs.sh issues it from DATA_DIR/ca/ca.{pem,key} into DATA_DIR/tls/
	mkdir -p "$tmp/data/ca"
	cp "$dir/ca.pem" "$dir/ca.key" "$tmp/data/ca/"
	extra=""
	[ "$host" = localhost ] || extra=$host
	# shellcheck disable=SC2086
	"$here/../scripts/dev-certs.sh" "$tmp/data" $extra "$@"
	mv "$tmp/data/tls/server.pem" "$dir/tls.pem"
	echo "init-secrets: created the TLS certificate $dir/tls.pem for ${extra:-localhost} $*"
fi

if [ ! -f "$dir/admin_token.conf" ]; then
	printf 'MDM_ADMIN_TOKEN=%s\n' "$(openssl rand -hex 32)" >"$tmp/admin_token.conf"
	mv "$tmp/admin_token.conf" "$dir/admin_token.conf"
	echo "init-secrets: created the admin token $dir/admin_token.conf"
fi

chmod 400 "$dir/ca.key" "$dir/tls.pem" "$dir/admin_token.conf"
if [ -n "$owner" ]; then
	if [ "$(id -u)" = 0 ]; then
		chown "$owner:$owner" "$dir/ca.pem" "$dir/ca.key" "$dir/tls.pem" "$dir/admin_token.conf"
	elif [ "$(id -u)" != "$owner" ]; then
		echo "init-secrets: the containers run as uid $owner and must be able to read these files:"
		echo "  sudo chown $owner:$owner $dir/ca.pem $dir/ca.key $dir/tls.pem $dir/admin_token.conf"
	fi
fi
