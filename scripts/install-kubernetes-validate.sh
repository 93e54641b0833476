#!/usr/bin/env bash
# Installs kubernetes-validate (validates manifests against the Kubernetes JSON schemas it bundles,
# so it works offline) into its own virtualenv under ${SHOP_CACHE:-$HOME/.cache/shop}, once.
# Prints the path of its `kubernetes-validate` command. Used by test/unit/k8s-manifests.test.ts.
set -euo pipefail
VERSION="${KUBERNETES_VALIDATE_VERSION:-1.37.0}"
CACHE="$(realpath -m "${SHOP_CACHE:-$HOME/.cache/shop}")"
VENV="$CACHE/kubernetes-validate-$VERSION"
if [[ ! -x "$VENV/bin/kubernetes-validate" ]]; then
  command -v python3 >/dev/null || { echo "python3 is needed for kubernetes-validate" >&2; exit 1; }
  echo "installing kubernetes-validate $VERSION into $VENV" >&2
  rm -rf "$VENV"
  python3 -m venv "$VENV" >&2
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "kubernetes-validate==$VERSION" >&2
fi
echo "$VENV/bin/kubernetes-validate"
