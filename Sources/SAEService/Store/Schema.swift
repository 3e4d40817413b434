import Foundation

/// The store's tables, as a list of forward migrations. At start-up every migration above
/// the database's `user_version` runs, in order, each in its own transaction.
///
/// Never edit a migration that has shipped: add a new one.
enum Schema {
    static let migrations: [String] = [
        // 1: jobs with their events, and models.
        """
        CREATE TABLE jobs (
            id TEXT PRIMARY KEY,
            created_at REAL NOT NULL,
            state TEXT NOT NULL,
            record TEXT NOT NULL
        );
        CREATE INDEX jobs_by_creation ON jobs (created_at DESC, id DESC);
        CREATE TABLE job_events (
            job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
            id INTEGER NOT NULL,
            kind TEXT NOT NULL,
            data TEXT NOT NULL,
            PRIMARY KEY (job_id, id)
        );
        CREATE TABLE models (
            id TEXT PRIMARY KEY,
            created_at REAL NOT NULL,
            info TEXT NOT NULL
        );
        """,
        // 2: uploaded datasets, and the row /readyz rewrites to prove the store takes writes.
        """
        CREATE TABLE datasets (
            id TEXT PRIMARY KEY,
            created_at REAL NOT NULL,
            info TEXT NOT NULL
        );
        CREATE TABLE readiness_probe (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            checked_at REAL NOT NULL
        );
        """,
        // 3: a job's epoch records in rows of their own, so an epoch adds one row instead of
        // rewriting a record that grows with the history.
        """
        CREATE TABLE job_epochs (
            job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
            epoch INTEGER NOT NULL,
            record TEXT NOT NULL,
            PRIMARY KEY (job_id, epoch)
        );
        """,
    ]

    /// Brings `database` up to the newest schema.
    static func migrate(_ database: SQLiteDatabase) throws {
        let current = try database.userVersion
        guard current <= migrations.count else {
            throw SQLiteError(operation: "migrate", code: 0,
                              message: "the database has schema \(current), newer than this saed (\(migrations.count))")
        }
        for (index, migration) in migrations.enumerated() where index >= current {
            try database.transaction {
                for statement in migration.components(separatedBy: ";")
                where !statement.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                    try database.execute(statement)
                }
                try database.execute("PRAGMA user_version = \(index + 1)")
            }
        }
    }
}
