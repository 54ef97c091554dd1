# Sourced by the scripts that run Node clients: `npm_install SRC DIR FILE...` copies SRC's
# package.json and package-lock.json and the FILEs into DIR, and runs `npm ci` there only when the
# lock changed since the last install.
npm_install() {
  local src=$1 dir=$2
  shift 2
  mkdir -p "$dir"
  cp "$src/package.json" "$src/package-lock.json" "$@" "$dir/"
  if ! cmp -s "$dir/package-lock.json" "$dir/.installed-lock.json"; then
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$dir/package-lock.json" "$dir/.installed-lock.json"
  fi
}
