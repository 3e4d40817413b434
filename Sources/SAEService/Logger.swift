import Foundation
import Synchronization

/// A small structured logger: a constant message plus dotted metadata keys.
///
/// A value type: copy it and add metadata (`job.id`, `request.id`) for one job or request.
/// Lines go to the sink as `2026-12-03T17:00:00Z info job finished job.id=… loss.total=…`.
package struct Logger: Sendable {
    package enum Level: Int, Comparable, Sendable, CaseIterable {
        case trace, debug, info, notice, warning, error, critical

        package static func < (lhs: Level, rhs: Level) -> Bool { lhs.rawValue < rhs.rawValue }

        package var name: String { String(describing: self) }
    }

    package typealias Sink = @Sendable (String) -> Void

    package var level: Level
    package var metadata: [String: String] = [:]
    private let sink: Sink

    /// Writes lines at `level` and above to `sink` (standard error by default).
    package init(level: Level = .info, sink: @escaping Sink = Logger.standardError) {
        self.level = level
        self.sink = sink
    }

    /// A logger that drops everything, for libraries and tests that do not care.
    package static var none: Logger { Logger(level: .critical) { _ in } }

    package static let standardError: Sink = { line in
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// A copy with more metadata.
    package func with(_ extra: [String: String]) -> Logger {
        var copy = self
        copy.metadata.merge(extra) { _, new in new }
        return copy
    }

    package func log(_ level: Level, _ message: String, _ extra: [String: String] = [:]) {
        guard level >= self.level else { return }
        let fields = metadata.merging(extra) { _, new in new }
            .sorted { $0.key < $1.key }
            .map { "\($0.key)=\($0.value)" }
            .joined(separator: " ")
        let stamp = Date().formatted(.iso8601)
        sink(fields.isEmpty ? "\(stamp) \(level.name) \(message)" : "\(stamp) \(level.name) \(message) \(fields)")
    }

    package func trace(_ message: String, _ extra: [String: String] = [:]) { log(.trace, message, extra) }
    package func debug(_ message: String, _ extra: [String: String] = [:]) { log(.debug, message, extra) }
    package func info(_ message: String, _ extra: [String: String] = [:]) { log(.info, message, extra) }
    package func warning(_ message: String, _ extra: [String: String] = [:]) { log(.warning, message, extra) }
    package func error(_ message: String, _ extra: [String: String] = [:]) { log(.error, message, extra) }
}
