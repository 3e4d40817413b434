import CSQLite
import Foundation

/// A value bound to or read from an SQL statement.
package enum SQLiteValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])

    package var text: String? {
        if case .text(let value) = self { return value }
        return nil
    }

    package var integer: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    package var real: Double? {
        switch self {
        case .real(let value): value
        case .integer(let value): Double(value)
        default: nil
        }
    }
}

/// A failed SQLite call: the operation, SQLite's result code and its message.
package struct SQLiteError: Error, CustomStringConvertible {
    package let operation: String
    package let code: Int32
    package let message: String
    package var description: String { "sqlite \(operation) failed (\(code)): \(message)" }
}

/// One SQLite connection in WAL mode with `synchronous=FULL`: a committed transaction is on
/// disk before `transaction` returns, so a change acknowledged after it survives a crash.
///
/// Thread-safe: every call, and every whole transaction, holds `lock`.
package final class SQLiteDatabase: @unchecked Sendable {
    // @unchecked: `handle` is only used while `lock` is held.
    private let handle: OpaquePointer
    /// Recursive so that statements inside `transaction` can take it again.
    private let lock = NSRecursiveLock()

    /// Opens or creates the database file.
    package init(path: String) throws {
        var pointer: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let status = sqlite3_open_v2(path, &pointer, flags, nil)
        guard status == SQLITE_OK, let pointer else {
            let message = pointer.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            if let pointer { sqlite3_close(pointer) }
            throw SQLiteError(operation: "open", code: status, message: message)
        }
        handle = pointer
        sqlite3_busy_timeout(handle, 5_000)
        _ = try query("PRAGMA journal_mode=WAL")
        try execute("PRAGMA synchronous=FULL")
        try execute("PRAGMA foreign_keys=ON")
    }

    deinit {
        sqlite3_close(handle)
    }

    /// Runs one statement that returns no rows.
    package func execute(_ sql: String, _ parameters: [SQLiteValue] = []) throws {
        _ = try query(sql, parameters)
    }

    /// Runs one statement and returns its rows.
    package func query(_ sql: String, _ parameters: [SQLiteValue] = []) throws -> [[SQLiteValue]] {
        lock.lock()
        defer { lock.unlock() }
        var statement: OpaquePointer?
        try check(sqlite3_prepare_v2(handle, sql, -1, &statement, nil), "prepare")
        defer { sqlite3_finalize(statement) }
        for (index, parameter) in parameters.enumerated() {
            try bind(parameter, at: Int32(index + 1), in: statement)
        }
        var rows: [[SQLiteValue]] = []
        while true {
            let status = sqlite3_step(statement)
            if status == SQLITE_DONE { break }
            guard status == SQLITE_ROW else { try check(status, "step"); break }
            rows.append((0..<sqlite3_column_count(statement)).map { column(at: $0, in: statement) })
        }
        return rows
    }

    /// Runs `body` in one immediate transaction; commits when it returns, rolls back when it throws.
    package func transaction<T>(_ body: () throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// The schema version kept in `PRAGMA user_version`.
    package var userVersion: Int {
        get throws { Int(try query("PRAGMA user_version").first?.first?.integer ?? 0) }
    }

    private func bind(_ value: SQLiteValue, at index: Int32, in statement: OpaquePointer?) throws {
        // SQLITE_TRANSIENT: SQLite copies the bytes before the call returns.
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        let status: Int32
        switch value {
        case .null: status = sqlite3_bind_null(statement, index)
        case .integer(let integer): status = sqlite3_bind_int64(statement, index, integer)
        case .real(let real): status = sqlite3_bind_double(statement, index, real)
        case .text(let text): status = sqlite3_bind_text(statement, index, text, -1, transient)
        case .blob(let bytes):
            status = bytes.withUnsafeBytes { sqlite3_bind_blob(statement, index, $0.baseAddress, Int32($0.count), transient) }
        }
        try check(status, "bind")
    }

    private func column(at index: Int32, in statement: OpaquePointer?) -> SQLiteValue {
        switch sqlite3_column_type(statement, index) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(statement, index))
        case SQLITE_FLOAT: return .real(sqlite3_column_double(statement, index))
        case SQLITE_TEXT: return .text(String(cString: sqlite3_column_text(statement, index)))
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(statement, index))
            guard count > 0, let bytes = sqlite3_column_blob(statement, index) else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: bytes, count: count)))
        default: return .null
        }
    }

    private func check(_ status: Int32, _ operation: String) throws {
        guard status == SQLITE_OK || status == SQLITE_DONE || status == SQLITE_ROW else {
            throw SQLiteError(operation: operation, code: status, message: String(cString: sqlite3_errmsg(handle)))
        }
    }
}
