import Foundation

/// A job body the dashboard offers to submit as it is or after editing.
struct ExampleJob: Encodable, Sendable, Equatable {
    /// A short name, the file's name without `.json` for examples read from disk.
    var name: String
    /// Where it comes from: `config/jobs/NAME.json` or `built-in`.
    var source: String
    /// The job body, exactly as `POST /v1/jobs` takes it.
    var job: JSONValue
    /// The same body as written in its file, field order and layout kept, for editing.
    var text: String
}

/// The example jobs: every `*.json` file of the examples directory (`config/jobs` under the
/// directory saed starts in), then the built-in ones whose names no file took.
///
/// The built-in examples train in seconds to a few minutes on two cores, so the dashboard
/// has something to offer even when saed runs away from its source tree.
enum ExampleJobs {
    /// The built-in examples, as JSON text; each one passes `JobSpec.parse`.
    static let builtIn: [(name: String, body: String)] = [
        ("quick-demo", """
            {
              "name": "quick-demo",
              "dataset": {"name": "fashion-mnist", "split": "train", "limit": 2000},
              "validation": {"name": "fashion-mnist", "split": "test", "limit": 500},
              "model": {"hidden_size": 64},
              "sparsity": {"kind": "l1", "beta": 0.0003, "reduction": "mean"},
              "epochs": 4,
              "batch_size": 64,
              "seed": 1
            }
            """),
        ("topk-32", """
            {
              "name": "topk-32",
              "dataset": {"name": "fashion-mnist", "split": "train", "limit": 10000},
              "validation": {"name": "fashion-mnist", "split": "test", "limit": 2000},
              "model": {"hidden_size": 256, "activation": "relu", "decoder_activation": "sigmoid"},
              "sparsity": {"kind": "topk", "k": 32},
              "epochs": 5,
              "batch_size": 64,
              "seed": 1
            }
            """),
        ("kl-sigmoid", """
            {
              "name": "kl-sigmoid",
              "dataset": {"name": "fashion-mnist", "split": "train", "limit": 10000},
              "validation": {"name": "fashion-mnist", "split": "test", "limit": 2000},
              "model": {"hidden_size": 128, "activation": "sigmoid", "decoder_activation": "sigmoid"},
              "reconstruction": "bce",
              "sparsity": {"kind": "kl", "beta": 0.1, "rho": 0.05},
              "epochs": 5,
              "batch_size": 64,
              "seed": 1
            }
            """),
    ]

    /// The examples found in `directory` followed by the built-in ones, and the files skipped
    /// (unreadable, not a JSON object, or not a valid job) with the reason.
    static func load(from directory: URL) -> (examples: [ExampleJob], skipped: [(file: String, reason: String)]) {
        var examples: [ExampleJob] = []
        var skipped: [(file: String, reason: String)] = []
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        for file in files.sorted() where file.hasSuffix(".json") && !file.hasPrefix(".") {
            do {
                let bytes = try [UInt8](Data(contentsOf: directory.appendingPathComponent(file)))
                let job = try JSONValue.parse(bytes)
                _ = try JobSpec.parse(job)
                let name = String(file.dropLast(".json".count))
                let text = String(decoding: bytes, as: UTF8.self)
                examples.append(ExampleJob(name: name, source: "config/jobs/\(file)", job: job, text: text))
            } catch let error as ServiceError {
                skipped.append((file, error.message))
            } catch {
                skipped.append((file, error.localizedDescription))
            }
        }
        let taken = Set(examples.map(\.name))
        for (name, body) in builtIn where !taken.contains(name) {
            // The literals above are fixed and checked by a test; a bad one is skipped, not fatal.
            guard let job = try? JSONValue.parse(Array(body.utf8)) else { continue }
            examples.append(ExampleJob(name: name, source: "built-in", job: job, text: body + "\n"))
        }
        return (examples, skipped)
    }
}
