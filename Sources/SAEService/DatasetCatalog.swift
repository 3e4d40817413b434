import Foundation
import SAECore
import Synchronization

/// Turns a job's dataset reference into rows in memory, and keeps loaded files for reuse.
///
/// Paths given by clients are confined to the datasets directory: absolute paths, `..`
/// components and symbolic links that lead outside it are refused. Uploaded datasets are found
/// by id in its `uploads/` folder.
package final class DatasetCatalog: Sendable {
    private let datasetsDirectory: URL
    private let fashionMNISTDirectory: URL
    /// Loaded files by resolved path, each with the format it was read in and the size and
    /// modification time it was read at; guarded by its own mutex. Loads happen outside the
    /// lock. A file has one entry: reading it in another format (another width, header or
    /// label column) replaces it, so the rows held are bounded by the files, not by the
    /// readings clients ask for. An entry lives until the daemon stops, its file changes or is
    /// read another way (the next load replaces it) or, for an upload, the upload is deleted.
    private let cache = Mutex<[String: CachedFile]>([:])

    /// One file's rows and what they were read from.
    private struct CachedFile: Sendable {
        /// The file's size and modification time when it was read.
        var stamp: String
        var format: FileFormat
        var dataset: Dataset
    }

    package init(datasetsDirectory: URL, fashionMNISTDirectory: URL) {
        self.datasetsDirectory = datasetsDirectory
        self.fashionMNISTDirectory = fashionMNISTDirectory
    }

    /// The rows of `source`, limited to its `limit`. Throws `ServiceError` for a dataset that is
    /// missing, outside the datasets directory, or unreadable (naming the file and the fault).
    ///
    /// Errors name `field` (a job's `dataset`), or `field.path` / `field.id` for a path or id
    /// that leads nowhere. A caller whose path is a parameter of its own (a picture route's
    /// `?path=`) passes that name as `pathField`, and every fault of the file names it.
    package func load(_ source: DatasetSource, field: String, pathField: String? = nil) throws -> Dataset {
        let url = try resolve(source.reference, field: field, pathField: pathField)
        let field = source.reference.isPath ? pathField ?? field : field
        // The stamp is the file's size and modification time, so a replaced file is read anew
        // and its old rows are dropped rather than kept beside the new ones.
        let attributes = try? FileManager.default.attributesOfItem(atPath: url.path)
        let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        let stamp = "\((attributes?[.size] as? NSNumber)?.intValue ?? -1)|\(modified)"
        // The same file read another way (with a header, as float32) is another table; it
        // replaces the one held.
        let format = source.format ?? Self.defaultFormat(of: url)
        if let cached = cache.withLock({ $0[url.path] }), cached.stamp == stamp, cached.format == format {
            return source.limit.map { cached.dataset.prefix($0) } ?? cached.dataset
        }
        let dataset: Dataset
        do {
            dataset = try Self.read(url, format: format)
        } catch let error as DataError {
            throw ServiceError.datasetUnreadable(code: error.code, field: field, message: "\(field): \(error.message)")
        }
        cache.withLock { $0[url.path] = CachedFile(stamp: stamp, format: format, dataset: dataset) }
        return source.limit.map { dataset.prefix($0) } ?? dataset
    }

    private static func read(_ url: URL, format: FileFormat) throws -> Dataset {
        switch format {
        case .npy: try NPY.load(contentsOf: url)
        case .csv(let hasHeader, let labelColumn):
            try CSVData.load(contentsOf: url, hasHeader: hasHeader, labelColumn: labelColumn)
        case .rawFloat32(let width): try RawFloat32.load(contentsOf: url, width: width)
        case .idx: try IDX.load(contentsOf: url)
        }
    }

    /// The format a file's extension implies: `.npy`, `.csv` (no header), else IDX.
    private static func defaultFormat(of url: URL) -> FileFormat {
        switch url.pathExtension.lowercased() {
        case "npy": .npy
        case "csv": .csv(hasHeader: false, labelColumn: nil)
        default: .idx
        }
    }

    /// The file a reference names, checked to exist and to lie where it may. Errors name
    /// fields as `load(_:field:pathField:)` says.
    package func resolve(_ reference: DatasetReference, field: String, pathField: String? = nil) throws -> URL {
        switch reference {
        case .builtin(let name, let split):
            let file = split == "train" ? "train-images-idx3-ubyte" : "t10k-images-idx3-ubyte"
            for candidate in [file + ".gz", file] {
                let url = fashionMNISTDirectory.appendingPathComponent(candidate)
                if FileManager.default.fileExists(atPath: url.path) { return url }
            }
            throw ServiceError.datasetNotFound(
                field: field, message: "\(field): the \(name) files are not installed (install the dataset-fashion-mnist package, "
                    + "or set fashion_mnist_directory in the config)")
        case .path(let path):
            return try confined(path, field: pathField ?? "\(field).path")
        case .uploaded(let id):
            return try upload(id, field: field)
        }
    }

    /// How many files' rows are held in memory.
    package var cachedFileCount: Int { cache.withLock { $0.count } }

    /// Forgets the loaded rows of an uploaded dataset, once it is deleted.
    package func evict(uploadedID id: String) {
        let prefix = datasetsDirectory.appendingPathComponent(DatasetStore.folder)
            .resolvingSymlinksInPath().standardizedFileURL.appendingPathComponent(id + ".").path
        cache.withLock { cache in
            for key in cache.keys where key.hasPrefix(prefix) { cache[key] = nil }
        }
    }

    /// The file of an uploaded dataset: `uploads/<id>.<format>` in the datasets directory.
    private func upload(_ id: String, field: String) throws -> URL {
        let id = try ResourceID.checked(id, field: "\(field).id")
        let folder = datasetsDirectory.appendingPathComponent(DatasetStore.folder)
            .resolvingSymlinksInPath().standardizedFileURL
        for suffix in ["npy", "csv", "idx", "idx.gz"] {
            let url = folder.appendingPathComponent("\(id).\(suffix)")
            if FileManager.default.fileExists(atPath: url.path) { return url }
        }
        throw ServiceError.datasetNotFound(field: "\(field).id", message: "\(field).id: no uploaded dataset \"\(id)\"")
    }

    /// The file `path` names inside the datasets directory; errors name `field`, the path's
    /// own field (`dataset.path`, or a query's `path`).
    private func confined(_ path: String, field: String) throws -> URL {
        let components = path.split(separator: "/", omittingEmptySubsequences: true)
        guard !path.hasPrefix("/"), !components.isEmpty, !components.contains("..") else {
            throw ServiceError.invalidField(
                path: field, message: "must be a relative path inside the datasets directory, got \"\(path)\"")
        }
        let root = datasetsDirectory.resolvingSymlinksInPath().standardizedFileURL
        let url = root.appendingPathComponent(path).resolvingSymlinksInPath().standardizedFileURL
        guard url.path.hasPrefix(root.path + "/") else {
            throw ServiceError.invalidField(
                path: field, message: "\"\(path)\" leads outside the datasets directory")
        }
        let type = (try? FileManager.default.attributesOfItem(atPath: url.path))?[.type] as? FileAttributeType
        guard type == .typeRegular else {
            throw ServiceError.datasetNotFound(
                field: field, message: "\(field): no file \"\(path)\" in the datasets directory (or it is not a regular file)")
        }
        return url
    }
}
