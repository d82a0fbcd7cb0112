// swift-tools-version:6.0
import PackageDescription

/// SPAK: a deterministic agent kernel. Targets follow the data: diagnostics → syntax → check → commands.
let package = Package(
    name: "spak",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "spak", targets: ["spak"]),
        .library(name: "SPAKSyntax", targets: ["SPAKSyntax"]),
        .library(name: "SPAKCheck", targets: ["SPAKCheck"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        .target(name: "SPAKDiagnostics"),
        .target(name: "SPAKSyntax", dependencies: ["SPAKDiagnostics"]),
        .target(
            name: "SPAKCheck",
            dependencies: ["SPAKSyntax", "SPAKDiagnostics", .product(name: "Mustache", package: "swift-mustache")]
        ),
        // fork/exec of tool.run commands: the steps between fork and exec must be plain C.
        .target(name: "CSPAKSpawn"),
        .target(
            name: "SPAKKernel",
            dependencies: [
                "SPAKCheck", "SPAKSyntax", "SPAKDiagnostics", "CSPAKSpawn",
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "SPAKCommands",
            dependencies: [
                "SPAKKernel", "SPAKCheck", "SPAKSyntax", "SPAKDiagnostics",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "spak", dependencies: ["SPAKCommands"]),
        // Shared by the test targets only: repository paths, captured output, scratch folders.
        .target(name: "SPAKTestSupport", dependencies: ["SPAKCommands"], path: "Tests/SPAKTestSupport"),
        .testTarget(name: "SPAKDiagnosticsTests", dependencies: ["SPAKDiagnostics", "SPAKTestSupport"]),
        .testTarget(name: "SPAKSyntaxTests", dependencies: ["SPAKSyntax", "SPAKTestSupport"]),
        .testTarget(name: "SPAKCheckTests", dependencies: ["SPAKCheck", "SPAKTestSupport"]),
        .testTarget(name: "SPAKKernelTests", dependencies: ["SPAKKernel", "SPAKTestSupport"]),
        .testTarget(
            name: "SPAKCommandsTests", dependencies: ["SPAKCommands", "SPAKCheck", "SPAKTestSupport"], exclude: ["Snapshots"]),
    ],
    swiftLanguageModes: [.v6]
)
