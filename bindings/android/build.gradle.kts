// The Gradle module scripts/android.sh assembles in build/android/mentorsync: the
// generated Kotlin in src/main/java, the library per ABI in src/main/jniLibs. An app adds
// it with `include(":mentorsync")` and `implementation(project(":mentorsync"))`.
plugins {
    id("com.android.library")
    id("org.jetbrains.kotlin.android")
}

android {
    namespace = "dev.mentorsync.core"
    compileSdk = 35
    defaultConfig {
        minSdk = 26 // java.time.Instant, which the bindings' timestamps are
        consumerProguardFiles("consumer-rules.pro")
    }
    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
}

kotlin { jvmToolchain(17) }

dependencies {
    implementation("net.java.dev.jna:jna:5.14.0@aar")
    implementation("org.jetbrains.kotlinx:kotlinx-coroutines-core:1.9.0")
}
