import Foundation
import SAECore

/// Jobs and their events in the SQLite store.
///
/// A job's row holds its record (everything but the events and the epoch history) as JSON;
/// each event is a row of `job_events` and each epoch record a row of `job_epochs`. `save`
/// writes them in one transaction, so a change and its event are stored together or not at
/// all, and an epoch costs one small row rather than a rewrite of the whole history.
package struct JobStore: Sendable {
    private let database: SQLiteDatabase

    package init(database: SQLiteDatabase) {
        self.database = database
    }

    /// Stores the job and any events not yet stored; when this returns, both survive a crash.
    package func save(_ job: Job) throws {
        var record = job
        record.events = []
        record.history = []
        let text = String(decoding: try JSONEncoder().encode(record), as: UTF8.self)
        try database.transaction {
            try database.execute(
                """
                INSERT INTO jobs (id, created_at, state, record) VALUES (?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET state = excluded.state, record = excluded.record
                """,
                [.text(job.id), .real(job.createdAt.timeIntervalSince1970), .text(job.state.rawValue), .text(text)])
            let stored = try database.query("SELECT COALESCE(MAX(id), 0) FROM job_events WHERE job_id = ?",
                                            [.text(job.id)])
            let last = Int(stored.first?.first?.integer ?? 0)
            for event in job.events where event.id > last {
                try database.execute(
                    "INSERT INTO job_events (job_id, id, kind, data) VALUES (?, ?, ?, ?)",
                    [.text(job.id), .integer(Int64(event.id)), .text(event.kind.rawValue), .text(event.data)])
            }
            // The history only grows, or is cut back when a job resumes from an earlier epoch.
            try database.execute("DELETE FROM job_epochs WHERE job_id = ? AND epoch > ?",
                                 [.text(job.id), .integer(Int64(job.history.count))])
            let storedEpochs = try database.query("SELECT COUNT(*) FROM job_epochs WHERE job_id = ?", [.text(job.id)])
            let firstNew = Int(storedEpochs.first?.first?.integer ?? 0)
            // Only the new records are encoded: encoding the whole history at every epoch made
            // a long job's epochs slower and slower (7,000 epochs in, ~140 ms each).
            for index in job.history.indices where index >= firstNew {
                let text = String(decoding: try JSONEncoder().encode(job.history[index]), as: UTF8.self)
                try database.execute("INSERT INTO job_epochs (job_id, epoch, record) VALUES (?, ?, ?)",
                                     [.text(job.id), .integer(Int64(index + 1)), .text(text)])
            }
        }
    }

    /// Every stored job, oldest first. Rows that cannot be read are returned as `skipped`
    /// (id, reason) and left in place for a person to look at.
    package func loadAll() throws -> (jobs: [Job], skipped: [(file: String, reason: String)]) {
        var jobs: [Job] = []
        var skipped: [(file: String, reason: String)] = []
        for row in try database.query("SELECT id, record FROM jobs ORDER BY created_at, id") {
            let id = row[0].text ?? "?"
            do {
                var job = try JSONDecoder().decode(Job.self, from: Data((row[1].text ?? "").utf8))
                job.events = try events(forJob: id)
                job.history = try history(forJob: id)
                jobs.append(job)
            } catch {
                skipped.append((id, "\(error)"))
            }
        }
        return (jobs, skipped)
    }

    private func events(forJob id: String) throws -> [JobEvent] {
        try database.query("SELECT id, kind, data FROM job_events WHERE job_id = ? ORDER BY id", [.text(id)])
            .compactMap { row in
                guard let number = row[0].integer, let kind = row[1].text.flatMap(JobEvent.Kind.init),
                      let data = row[2].text else { return nil }
                return JobEvent(id: Int(number), kind: kind, data: data)
            }
    }

    private func history(forJob id: String) throws -> [EpochRecord] {
        try database.query("SELECT record FROM job_epochs WHERE job_id = ? ORDER BY epoch", [.text(id)])
            .map { row in try JSONDecoder().decode(EpochRecord.self, from: Data((row[0].text ?? "").utf8)) }
    }

    /// Removes the job and its events.
    package func delete(id: String) throws {
        try database.execute("DELETE FROM jobs WHERE id = ?", [.text(id)])
    }
}
