// saed-bench: training speed and memory on the full Fashion-MNIST training set.
//
// For each shape (BenchShape.all) it trains a fresh model with the classic recipe for a few
// epochs and prints seconds per epoch, samples per second, peak RSS, the share of the machine's
// sgemm rate the epoch reaches, and the time spent outside the matrix products (see
// GemmTiming.swift for the FLOP count and how that time is measured). A benchmark: it asserts
// nothing about the figures. scripts/bench-train.sh runs it beside the same recipe in PyTorch.
//
// With `--shape NAME` it runs that shape in this process; without, it runs every shape in a
// child process of its own, so that each peak RSS belongs to one shape alone.
import Foundation
import SAECore

/// Runs `arguments` with each shape in a child process (this executable, `--shape NAME`).
func runEveryShape(_ arguments: BenchArguments) throws -> Int32 {
    var failures: Int32 = 0
    for shape in BenchShape.all {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        child.arguments = ["--shape", shape.name] + arguments.forwarded
        try child.run()
        child.waitUntilExit()
        if child.terminationStatus != 0 { failures += 1 }
    }
    return failures == 0 ? 0 : 1
}

func runOneShape(_ shape: BenchShape, arguments: BenchArguments) throws {
    let threads = arguments.threads ?? BLAS.threadCount
    print(
        "saed-bench \(shape.name): hidden \(shape.hiddenSize), batch \(shape.batchSize), "
            + "\(shape.recipe), seed \(arguments.seed), \(arguments.epochs) epochs, "
            + "\(threads) threads")
    let result = try runShape(shape, arguments: arguments)
    result.printReport()
}

do {
    let arguments = try BenchArguments(Array(CommandLine.arguments.dropFirst()))
    if arguments.isListing {
        for shape in BenchShape.all { print(shape.name) }
    } else if let shape = arguments.shape {
        try runOneShape(shape, arguments: arguments)
    } else {
        exit(try runEveryShape(arguments))
    }
} catch let error as BenchArgumentError {
    FileHandle.standardError.write(Data("saed-bench: \(error)\n\(BenchArguments.usage)\n".utf8))
    exit(2)
} catch {
    FileHandle.standardError.write(Data("saed-bench: \(error)\n".utf8))
    exit(1)
}
