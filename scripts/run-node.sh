#!/bin/sh
# `npm run node`: one node of the shop (SERVICES, NODE_ID, TRANSPORTER, ... from the environment).
# With NODE_ENV=production it runs the compiled code (dist/, made by `npm run build`) with plain
# node; otherwise the TypeScript sources through tsx.
set -e
cd "$(dirname "$0")/.."
if [ "${NODE_ENV:-}" = "production" ]; then
	if [ ! -f dist/scripts/start.js ]; then
		echo "dist/ is missing: run 'npm run build' first" >&2
		exit 1
	fi
	exec node dist/scripts/start.js "$@"
fi
exec npx tsx scripts/start.ts "$@"
