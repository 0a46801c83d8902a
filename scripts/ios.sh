#!/usr/bin/env bash
# Assembles the Swift package in build/ios/MentorsyncCore on a Mac with Xcode: the static
# library for devices and both simulators, combined into MentorsyncFFI.xcframework with
# the generated C header and module map, plus the generated Swift. Not run in CI (no
# Swift toolchain on these machines); CI generates and checks the same Swift bindings.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v xcodebuild >/dev/null || { echo "needs Xcode (xcodebuild)"; exit 1; }
out=build/ios/MentorsyncCore
rm -rf "$out" build/ios/headers && mkdir -p "$out/Sources/MentorsyncCore" build/ios/headers
targets="aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios"
rustup target add $targets
for t in $targets; do cargo build --release -p mentorsync-ffi --target "$t"; done
mkdir -p build/ios/sim
lipo -create target/aarch64-apple-ios-sim/release/libmentorsync_ffi.a \
  target/x86_64-apple-ios/release/libmentorsync_ffi.a -output build/ios/sim/libmentorsync_ffi.a
# The bindings come from a host build of the same commit (uniffi reads the metadata there).
cargo build --release -p mentorsync-ffi
cargo run -q -p mentorsync-ffi --bin uniffi-bindgen -- generate \
  --library target/release/libmentorsync_ffi.dylib --language swift --out-dir build/ios/gen
cp build/ios/gen/mentorsync_ffiFFI.h build/ios/headers/
cp build/ios/gen/mentorsync_ffiFFI.modulemap build/ios/headers/module.modulemap
cp build/ios/gen/mentorsync_ffi.swift "$out/Sources/MentorsyncCore/"
xcodebuild -create-xcframework \
  -library target/aarch64-apple-ios/release/libmentorsync_ffi.a -headers build/ios/headers \
  -library build/ios/sim/libmentorsync_ffi.a -headers build/ios/headers \
  -output "$out/MentorsyncFFI.xcframework"
cp bindings/ios/Package.swift "$out/"
echo "Swift package ready: $out (add it as a local package in Xcode)"
