# Sourced by the scripts that run built binaries: `target` is cargo's target folder, wherever
# CARGO_TARGET_DIR (or a config file) puts it.
target=$(cargo metadata --format-version 1 --no-deps --locked |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
