#!/usr/bin/env bash
# Installs schemathesis (the OpenAPI fuzzer the contract tests run, test/contract/) into its own
# virtualenv under ${SHOP_CACHE:-$HOME/.cache/shop}, once. Prints the path of its `st` command.
set -euo pipefail
VERSION="${SCHEMATHESIS_VERSION:-4.32.5}"
CACHE="$(realpath -m "${SHOP_CACHE:-$HOME/.cache/shop}")"
VENV="$CACHE/schemathesis-$VERSION"
if [[ ! -x "$VENV/bin/st" ]]; then
  command -v python3 >/dev/null || { echo "python3 is needed for schemathesis" >&2; exit 1; }
  echo "installing schemathesis $VERSION into $VENV" >&2
  rm -rf "$VENV"
  python3 -m venv "$VENV" >&2
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$VERSION" >&2
fi
echo "$VENV/bin/st"
