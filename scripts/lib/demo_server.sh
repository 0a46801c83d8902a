# Sourced by the API test scripts: starts a fresh SQLite server with a small demo chapter on
# a free loopback port, sets `base`, and stops it (and removes its files) on exit.
cargo build -q -p mentorsync-server --locked
dir="$(mktemp -d)"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
DATABASE_URL="sqlite://$dir/demo.db" target/debug/mentorsync-server serve \
  --seed-demo --mentors 20 --mentees-per-mentor 3 --coordinators 2 --cohorts 2 \
  --bind "127.0.0.1:$port" --scheduler-tick-seconds 0 >"$dir/server.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 1 100); do
  curl -fsS "$base/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "$base/healthz" >/dev/null || { cat "$dir/server.log"; exit 1; }
