import Foundation
import SAECore

/// Where a job is in its life.
///
/// queued → running → succeeded | failed | cancelled; a cancel while running passes through
/// `cancelling` until the trainer reaches the next batch boundary. A queued job may be cancelled
/// directly. A running job interrupted by a daemon stop goes back to `queued` at the next start.
package enum JobState: String, Codable, Sendable, CaseIterable {
    case queued, running, cancelling, succeeded, failed, cancelled

    package var isFinished: Bool {
        self == .succeeded || self == .failed || self == .cancelled
    }
}

/// One entry of a job's event stream; `id` counts from 1 and never repeats within a job.
package struct JobEvent: Codable, Sendable, Equatable {
    package enum Kind: String, Codable, Sendable { case state, epoch, end }
    package var id: Int
    package var kind: Kind
    /// The event's JSON object, as text.
    package var data: String
}

/// Why a job failed: a stable code and a sentence.
package struct JobFailure: Codable, Sendable, Equatable {
    package var code: String
    package var message: String
}

/// A training job as stored on disk and shown by the API.
package struct Job: Codable, Sendable {
    package var id: String
    package var state: JobState
    /// The validated spec in request form (`JobSpec.json`).
    package var spec: JSONValue
    package var createdAt: Date
    package var startedAt: Date?
    package var finishedAt: Date?
    package var epochs: Int
    package var history: [EpochRecord]
    package var error: JobFailure?
    package var modelID: String?
    package var events: [JobEvent]
    /// Share of the batches done, 0...1; updated per batch in memory, per epoch on disk.
    package var progress: Double
    /// The client's `Idempotency-Key`, when it sent one.
    package var idempotencyKey: String?
    /// How many times training started; a job that keeps dying with the daemon is failed
    /// rather than started again forever.
    package var attempts: Int?

    package init(id: String, spec: JobSpec, createdAt: Date) {
        self.id = id
        self.state = .queued
        self.spec = spec.json
        self.createdAt = createdAt
        self.epochs = spec.options.epochs
        self.history = []
        self.events = []
        self.progress = 0
        appendStateEvent()
    }

    package var name: String? {
        if case .object(let fields) = spec, case .string(let name)? = fields["name"] { return name }
        return nil
    }

    /// Moves to `next`, stamping times and recording `state` (and, when final, `end`) events.
    ///
    /// Only the transitions of the lifecycle above are allowed; anything else is a programming
    /// error in the job manager.
    package mutating func transition(to next: JobState, at time: Date, failure: JobFailure? = nil) {
        precondition(Self.allows(from: state, to: next), "job \(id): \(state) → \(next) is not a transition")
        state = next
        switch next {
        case .running:
            startedAt = startedAt ?? time
            attempts = (attempts ?? 0) + 1
        case .queued:
            // Back in the queue after an interruption; the history stays until the trainer
            // knows which epoch it resumes from (`rewind(toEpoch:)`).
            break
        case .succeeded, .failed, .cancelled:
            finishedAt = time
            error = failure
            if next == .succeeded { progress = 1 }
        case .cancelling:
            break
        }
        appendStateEvent()
        if next.isFinished {
            appendEvent(.end, Self.encodeObject(endPayload))
        }
    }

    private static func allows(from current: JobState, to next: JobState) -> Bool {
        switch (current, next) {
        case (.queued, .running), (.queued, .cancelled):
            true
        case (.running, .cancelling), (.running, .succeeded), (.running, .failed), (.running, .cancelled),
             (.running, .queued):
            true
        case (.cancelling, .cancelled), (.cancelling, .succeeded), (.cancelling, .failed), (.cancelling, .queued):
            true
        default:
            false
        }
    }

    /// Keeps the first `epoch` records of the history: training resumes after them. The epoch
    /// events already sent stay in the stream; the re-run epochs add new ones.
    package mutating func rewind(toEpoch epoch: Int) {
        history.removeSubrange(min(epoch, history.count)...)
        progress = epochs == 0 ? 0 : Double(history.count) / Double(epochs)
    }

    /// Records a finished epoch and its event.
    package mutating func record(_ epoch: EpochRecord) {
        history.append(epoch)
        progress = epochs == 0 ? 1 : Double(history.count) / Double(epochs)
        appendEvent(.epoch, Self.encode(epoch))
    }

    private mutating func appendStateEvent() {
        var payload: [String: JSONValue] = ["state": .string(state.rawValue)]
        payload["error"] = error.map { .object(["code": .string($0.code), "message": .string($0.message)]) }
        appendEvent(.state, Self.encodeObject(payload))
    }

    private var endPayload: [String: JSONValue] {
        var payload: [String: JSONValue] = [
            "state": .string(state.rawValue),
            "epochs_completed": .number(Double(history.count)),
        ]
        payload["model_id"] = modelID.map(JSONValue.string)
        payload["error"] = error.map { .object(["code": .string($0.code), "message": .string($0.message)]) }
        return payload
    }

    private mutating func appendEvent(_ kind: JobEvent.Kind, _ data: String) {
        events.append(JobEvent(id: (events.last?.id ?? 0) + 1, kind: kind, data: data))
    }

    private static func encodeObject(_ object: [String: JSONValue]) -> String {
        encode(JSONValue.object(object))
    }

    private static func encode(_ value: some Encodable) -> String {
        // Event payloads are state names, ids and epoch records; the trainer throws before it
        // would produce a non-finite record, so encoding cannot fail here.
        String(decoding: (try? APIJSON.bytes(value)) ?? Array("{}".utf8), as: UTF8.self)
    }
}

/// The JSON conventions of the API: snake_case keys, ISO 8601 dates, sorted keys.
package enum APIJSON {
    package static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// Reads what `encoder` wrote: `model_id` becomes `modelID`, `top_k` becomes `topK`.
    package static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        decoder.keyDecodingStrategy = .custom { path in
            let key = path.last?.stringValue ?? ""
            let words = key.split(separator: "_")
            guard let first = words.first else { return AnyKey(key) }
            let rest = words.dropFirst().map { $0 == "id" ? "ID" : $0.prefix(1).uppercased() + $0.dropFirst() }
            return AnyKey(String(first) + rest.joined())
        }
        return decoder
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// Encodes a value for a response or a stored record. Throws when it holds a number JSON
    /// cannot carry (an infinite or NaN float); callers check values from user input first.
    package static func bytes(_ value: some Encodable) throws -> [UInt8] {
        [UInt8](try encoder.encode(value))
    }
}
