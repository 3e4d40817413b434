import Foundation
import SAECore
import Synchronization

/// The daemon's counters and histograms, rendered for `GET /metrics` in the Prometheus text
/// exposition format 0.0.4.
///
/// Events are pushed in as they happen (requests by the routes' gate, epochs by the job
/// manager, model rows by the model routes); figures that are a state rather than a history
/// (jobs by state, queue depth, stored models) are read at scrape time and passed to `render`.
/// Thread-safe: every figure lives in `state`, behind one mutex held only to update or copy.
package final class Metrics: Sendable {
    /// Upper bounds of the request-duration buckets, in seconds.
    static let requestBuckets: [Double] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
    /// Upper bounds of the epoch-duration buckets, in seconds.
    static let epochBuckets: [Double] = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800]

    private struct RequestKey: Hashable, Comparable {
        var method: String
        var route: String
        var status: Int

        static func < (lhs: RequestKey, rhs: RequestKey) -> Bool {
            (lhs.route, lhs.method, lhs.status) < (rhs.route, rhs.method, rhs.status)
        }
    }

    private struct State {
        var requests: [RequestKey: Int] = [:]
        var requestSeconds: [String: Histogram] = [:]
        var epochSeconds = Histogram(bounds: Metrics.epochBuckets)
        var trainingSamples = 0
        var modelRows: [String: Int] = [:]
    }

    /// Guards every figure above.
    private let state = Mutex(State())

    package init() {}

    /// Counts one answered request under its route pattern (`/v1/jobs/:id`, never the raw
    /// path, so the label set stays small) and records how long the handler took.
    package func observeRequest(method: String, route: String, status: Int, seconds: Double) {
        state.withLock { state in
            state.requests[RequestKey(method: method, route: route, status: status), default: 0] += 1
            state.requestSeconds[route, default: Histogram(bounds: Self.requestBuckets)].observe(seconds)
        }
    }

    /// Records one finished training epoch: its wall time and the samples it trained on.
    package func observeEpoch(seconds: Double, samples: Int) {
        state.withLock { state in
            state.epochSeconds.observe(seconds)
            state.trainingSamples += max(samples, 0)
        }
    }

    /// Records one finished training epoch from its record: `seconds`, and the training
    /// samples `samplesPerSecond × seconds` (exact up to rounding, as the trainer derives the
    /// rate from the count).
    package func observeEpoch(_ record: EpochRecord) {
        observeEpoch(seconds: record.seconds, samples: Int((record.samplesPerSecond * record.seconds).rounded()))
    }

    /// Counts rows a model encoded, reconstructed or decoded (`operation` is one of those verbs).
    package func observeRows(_ count: Int, operation: String) {
        state.withLock { $0.modelRows[operation, default: 0] += count }
    }

    /// The figures read at scrape time.
    package struct Snapshot {
        package var jobsByState: [(state: String, count: Int)]
        package var queueDepth: Int
        package var models: Int
        package var datasets: Int
        package var isReady: Bool
    }

    /// The whole exposition text, families in a fixed order, each with `# HELP` and `# TYPE`.
    package func render(_ snapshot: Snapshot) -> String {
        let state = state.withLock { $0 }
        var text = PrometheusText()

        text.family("saed_ready", "gauge", "1 when /readyz would answer 200.")
        text.sample("saed_ready", value: snapshot.isReady ? 1 : 0)
        text.family("saed_jobs", "gauge", "Jobs known to the daemon, by state.")
        for (name, count) in snapshot.jobsByState {
            text.sample("saed_jobs", ["state": name], value: Double(count))
        }
        text.family("saed_job_queue_depth", "gauge", "Jobs waiting for a trainer.")
        text.sample("saed_job_queue_depth", value: Double(snapshot.queueDepth))
        text.family("saed_models", "gauge", "Saved models.")
        text.sample("saed_models", value: Double(snapshot.models))
        text.family("saed_datasets", "gauge", "Uploaded datasets.")
        text.sample("saed_datasets", value: Double(snapshot.datasets))

        text.family("saed_epoch_duration_seconds", "histogram", "Wall time of each training epoch.")
        text.histogram("saed_epoch_duration_seconds", state.epochSeconds)
        text.family("saed_training_samples_total", "counter", "Training samples processed, over all epochs.")
        text.sample("saed_training_samples_total", value: Double(state.trainingSamples))
        text.family("saed_model_rows_total", "counter", "Rows run through a model, by operation.")
        for operation in ["decode", "encode", "reconstruct"] {
            text.sample("saed_model_rows_total", ["operation": operation],
                        value: Double(state.modelRows[operation] ?? 0))
        }
        text.family("saed_encoded_rows_total", "counter", "Rows encoded (the encode operation alone).")
        text.sample("saed_encoded_rows_total", value: Double(state.modelRows["encode"] ?? 0))

        text.family("saed_http_requests_total", "counter", "Requests answered by a route, by route pattern and status.")
        for (key, count) in state.requests.sorted(by: { $0.key < $1.key }) {
            text.sample("saed_http_requests_total",
                        ["method": key.method, "route": key.route, "status": String(key.status)], value: Double(count))
        }
        text.family("saed_http_request_duration_seconds", "histogram", "Time from routing to the response head.")
        for (route, histogram) in state.requestSeconds.sorted(by: { $0.key < $1.key }) {
            text.histogram("saed_http_request_duration_seconds", histogram, ["route": route])
        }
        return text.output
    }
}

/// A cumulative histogram with fixed bucket bounds, as Prometheus exposes one.
struct Histogram: Sendable {
    let bounds: [Double]
    /// Observations at or below each bound (not cumulative; `render` sums them).
    private(set) var counts: [Int]
    private(set) var sum = 0.0
    private(set) var count = 0

    init(bounds: [Double]) {
        self.bounds = bounds
        self.counts = Array(repeating: 0, count: bounds.count)
    }

    mutating func observe(_ value: Double) {
        guard value.isFinite else { return }
        if let bucket = bounds.firstIndex(where: { value <= $0 }) { counts[bucket] += 1 }
        sum += value
        count += 1
    }
}

/// Builds exposition text line by line.
private struct PrometheusText {
    var output = ""

    mutating func family(_ name: String, _ type: String, _ help: String) {
        output += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
    }

    mutating func sample(_ name: String, _ labels: [String: String] = [:], value: Double) {
        output += name + Self.labelText(labels) + " " + Self.number(value) + "\n"
    }

    mutating func histogram(_ name: String, _ histogram: Histogram, _ labels: [String: String] = [:]) {
        var cumulative = 0
        for (bound, count) in zip(histogram.bounds, histogram.counts) {
            cumulative += count
            let bucketLabels = labels.merging(["le": Self.number(bound)]) { a, _ in a }
            sample(name + "_bucket", bucketLabels, value: Double(cumulative))
        }
        sample(name + "_bucket", labels.merging(["le": "+Inf"]) { a, _ in a }, value: Double(histogram.count))
        sample(name + "_sum", labels, value: histogram.sum)
        sample(name + "_count", labels, value: Double(histogram.count))
    }

    /// `{a="1",b="2"}` with names sorted and values escaped as the format requires.
    private static func labelText(_ labels: [String: String]) -> String {
        guard !labels.isEmpty else { return "" }
        let pairs = labels.sorted { $0.key < $1.key }.map { name, value in
            let escaped = value.replacingOccurrences(of: "\\", with: "\\\\")
                .replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
            return "\(name)=\"\(escaped)\""
        }
        return "{" + pairs.joined(separator: ",") + "}"
    }

    /// Whole numbers without a fraction, others in Swift's shortest round-trip form.
    private static func number(_ value: Double) -> String {
        if value.rounded() == value, abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }
}
