#!/usr/bin/env bash
# Builds kustomize (Go module sigs.k8s.io/kustomize/kustomize/v5) into ${SHOP_CACHE:-$HOME/.cache/shop}/bin,
# once, with the Go toolchain (/usr/local/go/bin/go, or `go` on PATH). Prints the path of the binary.
# Used by test/unit/k8s-manifests.test.ts to render deploy/k8s/overlays/*.
set -euo pipefail
VERSION="${KUSTOMIZE_VERSION:-v5.5.0}"
CACHE="$(realpath -m "${SHOP_CACHE:-$HOME/.cache/shop}")"
BIN="$CACHE/kustomize-$VERSION/kustomize"
if [[ ! -x "$BIN" ]]; then
  GO="$(command -v go || echo /usr/local/go/bin/go)"
  [[ -x "$GO" ]] || { echo "Go is needed to build kustomize" >&2; exit 1; }
  echo "building kustomize $VERSION into $(dirname "$BIN")" >&2
  mkdir -p "$(dirname "$BIN")"
  GOBIN="$(dirname "$BIN")" GOFLAGS=-mod=mod "$GO" install "sigs.k8s.io/kustomize/kustomize/v5@$VERSION" >&2
fi
echo "$BIN"
