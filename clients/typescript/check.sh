#!/usr/bin/env bash
# The TypeScript client holds the schema to the contract: regenerate openapi.yaml from the code
# and fail when it differs from the committed one (a pull request shows what changed for
# clients), then generate the types with openapi-typescript and compile the client under
# `tsc --strict`. Needs Node + npm and the project's .venv (scripts/bootstrap.sh).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

generated="$(mktemp)"
trap 'rm -f "$generated"' EXIT
APP_ENV=test .venv/bin/python manage.py spectacular --validate --fail-on-warn --file "$generated"
if ! diff -u "$here/openapi.yaml" "$generated"; then
  echo "clients/typescript/openapi.yaml is stale: regenerate it with" >&2
  echo "  APP_ENV=test .venv/bin/python manage.py spectacular --file clients/typescript/openapi.yaml" >&2
  exit 1
fi

cd "$here"
[ -d node_modules ] || npm ci --no-audit --no-fund
npx openapi-typescript openapi.yaml --output src/schema.d.ts
npx tsc --noEmit --strict -p .
echo "TypeScript client: OK"
