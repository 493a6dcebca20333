#!/bin/sh
# Issues the development TLS server certificate (once) from the data directory's CA, which
# `mdm-pki --init` created: one dev root then covers the HTTPS listeners and the device
# certificates (it is the Root/System entry of every provisioning document).
# Usage: dev-certs.sh DATA_DIR [extra DNS names...]
set -eu
data=$1; shift
ca="$data/ca/ca.pem"; cakey="$data/ca/ca.key"
out="$data/tls/server.pem"
[ -f "$out" ] && exit 0
mkdir -p "$data/tls"; chmod 700 "$data/tls"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
san="DNS:localhost,IP:127.0.0.1,IP:::1,DNS:$(hostname)"
for n in "$@"; do san="$san,DNS:$n"; done
cat >"$tmp/ext" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=$san
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
EXT
openssl ecparam -name prime256v1 -genkey -noout -out "$tmp/key.pem" 2>/dev/null
openssl req -new -key "$tmp/key.pem" -subj "/CN=localhost" -out "$tmp/req.pem"
openssl x509 -req -in "$tmp/req.pem" -CA "$ca" -CAkey "$cakey" -CAcreateserial \
	-CAserial "$tmp/serial" -days 825 -sha256 -extfile "$tmp/ext" -out "$tmp/cert.pem" 2>/dev/null
umask 077
cat "$tmp/cert.pem" "$tmp/key.pem" >"$out.tmp" && mv "$out.tmp" "$out"
