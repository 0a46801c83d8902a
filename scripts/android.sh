#!/usr/bin/env bash
# Assembles the Android Gradle module in build/android/mentorsync: libmentorsync_ffi.so
# for every ABI (cargo-ndk, Android NDK r26+), the generated Kotlin, the module's build
# file. Not run in CI (no NDK on these machines); the Kotlin it packages is the one
# bindings/tests/kotlin compiles and runs against a real server.
#   scripts/android.sh            release build of arm64-v8a, armeabi-v7a, x86_64
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo-ndk >/dev/null || { echo "needs cargo-ndk (cargo install cargo-ndk) and ANDROID_NDK_HOME"; exit 1; }
module=build/android/mentorsync
rm -rf "$module" && mkdir -p "$module/src/main/java" "$module/src/main/jniLibs"
rustup target add aarch64-linux-android armv7-linux-androideabi x86_64-linux-android
cargo ndk -t arm64-v8a -t armeabi-v7a -t x86_64 -o "$module/src/main/jniLibs" build --release -p mentorsync-ffi
# The bindings come from a host build of the same commit (uniffi reads the metadata there).
cargo build --release -p mentorsync-ffi
cargo run -q -p mentorsync-ffi --bin uniffi-bindgen -- generate \
  --library target/release/libmentorsync_ffi.so --language kotlin --out-dir "$module/src/main/java"
cp bindings/android/build.gradle.kts bindings/android/consumer-rules.pro "$module/"
echo "Gradle module ready: $module (include(\":mentorsync\") in the app's settings.gradle.kts)"
