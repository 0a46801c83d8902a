// swift-tools-version:5.9
// The Swift package scripts/ios.sh assembles in build/ios/MentorsyncCore: the
// xcframework as a binary target, the generated Swift as the source target apps import.
import PackageDescription

let package = Package(
    name: "MentorsyncCore",
    platforms: [.iOS(.v15)],
    products: [.library(name: "MentorsyncCore", targets: ["MentorsyncCore"])],
    targets: [
        .binaryTarget(name: "MentorsyncFFI", path: "MentorsyncFFI.xcframework"),
        .target(name: "MentorsyncCore", dependencies: ["MentorsyncFFI"], path: "Sources/MentorsyncCore"),
    ]
)
