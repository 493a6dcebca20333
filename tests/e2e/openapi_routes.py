#!/usr/bin/env python3
"""openapi_routes.py -- checks that docs/openapi.yaml describes every route the gateway
routes (s_routes[] in services/gateway/gw_routes.c, with its methods) and every route of the
registry's admin API table (s_routes[] in services/registry/reg_api.c), and that it
describes no admin API route the registry does not serve. Reads the C tables as text (no
build needed) and the YAML with a small reader of our own layout (PyYAML is not required;
when it and openapi-spec-validator are installed the document is validated too).
Usage: openapi_routes.py REPO_ROOT. Prints what is missing; exit 1 if anything is."""
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else "."
problems = []


def table(path, name="s_routes"):
    """The initializer text of `static const ... s_routes[] = { ... };` without comments."""
    src = open(f"{root}/{path}").read()
    # comments out, string literals kept ("/api/v1/devices/*/commands" holds "*/")
    src = re.sub(r'("(?:\\.|[^"\\\n])*")|/\*.*?\*/', lambda m: m.group(1) or " ", src, flags=re.S)
    m = re.search(name + r"\[\]\s*=\s*\{(.*?)\n\};", src, flags=re.S)
    if not m:
        problems.append(f"{path}: no {name}[] table found")
        return ""
    return m.group(1)


# gateway: {"/path", prefix, listeners, methods, "service", "command", kind}
gw = []
for m in re.finditer(r'\{\s*"([^"]+)"\s*,\s*(\d)\s*,\s*([^,]+),\s*([^,]+),\s*"([^"]+)"\s*,\s*"([^"]+)"',
                     table("services/gateway/gw_routes.c")):
    methods = sorted(x.lower() for x in re.findall(r"GW_M_([A-Z]+)", m.group(4)))
    gw.append((m.group(1), m.group(2) == "1", methods))
if not gw:
    problems.append("services/gateway/gw_routes.c: no routes parsed")

# registry: {"METHOD", "/api/v1/...", REG_ROLE_X, action, handler}
reg = [(m.group(1).lower(), m.group(2))
       for m in re.finditer(r'\{\s*"([A-Z]+)"\s*,\s*"(/api/v1/[^"]*)"\s*,\s*REG_ROLE_',
                            table("services/registry/reg_api.c"))]
if len(reg) < 10:
    problems.append(f"services/registry/reg_api.c: only {len(reg)} routes parsed")

# openapi: paths at two spaces under `paths:`, operations at four
spec = {}
in_paths = False
cur = None
for line in open(f"{root}/docs/openapi.yaml"):
    if re.match(r"^\S", line):
        in_paths = line.startswith("paths:")
        continue
    if not in_paths:
        continue
    m = re.match(r"^  (/[^:\s]*):\s*$", line)
    if m:
        cur = m.group(1)
        spec[cur] = set()
        continue
    m = re.match(r"^    (get|put|post|delete|patch|head|options):", line)
    if m and cur:
        spec[cur].add(m.group(1))
if not spec:
    problems.append("docs/openapi.yaml: no paths found")


def same(pattern_segs, path):
    segs = path.strip("/").split("/")
    return len(segs) == len(pattern_segs) and all(
        p == "*" and re.fullmatch(r"\{[^}]+\}", s) or p == s for p, s in zip(pattern_segs, segs))


for path, prefix, methods in gw:
    if prefix:
        if not any(p.startswith(path) for p in spec):
            problems.append(f"gateway prefix route {path}: no path under it in openapi.yaml")
        continue
    if path not in spec:
        problems.append(f"gateway route {path}: not in openapi.yaml")
        continue
    for meth in methods:
        if meth not in spec[path]:
            problems.append(f"gateway route {meth.upper()} {path}: method not in openapi.yaml")

for meth, path in reg:
    segs = path.strip("/").split("/")
    hits = [p for p in spec if same(segs, p)]
    if not hits:
        problems.append(f"registry route {meth.upper()} {path}: path not in openapi.yaml")
    elif not any(meth in spec[p] for p in hits):
        problems.append(f"registry route {meth.upper()} {path}: method not in openapi.yaml")

for p, ops in spec.items():
    if not p.startswith("/api/v1/"):
        continue
    for meth in ops:
        if not any(m == meth and same(r.strip("/").split("/"), p) for m, r in reg):
            problems.append(f"openapi.yaml {meth.upper()} {p}: the registry serves no such route")

try:
    import yaml
    from openapi_spec_validator import validate
    validate(yaml.safe_load(open(f"{root}/docs/openapi.yaml")))
    print("openapi.yaml: valid OpenAPI 3.0")
except ImportError:
    print("openapi.yaml: validator not installed, structure not validated")
except Exception as e:  # the validator's own error types
    problems.append(f"docs/openapi.yaml is not valid OpenAPI: {str(e)[:300]}")

print(f"{len(gw)} gateway routes, {len(reg)} registry routes, {len(spec)} documented paths")
for p in problems:
    print("MISSING: " + p)
sys.exit(1 if problems else 0)
