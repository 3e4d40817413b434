// swift-tools-version:6.0
import PackageDescription

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
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),

        // MARK: Libraries
        .target(name: "SAECore", dependencies: ["COpenBLAS", "CZlib"]),
        .target(name: "HTTPServer"),
        .target(name: "SAEService", dependencies: ["SAECore", "HTTPServer"]),

        // MARK: The daemon
        .executableTarget(name: "saed", dependencies: ["SAEService", "SAECore"]),

        // MARK: Tests
        .testTarget(name: "SAECoreTests", dependencies: ["SAECore"]),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer"]),
        .testTarget(name: "SAEServiceTests", dependencies: ["SAEService", "SAECore", "HTTPServer"]),
    ]
)
