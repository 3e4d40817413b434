/// The benchmark's command line.
///
///     saed-bench [--shape NAME] [--epochs N] [--threads N] [--seed N] [--data FILE]
///                [--train-only]
///     saed-bench --list
///
/// Without `--shape`, every shape runs, each in a child process of its own so that peak RSS
/// figures do not mix.
struct BenchArguments: Sendable {
    /// The shape to run in this process, or nil to run them all in child processes.
    var shape: BenchShape?
    /// Epochs per shape; the first is a warm-up, the median of the rest is reported.
    var epochs = 3
    /// Threads (``BLAS/threadCount``), or nil to keep the default (`OPENBLAS_NUM_THREADS`, else
    /// one per core).
    var threads: Int?
    var seed: UInt64 = 1
    /// The gzip IDX file of training images.
    var dataPath = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"
    /// Print the shape names and exit.
    var isListing = false
    /// Skip the sgemm rate and the replayed products, so that a profiler sees training alone.
    var isTrainingOnly = false

    /// The arguments that a child process running one shape should get, besides `--shape`.
    var forwarded: [String] {
        var arguments = ["--epochs", String(epochs), "--seed", String(seed), "--data", dataPath]
        if let threads { arguments += ["--threads", String(threads)] }
        if isTrainingOnly { arguments.append("--train-only") }
        return arguments
    }

    static let usage = """
        usage: saed-bench [--shape NAME] [--epochs N] [--threads N] [--seed N] [--data FILE]
                          [--train-only]
               saed-bench --list
        """

    /// Parses `arguments` (without the program name).
    ///
    /// - Throws: ``BenchArgumentError`` naming the argument at fault.
    init(_ arguments: [String]) throws {
        var rest = arguments[...]
        while let flag = rest.popFirst() {
            switch flag {
            case "--list":
                isListing = true
                continue
            case "--train-only":
                isTrainingOnly = true
                continue
            default:
                break
            }
            guard let value = rest.popFirst() else {
                throw BenchArgumentError(message: "\(flag) needs a value")
            }
            switch flag {
            case "--shape":
                guard let shape = BenchShape.named(value) else {
                    let names = BenchShape.all.map(\.name).joined(separator: ", ")
                    throw BenchArgumentError(message: "unknown shape \(value); one of \(names)")
                }
                self.shape = shape
            case "--epochs": epochs = try Self.positive(value, for: flag)
            case "--threads": threads = try Self.positive(value, for: flag)
            case "--seed":
                guard let seed = UInt64(value) else {
                    throw BenchArgumentError(message: "--seed needs an unsigned integer")
                }
                self.seed = seed
            case "--data": dataPath = value
            default: throw BenchArgumentError(message: "unknown argument \(flag)")
            }
        }
    }

    private static func positive(_ value: String, for flag: String) throws -> Int {
        guard let number = Int(value), number > 0 else {
            throw BenchArgumentError(message: "\(flag) needs a positive integer, got \(value)")
        }
        return number
    }
}

/// A command line the benchmark cannot run.
struct BenchArgumentError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
