#!/usr/bin/env bash
# A smoke run of the CLI on a given Node binary (CI runs it on Node 22, the floor, while the tests run
# on Node 24): the demo's ingest and serve (`start`), the API answering, then `query`, `coverage` and
# `verify` over the same archive. Usage: scripts/cli-smoke.sh /path/to/node
set -euo pipefail
cd "$(dirname "$0")/.."
node_bin="$1"
work="$(mktemp -d)"
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
cli() { "$node_bin" bin/eventlog-archive.js "$@"; }
echo "CLI smoke on Node $("$node_bin" --version)"

# Not through cli(): $! must be the node process itself, so that the cleanup stops the server.
"$node_bin" bin/eventlog-archive.js start --archive "$work/data" --port 0 >"$work/start.log" 2>&1 &
pid=$!
for _ in $(seq 1 180); do
  grep -q '^Serving the archive' "$work/start.log" && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/start.log"; echo "start exited early"; exit 1; }
  sleep 1
done
url="$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$work/start.log" | head -1)"
[ -n "$url" ] || { cat "$work/start.log"; echo "start did not print its URL"; exit 1; }
from="$("$node_bin" -e 'console.log(new Date(Date.now() - 7 * 864e5).toISOString())')"
to="$("$node_bin" -e 'console.log(new Date().toISOString())')"
URL="$url" FROM="$from" TO="$to" "$node_bin" --input-type=module -e '
  const res = await fetch(`${process.env.URL}/v1/spaces/demo-space/eventLogs`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ startTime: process.env.FROM, endTime: process.env.TO, maxResults: 5 }),
  });
  const body = await res.json();
  if (res.status !== 200 || !Array.isArray(body.items) || body.items.length === 0)
    throw new Error(`ListEventLogs answered ${res.status}: ${JSON.stringify(body).slice(0, 300)}`);
  console.log(`serve: ListEventLogs answered ${body.items.length} events`);
'
kill "$pid"
wait "$pid" 2>/dev/null || true
pid=""

cli query --space demo-space --from "$from" --archive "$work/data" --limit 5 --format json >"$work/query.json"
"$node_bin" -e 'const e = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); if (e.length !== 5) throw new Error(`query gave ${e.length} events`); console.log("query: 5 events")' "$work/query.json"
cli coverage --archive "$work/data" --json >/dev/null && echo "coverage: ok"
cli verify --archive "$work/data" >"$work/verify.log" && echo "verify: ok" || { cat "$work/verify.log"; exit 1; }
echo "CLI smoke passed"
