#!/bin/sh
# Validates the compose files offline (no Docker engine needed) with Debian's
# docker-compose (v1): `config -q` on docker/compose.yml alone and with
# docker/compose.sentinel.yml, then checks that they name only services that exist:
#   * a service built from docker/Dockerfile is one of ours: services/<name>/main.c exists,
#     the Makefile builds mdm-<name>, the Dockerfile has a `<name>` target running
#     mdm-<name>, and compose builds that target into an image mdm-<name>:<tag>;
#   * every services/<name>/ is in compose.yml, every Dockerfile service target is in it;
#   * anything else is Redis infrastructure (a redis:* image);
#   * only the gateway publishes ports and no service has a container_name, so
#     `--scale pki=4 --scale syncml=2` works; every service has a health check and a
#     restart policy.
# Exit 0 valid, 1 invalid, 77 docker-compose is not installed (scripts/deps.sh installs it).
set -eu
cd "$(dirname "$0")/.."
if ! command -v docker-compose >/dev/null 2>&1; then
	echo "check-compose: docker-compose is not installed (apt-get install docker-compose)" >&2
	exit 77
fi
# a clean environment: the file's own defaults are checked, not the caller's settings
dc() { env -u MDM_REDIS_URL -u MDM_PUBLIC_URL -u MDM_IMAGE_TAG docker-compose --project-directory docker "$@"; }
rc=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for set in "docker/compose.yml" "docker/compose.yml docker/compose.sentinel.yml"; do
	args=""
	for f in $set; do args="$args -f $f"; done
	# shellcheck disable=SC2086
	if ! dc $args config -q 2>"$tmp/err"; then
		echo "check-compose: $set: invalid:"; cat "$tmp/err"; rc=1; continue
	fi
	# shellcheck disable=SC2086
	dc $args config >"$tmp/resolved.yml" 2>"$tmp/err" || { cat "$tmp/err"; rc=1; continue; }
	python3 - "$tmp/resolved.yml" "$set" <<'PY' || rc=1
import os, re, sys, yaml
resolved, files = sys.argv[1], sys.argv[2]
cfg = yaml.safe_load(open(resolved))
services = cfg.get("services") or {}
dockerfile = open("docker/Dockerfile").read()
makefile = open("Makefile").read()
m = re.search(r"^SERVICES\s*:=\s*(.*)$", makefile, re.M)
built = set(m.group(1).split()) if m else set()
ours_dirs = {d for d in os.listdir("services") if os.path.isfile(f"services/{d}/main.c")}
targets = set(re.findall(r"^FROM\s+runtime\s+AS\s+(\S+)", dockerfile, re.M | re.I))
errors = []
ours = set()
for name, s in services.items():
    b = s.get("build")
    image = str(s.get("image", ""))
    if b is not None:
        ours.add(name)
        if not os.path.isfile(f"services/{name}/main.c"):
            errors.append(f"{name}: built from docker/Dockerfile but services/{name}/ does not exist")
        if name not in built:
            errors.append(f"{name}: the Makefile does not build mdm-{name} (SERVICES)")
        if b.get("target") != name:
            errors.append(f"{name}: build target is {b.get('target')!r}, expected {name!r}")
        if not str(b.get("dockerfile", "")).endswith("docker/Dockerfile"):
            errors.append(f"{name}: built from {b.get('dockerfile')!r}, not docker/Dockerfile")
        if name not in targets:
            errors.append(f"{name}: docker/Dockerfile has no 'FROM runtime AS {name}' target")
        else:
            stage = dockerfile.split(f"AS {name}\n", 1)[1].split("\nFROM ", 1)[0]
            if f'ENTRYPOINT ["mdm-{name}"]' not in stage or f"build/bin/mdm-{name} " not in stage:
                errors.append(f"{name}: the Dockerfile target does not copy and run mdm-{name}")
        if not image.startswith(f"mdm-{name}:"):
            errors.append(f"{name}: image {image!r} should be mdm-{name}:<tag>")
    elif not image.startswith("redis:"):
        errors.append(f"{name}: neither one of our services (no build) nor Redis (image {image!r})")
    if s.get("container_name"):
        errors.append(f"{name}: container_name prevents --scale")
    if s.get("ports") and name != "gateway":
        errors.append(f"{name}: only the gateway publishes ports (scaling)")
    if not s.get("healthcheck"):
        errors.append(f"{name}: no health check")
    if s.get("restart") not in ("always", "unless-stopped", "on-failure"):
        errors.append(f"{name}: no restart policy")
for d in sorted(ours_dirs - ours):
    errors.append(f"services/{d}/ is not a service in {files}")
for t in sorted(targets - ours):
    errors.append(f"docker/Dockerfile target {t} is not a service in {files}")
for name in ("pki", "syncml"):
    env = (services.get(name) or {}).get("environment") or {}
    if "tcp://gateway:" not in str(env.get("MDM_BUS_URL", "")):
        errors.append(f"{name}: MDM_BUS_URL must name the gateway service (tcp://gateway:5560)")
for e in errors:
    print(f"check-compose: {files}: {e}")
print(f"check-compose: {files}: {len(services)} services ({', '.join(sorted(ours))} ours), "
      f"{'OK' if not errors else str(len(errors)) + ' problem(s)'}")
sys.exit(1 if errors else 0)
PY
done
exit $rc
