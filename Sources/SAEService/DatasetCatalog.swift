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
    /// Loaded files by resolved path; guarded by its own mutex. Loads happen outside the lock.
    private let cache = Mutex<[String: Dataset]>([:])

    package init(datasetsDirectory: URL, fashionMNISTDirectory: URL) {
        self.datasetsDirectory = datasetsDirectory
        self.fashionMNISTDirectory = fashionMNISTDirectory
    }

    /// The rows of `source`, limited to its `limit`. Throws `ServiceError` for a dataset that is
    /// missing, outside the datasets directory, or unreadable (naming the file and the fault).
    package func load(_ source: DatasetSource, field: String) throws -> Dataset {
        let url = try resolve(source.reference, field: field)
        // The key carries the file's size and modification time, so a replaced file is read anew.
        let attributes = try? FileManager.default.attributesOfItem(atPath: url.path)
        let stamp = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        let key = "\(url.path)|\((attributes?[.size] as? NSNumber)?.intValue ?? -1)|\(stamp)"
        if let cached = cache.withLock({ $0[key] }) {
            return source.limit.map { cached.prefix($0) } ?? cached
        }
        let dataset: Dataset
        do {
            dataset = try Self.read(url)
        } catch let error as DataError {
            throw ServiceError.datasetUnreadable(code: error.code, field: field, message: "\(field): \(error.message)")
        }
        cache.withLock { $0[key] = dataset }
        return source.limit.map { dataset.prefix($0) } ?? dataset
    }

    private static func read(_ url: URL) throws -> Dataset {
        switch url.pathExtension.lowercased() {
        case "npy": try NPY.load(contentsOf: url)
        case "csv": try CSVData.load(contentsOf: url, hasHeader: false, labelColumn: nil)
        default: try IDX.load(contentsOf: url)
        }
    }

    /// The file a reference names, checked to exist and to lie where it may.
    package func resolve(_ reference: DatasetReference, field: String) throws -> URL {
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
            return try confined(path, field: field)
        case .uploaded(let id):
            return try upload(id, field: field)
        }
    }

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

    private func confined(_ path: String, field: String) throws -> URL {
        let components = path.split(separator: "/", omittingEmptySubsequences: true)
        guard !path.hasPrefix("/"), !components.isEmpty, !components.contains("..") else {
            throw ServiceError.invalidField(
                path: "\(field).path", message: "must be a relative path inside the datasets directory, got \"\(path)\"")
        }
        let root = datasetsDirectory.resolvingSymlinksInPath().standardizedFileURL
        let url = root.appendingPathComponent(path).resolvingSymlinksInPath().standardizedFileURL
        guard url.path.hasPrefix(root.path + "/") else {
            throw ServiceError.invalidField(
                path: "\(field).path", message: "\"\(path)\" leads outside the datasets directory")
        }
        let type = (try? FileManager.default.attributesOfItem(atPath: url.path))?[.type] as? FileAttributeType
        guard type == .typeRegular else {
            throw ServiceError.datasetNotFound(
                field: "\(field).path", message: "\(field).path: no file \"\(path)\" in the datasets directory (or it is not a regular file)")
        }
        return url
    }
}
