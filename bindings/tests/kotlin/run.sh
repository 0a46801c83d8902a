#!/usr/bin/env bash
# Compiles the generated Kotlin bindings with the day tests and runs them.
#   run.sh <kotlinc-jvm> <jna.jar> <generated kotlin dir>
set -euo pipefail
kotlinc=$1 jna=$2 generated=$3
here=$(cd "$(dirname "$0")" && pwd)
lib=$(dirname "$(dirname "$(readlink -f "$kotlinc")")")/lib
coroutines=$(find "$lib" -name 'kotlinx-coroutines-core-jvm*.jar' | head -n1)
stdlib=$lib/kotlin-stdlib.jar
[ -n "$coroutines" ] || { echo "kotlinx-coroutines-core-jvm.jar not found next to $kotlinc"; exit 1; }
out=$(mktemp -d)
"$kotlinc" -nowarn -cp "$jna:$coroutines" -d "$out/test.jar" "$generated"/uniffi/mentorsync_ffi/*.kt "$here"/*.kt
java -Djna.library.path="$(dirname "$MENTORSYNC_FFI_LIB")" -cp "$out/test.jar:$jna:$coroutines:$stdlib" SupportKt
