// swift-tools-version:6.0
import PackageDescription

/// Code generation for SAECore's element-wise kernels (Adam, losses, activations): on x86-64
/// they are compiled for AVX2 (`haswell`, every x86-64 CPU since 2013–2015), which runs their
/// eight-lane loops twice as wide as the baseline's SSE. Results do not change: no
/// multiply-add is fused and no sum reordered. `SAED_TARGET_CPU` overrides the CPU (`x86-64`
/// for machines without AVX2).
let kernelSettings: [SwiftSetting] = {
    #if arch(x86_64)
    let cpu = Context.environment["SAED_TARGET_CPU"] ?? "haswell"
    return [.unsafeFlags(["-target-cpu", cpu])]
    #else
    return []
    #endif
}()

let package = Package(
    name: "saed",
    products: [
        .executable(name: "saed", targets: ["saed"]),
    ],
    targets: [
        // MARK: C libraries from the system (Debian -dev packages)
        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),

        // MARK: Libraries
        .target(
            name: "SAECore", dependencies: ["COpenBLAS", "CZlib"], exclude: ["README.md"],
            swiftSettings: kernelSettings),
        .target(name: "HTTPServer", exclude: ["README.md"]),
        .target(name: "SAEService", dependencies: ["SAECore", "HTTPServer", "CZlib", "CSQLite"], exclude: ["README.md"]),

        // MARK: The daemon
        .executableTarget(name: "saed", dependencies: ["SAEService", "SAECore"]),

        // MARK: Tools: fuzzing and benchmarks (print figures; never part of the test run's timing)
        .executableTarget(name: "saed-fuzz-http", dependencies: ["HTTPServer"], path: "Fuzz/HTTPRequestFuzz"),
        .executableTarget(name: "saed-bench", dependencies: ["SAECore"], path: "Benchmarks/TrainBench"),

        // MARK: Tests
        .testTarget(name: "SAECoreTests", dependencies: ["SAECore"], exclude: ["Fixtures"]),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer"], exclude: ["Corpus"]),
        .testTarget(name: "SAEServiceTests", dependencies: ["SAEService", "SAECore", "HTTPServer"]),
    ]
)
