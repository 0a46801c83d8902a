#!/usr/bin/env bash
# Builds mentorsync-ffi once and generates its Kotlin, Swift and Python bindings into
# build/bindings/<language>/ (generated code is never committed).
#   scripts/bindings.sh         generate
#   scripts/bindings.sh test    generate, then run the Python and Kotlin binding tests
#                               against a real mentorsync-server process
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/bindings

cargo build -q -p mentorsync-ffi -p mentorsync-server
target=${CARGO_TARGET_DIR:-target}
lib=$target/debug/libmentorsync_ffi.so
[ -f "$lib" ] || lib=$target/debug/libmentorsync_ffi.dylib
rm -rf "$out"
for lang in kotlin swift python; do
  cargo run -q -p mentorsync-ffi --bin uniffi-bindgen -- generate --library "$lib" --language "$lang" --out-dir "$out/$lang" --no-format
done
cp "$lib" "$out/python/"
echo "generated: $(find "$out" -type f | sort | tr '\n' ' ')"

for f in swift/mentorsync_ffi.swift swift/mentorsync_ffiFFI.h swift/mentorsync_ffiFFI.modulemap; do
  [ -s "$out/$f" ] || { echo "Swift binding $f was not generated"; exit 1; }
done
echo "Swift bindings generated (no Swift compiler on these machines; see docs/mobile.md)"
# The Android and iOS packaging scripts need an NDK or Xcode; here they are parsed only.
bash -n scripts/android.sh && bash -n scripts/ios.sh

[ "${1:-}" = "test" ] || exit 0
export MENTORSYNC_SERVER_BIN="$(cd "$target/debug" && pwd)/mentorsync-server"
export MENTORSYNC_FFI_LIB="$(cd "$(dirname "$lib")" && pwd)/$(basename "$lib")"

echo "== Python binding tests"
if python3 -c 'import pytest' 2>/dev/null; then
  PYTHONPATH="$out/python" python3 -m pytest -q bindings/tests/python
else
  echo "SKIPPED: Python binding tests need pytest (pip install pytest)"
fi

echo "== Kotlin binding tests"
kotlinc=$(command -v kotlinc-jvm || command -v kotlinc || true)
tools=build/tools/node_modules/kotlin-compiler/bin/kotlinc-jvm
[ -z "$kotlinc" ] && [ -x "$tools" ] && kotlinc=$tools
jna=$(ls /usr/share/java/jna.jar 2>/dev/null || true)
if [ -n "$kotlinc" ] && [ -n "$jna" ] && command -v java >/dev/null; then
  bash bindings/tests/kotlin/run.sh "$kotlinc" "$jna" "$out/kotlin"
else
  echo "SKIPPED: Kotlin binding tests need kotlinc-jvm (npm: kotlin-compiler), JNA (Debian: libjna-java) and a JDK"
fi
