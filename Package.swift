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
        // HTTP for the LLM backends only: SPAKBackends is the one target that links it (with
        // the NIO modules its API hands back: errors, buffers, headers).
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
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
        // Ollama and OpenAI-compatible servers answer llm.query: the only target with an HTTP client.
        .target(
            name: "SPAKBackends",
            dependencies: [
                "SPAKKernel",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // Reading recorded runs: `spak trace show` and `spak trace diff`, fork histories.
        .target(name: "SPAKTrace", dependencies: ["SPAKKernel", "SPAKSyntax"]),
        // The outer loop: rewrite rules, the reflective improver program, evaluation and selection.
        .target(
            name: "SPAKImprove",
            dependencies: ["SPAKKernel", "SPAKTrace", "SPAKCheck", "SPAKSyntax", "SPAKDiagnostics"],
            resources: [.embedInCode("Resources/reflect.spak")]
        ),
        // `spak mcp`: the run operations as MCP tools and resources over stdio, for agent clients
        // (the protocol in SPAK's own JSON: see the README's design notes on why not swift-sdk).
        .target(
            name: "SPAKMCP",
            dependencies: ["SPAKKernel", "SPAKTrace", "SPAKCheck", "SPAKDiagnostics"]
        ),
        .target(
            name: "SPAKCommands",
            dependencies: [
                "SPAKKernel", "SPAKBackends", "SPAKTrace", "SPAKImprove", "SPAKMCP", "SPAKCheck", "SPAKSyntax", "SPAKDiagnostics",
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
        .testTarget(name: "SPAKTraceTests", dependencies: ["SPAKTrace", "SPAKKernel", "SPAKTestSupport"]),
        .testTarget(name: "SPAKImproveTests", dependencies: ["SPAKImprove", "SPAKKernel", "SPAKTrace", "SPAKCheck", "SPAKDiagnostics", "SPAKTestSupport"]),
        .testTarget(name: "SPAKMCPTests", dependencies: ["SPAKMCP", "SPAKKernel", "SPAKTestSupport"]),
        .testTarget(
            name: "SPAKBackendsTests",
            dependencies: [
                "SPAKBackends", "SPAKKernel", "SPAKTestSupport",
                // The client's own errors, to name the faults no scripted server can cause.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "SPAKCommandsTests", dependencies: ["SPAKCommands", "SPAKCheck", "SPAKTestSupport"], exclude: ["Snapshots"]),
    ],
    swiftLanguageModes: [.v6]
)
