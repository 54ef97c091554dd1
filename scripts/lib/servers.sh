# Sourced by the scripts that run `evals` servers in the background: a scratch folder `$work`,
# `start LOG CMD...` (sets `url` to the first http:// URL the server announces), and cleanup of
# every started server and the folder on exit.
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

start() {
  local log=$1; shift
  "$@" > "$log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do
    url=$(grep -o 'http://[0-9.:]*' "$log" | head -1 || true)
    [ -n "$url" ] && return
    sleep 0.1
  done
  echo "server did not start: $(cat "$log")" >&2
  exit 1
}
