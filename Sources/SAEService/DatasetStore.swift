import Foundation
import HTTPServer
import SAECore
import Synchronization

/// The file formats a dataset may be uploaded in.
package enum DatasetFormat: String, Codable, Sendable, CaseIterable {
    case idx, npy, csv

    /// The format of an upload: `?format=` when given, else the `Content-Type`, else the
    /// body's first bytes.
    ///
    /// Throws 400 `invalid_field` for an unknown `format` value and 415
    /// `unsupported_media_type` for a content type or body that is none of the three.
    /// `body` may be just the upload's first bytes (4 KiB are enough to sniff).
    package static func detect(query: String?, contentType: String?, body: [UInt8]) throws -> DatasetFormat {
        if let query {
            guard let format = DatasetFormat(rawValue: query.lowercased()) else {
                throw ServiceError.invalidField(path: "format", message: "must be idx, npy or csv, got \"\(query)\"")
            }
            return format
        }
        let mediaType = contentType?.split(separator: ";").first
            .map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        switch mediaType {
        case "text/csv": return .csv
        case "application/x-npy", "application/npy": return .npy
        case "application/x-idx", "application/gzip", "application/x-gzip": return .idx
        // curl --data-binary says form data unless told otherwise; no form is a dataset.
        case "", "application/octet-stream", "text/plain", "application/x-www-form-urlencoded":
            if let sniffed = sniff(body) { return sniffed }
            throw ServiceError.unsupportedMediaType(
                "cannot tell the upload's format from its first bytes; give ?format=idx, npy or csv")
        default:
            throw ServiceError.unsupportedMediaType(
                "Content-Type \(mediaType) is not a dataset; send IDX, NPY or CSV bytes "
                    + "(application/octet-stream, or ?format=)")
        }
    }

    /// NPY and IDX by their magic bytes, CSV when the start reads as numeric text.
    private static func sniff(_ body: [UInt8]) -> DatasetFormat? {
        if body.starts(with: [0x93] + Array("NUMPY".utf8)) { return .npy }
        if body.starts(with: [0x1F, 0x8B]) || body.starts(with: [0, 0]) { return .idx }
        let numeric = Set("0123456789.,;+-eEnaifNAIF \t\r\n".utf8)
        let head = body.prefix(4096)
        return !head.isEmpty && head.allSatisfy(numeric.contains) ? .csv : nil
    }
}

/// An uploaded dataset as the API shows it and the store records it.
package struct DatasetInfo: Codable, Sendable, Equatable {
    package var id: String
    package var name: String?
    package var format: DatasetFormat
    /// Whether the stored file is gzip-compressed (IDX only).
    package var compressed: Bool
    package var rows: Int
    package var width: Int
    /// The size of the uploaded file.
    package var bytes: Int
    package var createdAt: Date
    /// The file inside the datasets directory, such as `uploads/ds_0123456789abcdef.npy`; a
    /// job may name it by this path as well as by `{"id": ...}`.
    package var path: String
}

/// Uploaded datasets: one file each under `uploads/` in the datasets directory, and one row
/// each in the store's `datasets` table.
///
/// An upload is written atomically, read through once to prove it reads (and to learn its rows and
/// width), and only then recorded; a dataset exists once its row is committed. Files left by
/// an upload that never got its row (a crash in between) are removed at start.
package final class DatasetStore: Sendable {
    /// The folder of the datasets directory that uploads go to.
    package static let folder = "uploads"

    private let uploads: URL
    private let database: SQLiteDatabase
    private let logger: Logger
    /// Every recorded dataset by id; guarded by its own mutex. File I/O happens outside it.
    private let infos = Mutex<[String: DatasetInfo]>([:])
    /// The most data a gzip upload may declare once decompressed: the upload limit, so gzip
    /// lets in nothing larger than an uncompressed body could be.
    private let maxExpandedBytes: Int

    /// Opens the store, reading every row and removing upload files that have none.
    package init(datasetsDirectory: URL, database: SQLiteDatabase, maxExpandedBytes: Int = .max,
                 logger: Logger = .none) throws {
        self.uploads = datasetsDirectory.appendingPathComponent(Self.folder)
        self.maxExpandedBytes = maxExpandedBytes
        self.database = database
        self.logger = logger
        try FileManager.default.createDirectory(at: uploads, withIntermediateDirectories: true)
        var loaded: [String: DatasetInfo] = [:]
        for row in try database.query("SELECT id, info FROM datasets") {
            do {
                let info = try APIJSON.decoder.decode(DatasetInfo.self, from: Data((row[1].text ?? "").utf8))
                loaded[info.id] = info
            } catch {
                logger.warning("dataset skipped", ["dataset.id": row[0].text ?? "?", "error": "\(error)"])
            }
        }
        infos.withLock { $0 = loaded }
        removeOrphans(keeping: Set(loaded.values.map { ($0.path as NSString).lastPathComponent }))
    }

    /// Stores `bytes` as a new dataset in `format` and returns what it holds.
    ///
    /// Throws `datasetUnreadable` (422, with the reader's code) when the bytes do not load as
    /// `format`, naming the upload rather than the file it was written to; `unavailable` (503)
    /// when the file or its row cannot be written. Nothing is left behind on failure.
    package func add(_ bytes: [UInt8], format: DatasetFormat, name: String?) throws -> DatasetInfo {
        try add(format: format, name: name, head: Array(bytes.prefix(2)), byteCount: bytes.count) { url in
            try AtomicFile.write(bytes, to: url)
        }
    }

    /// Stores an upload the server spooled to disk as a new dataset, moving the file into
    /// place (no copy on one file system) rather than reading it into memory.
    ///
    /// `head` is the file's first bytes (at least two, for gzip). Errors as for `add(_:format:name:)`.
    package func add(spooled file: BodyFile, head: [UInt8], format: DatasetFormat, name: String?) throws -> DatasetInfo {
        try add(format: format, name: name, head: head, byteCount: file.byteCount) { url in
            try Self.syncFile(atPath: file.path)
            do {
                try file.move(to: url.path)
            } catch let error as BodyFileError where error.errno == EXDEV {
                // The spool is on another file system: copy, then sync the copy.
                try FileManager.default.copyItem(atPath: file.path, toPath: url.path)
                try Self.syncFile(atPath: url.path)
            }
            try Self.syncFile(atPath: url.deletingLastPathComponent().path)
        }
    }

    /// Writes the dataset's file with `place`, proves it loads, and records it.
    private func add(
        format: DatasetFormat, name: String?, head: [UInt8], byteCount: Int, place: (URL) throws -> Void
    ) throws -> DatasetInfo {
        let id = JobManager.newID(prefix: "ds")
        let compressed = format == .idx && head.starts(with: [0x1F, 0x8B])
        let fileName = id + "." + format.rawValue + (compressed ? ".gz" : "")
        let url = uploads.appendingPathComponent(fileName)
        do {
            try place(url)
        } catch {
            try? FileManager.default.removeItem(at: url)
            logger.error("dataset write failed", ["dataset.id": id, "error": "\(error)"])
            throw ServiceError.unavailable("the upload could not be stored; nothing was kept")
        }

        let dataset: DatasetShape
        do {
            if compressed {
                let expanded = try IDX.declaredDataBytes(contentsOf: url)
                guard expanded <= maxExpandedBytes else {
                    try? FileManager.default.removeItem(at: url)
                    throw ServiceError.contentTooLarge(
                        "the gzip upload declares \(expanded) bytes of data once decompressed; the limit is "
                            + "\(maxExpandedBytes) bytes (limits.max_upload_bytes); nothing was kept")
                }
            }
            dataset = try Self.inspect(url, format: format)
        } catch let error as DataError {
            try? FileManager.default.removeItem(at: url)
            let label = name.map { "uploaded dataset \"\($0)\"" } ?? "the uploaded dataset"
            let detail = error.message.hasPrefix(error.file + ": ")
                ? String(error.message.dropFirst(error.file.count + 2)) : error.message
            throw ServiceError.datasetUnreadable(code: error.code, message: "\(label) (\(format.rawValue)): \(detail)")
        }

        let info = DatasetInfo(
            id: id, name: name, format: format, compressed: compressed, rows: dataset.rows, width: dataset.width,
            bytes: byteCount, createdAt: Date(), path: Self.folder + "/" + fileName)
        do {
            try database.execute(
                "INSERT INTO datasets (id, created_at, info) VALUES (?, ?, ?)",
                [.text(id), .real(info.createdAt.timeIntervalSince1970),
                 .text(String(decoding: try APIJSON.bytes(info), as: UTF8.self))])
        } catch {
            try? FileManager.default.removeItem(at: url)
            logger.error("dataset store write failed", ["dataset.id": id, "error": "\(error)"])
            throw ServiceError.unavailable("the upload could not be recorded; nothing was kept")
        }
        infos.withLock { $0[id] = info }
        logger.info("dataset uploaded",
                    ["dataset.id": id, "dataset.rows": "\(info.rows)", "dataset.width": "\(info.width)"])
        return info
    }

    /// Every uploaded dataset, newest first.
    package func list() -> [DatasetInfo] {
        infos.withLock { Array($0.values) }.sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }
    }

    /// The dataset with this id; throws `uploadNotFound` (404).
    package func info(id: String) throws -> DatasetInfo {
        guard let info = infos.withLock({ $0[id] }) else { throw ServiceError.uploadNotFound(id) }
        return info
    }

    /// Forgets the dataset: its row first (so it stops existing), then its file.
    /// Whether a job still needs it is the caller's question.
    package func remove(id: String) throws {
        let info = try info(id: id)
        do {
            try database.execute("DELETE FROM datasets WHERE id = ?", [.text(id)])
        } catch {
            logger.error("dataset store delete failed", ["dataset.id": id, "error": "\(error)"])
            throw ServiceError.unavailable("the dataset could not be deleted from the store")
        }
        infos.withLock { $0[id] = nil }
        let file = uploads.appendingPathComponent((info.path as NSString).lastPathComponent)
        do {
            try FileManager.default.removeItem(at: file)
        } catch {
            // The row is gone, so the dataset is; the file goes at the next start.
            logger.warning("dataset file not removed", ["dataset.id": id, "error": "\(error)"])
        }
    }

    /// Flushes a file (or directory) to disk, so that a recorded upload survives a power cut.
    private static func syncFile(atPath path: String) throws {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        let name = (path as NSString).lastPathComponent
        guard descriptor >= 0 else {
            throw DataError.writeFailed(file: name, reason: String(cString: strerror(errno)))
        }
        defer { close(descriptor) }
        if fsync(descriptor) != 0 && errno != EINVAL && errno != ENOTSUP {
            throw DataError.writeFailed(file: name, reason: String(cString: strerror(errno)))
        }
    }

    /// The number of recorded datasets.
    package var count: Int { infos.withLock { $0.count } }

    /// The shape of a stored upload, checked as a job would load it. Every format is read
    /// through in blocks without being kept: an upload of any size costs a megabyte (and, for
    /// CSV, its longest line).
    private static func inspect(_ url: URL, format: DatasetFormat) throws -> DatasetShape {
        switch format {
        case .idx: return try IDX.inspect(contentsOf: url)
        case .npy: return try NPY.inspect(contentsOf: url)
        case .csv: return try CSVData.inspect(contentsOf: url)
        }
    }

    /// Removes files in `uploads/` that no row names, including temporary files of writes
    /// that never finished.
    private func removeOrphans(keeping names: Set<String>) {
        let present = (try? FileManager.default.contentsOfDirectory(atPath: uploads.path)) ?? []
        for name in present where !names.contains(name) {
            try? FileManager.default.removeItem(at: uploads.appendingPathComponent(name))
            logger.warning("orphan upload removed", ["file": name])
        }
    }
}
