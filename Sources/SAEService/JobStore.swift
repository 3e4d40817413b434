import Foundation
import SAECore

/// Keeps each job as one JSON file, `jobs/<id>.json`, replaced atomically on every change.
///
/// Files use the types' own key names and exact dates, not the API's presentation.
package struct JobStore: Sendable {
    package let directory: URL

    package init(directory: URL) throws {
        self.directory = directory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    /// Writes the job; when this returns, the change survives a crash.
    package func save(_ job: Job) throws {
        let data = try JSONEncoder().encode(job)
        try AtomicFile.write(data, to: directory.appendingPathComponent("\(job.id).json"))
    }

    /// Reads every stored job. Files that cannot be read are returned as `skipped` (name, reason)
    /// and left in place for a person to look at.
    package func loadAll() -> (jobs: [Job], skipped: [(file: String, reason: String)]) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        var jobs: [Job] = []
        var skipped: [(file: String, reason: String)] = []
        for name in names.sorted() where name.hasSuffix(".json") {
            do {
                let data = try Data(contentsOf: directory.appendingPathComponent(name))
                jobs.append(try JSONDecoder().decode(Job.self, from: data))
            } catch {
                skipped.append((name, "\(error)"))
            }
        }
        return (jobs.sorted { $0.createdAt < $1.createdAt }, skipped)
    }

    package func delete(id: String) throws {
        try FileManager.default.removeItem(at: directory.appendingPathComponent("\(id).json"))
    }
}
