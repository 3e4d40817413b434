import Foundation
import SAECore
import Testing
@testable import SAEService
#if canImport(Glibc)
import Glibc
#endif

/// The real `saed` process killed (by its crash test hook, `SAED_TEST_CRASH_AT`) at exact points
/// inside a checkpoint or model write, then started again on the same data directory: the
/// previous version of the file is intact and loadable, nothing half-written is visible under a
/// real name, the store has no row without its files, and the job resumes and finishes with
/// the weights of an uninterrupted run.
@Suite(.serialized)
struct CrashInjectionTests {
    static let job = """
        {"dataset": {"name": "fashion-mnist", "limit": 1000}, "model": {"hidden_size": 16},
         "epochs": 6, "batch_size": 32, "seed": 5}
        """

    /// The job's model and history from an uninterrupted run in this process.
    static func reference() throws -> (model: Autoencoder, losses: [Double]) {
        let directory = try EndToEndTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let service = try Service(config: EndToEndTests.makeConfig(dataDirectory: directory), logger: .none)
        try service.start()
        defer { service.stop() }
        let id = try #require(try TestHTTPClient.request("POST", "/v1/jobs", port: service.port, body: job)
            .json()["id"] as? String)
        let finished = try KillAndResumeTests.poll(id, port: service.port) { $0["state"] as? String == "succeeded" }
        let model = try service.models.model(id: finished["model_id"] as? String ?? "")
        return (model, losses(finished))
    }

    static func losses(_ job: [String: Any]) -> [Double] {
        (job["history"] as? [[String: Any]] ?? []).compactMap { $0["loss"] as? Double }
    }

    /// Starts the daemon with the hook armed at `crashPoint`, submits the job (or, with `jobID`,
    /// lets the stored one resume) and waits until the hook kills the process.
    static func runUntilCrash(_ directory: String, crashPoint: String, jobID: String? = nil) throws -> String {
        let port = try KillAndResumeTests.freePort()
        let daemon = try KillAndResumeTests.launch(
            dataDirectory: directory, port: port, environment: [CrashInjection.environmentKey: crashPoint])
        defer { if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL) } }
        let id = try jobID ?? #require(try TestHTTPClient.request("POST", "/v1/jobs", port: port, body: job)
            .json()["id"] as? String)
        for _ in 0..<1200 where daemon.isRunning { Thread.sleep(forTimeInterval: 0.05) }
        #expect(!daemon.isRunning, "the hook at \(crashPoint) never fired")
        daemon.waitUntilExit()
        #expect(daemon.terminationReason == .uncaughtSignal && daemon.terminationStatus == SIGKILL,
                "saed ended by \(daemon.terminationReason) \(daemon.terminationStatus), not by SIGKILL")
        return id
    }

    /// Starts the daemon without the hook and returns the job once it has ended, with the state
    /// changes its event stream shows.
    static func runToTheEnd(_ directory: String, jobID: String) throws -> (job: [String: Any], states: [String],
                                                                           firstEpochPerRun: [Int]) {
        let port = try KillAndResumeTests.freePort()
        let daemon = try KillAndResumeTests.launch(dataDirectory: directory, port: port)
        defer {
            daemon.terminate()
            daemon.waitUntilExit()
        }
        let finished = try KillAndResumeTests.poll(jobID, port: port) {
            ($0["state"] as? String).map { ["succeeded", "failed", "cancelled"].contains($0) } ?? false
        }
        let events = EndToEndTests.parseEvents(try TestHTTPClient.request("GET", "/v1/jobs/\(jobID)/events",
                                                                          port: port).text)
        let states = events.filter { $0.event == "state" }.compactMap { $0.data["state"] as? String }
        // The epoch each run started training at: the first epoch event after each "running".
        var firstEpochPerRun: [Int] = []
        var isWaitingForEpoch = false
        for event in events {
            if event.event == "state" { isWaitingForEpoch = event.data["state"] as? String == "running" }
            if event.event == "epoch" && isWaitingForEpoch {
                firstEpochPerRun.append(event.data["epoch"] as? Int ?? 0)
                isWaitingForEpoch = false
            }
        }
        return (finished, states, firstEpochPerRun)
    }

    /// The store as the daemon left it, opened while no daemon runs.
    struct StoreSnapshot {
        var jobStates: [String: String]
        var epochRows: [String: Int]
        var modelIDs: Set<String>
        var orphanEvents: Int
        var orphanEpochs: Int

        init(_ directory: String) throws {
            let database = try SQLiteDatabase(path: directory + "/saed.db")
            jobStates = Dictionary(uniqueKeysWithValues: try database.query("SELECT id, state FROM jobs").map {
                ($0[0].text ?? "", $0[1].text ?? "")
            })
            epochRows = Dictionary(uniqueKeysWithValues: try database.query(
                "SELECT job_id, COUNT(*) FROM job_epochs GROUP BY job_id").map {
                    ($0[0].text ?? "", Int($0[1].integer ?? 0))
                })
            modelIDs = Set(try database.query("SELECT id FROM models").compactMap { $0[0].text })
            orphanEvents = Int(try database.query(
                "SELECT COUNT(*) FROM job_events WHERE job_id NOT IN (SELECT id FROM jobs)")[0][0].integer ?? -1)
            orphanEpochs = Int(try database.query(
                "SELECT COUNT(*) FROM job_epochs WHERE job_id NOT IN (SELECT id FROM jobs)")[0][0].integer ?? -1)
        }
    }

    /// Paths under `directory` of the atomic writes' temporary files.
    static func temporaryFiles(_ directory: String) -> [String] {
        let walker = FileManager.default.enumerator(atPath: directory)
        var found: [String] = []
        while let path = walker?.nextObject() as? String {
            let name = (path as NSString).lastPathComponent
            if name.hasPrefix(".") && name.hasSuffix(".tmp") { found.append(path) }
        }
        return found
    }

    static func inode(_ path: String) throws -> Int {
        try #require((try FileManager.default.attributesOfItem(atPath: path))[.systemFileNumber] as? Int)
    }

    static func expectBitIdentical(_ model: Autoencoder, _ reference: Autoencoder, _ what: String) {
        #expect(model.wEnc.map(\.bitPattern) == reference.wEnc.map(\.bitPattern), "W_enc of \(what)")
        #expect(model.bEnc.map(\.bitPattern) == reference.bEnc.map(\.bitPattern), "b_enc of \(what)")
        #expect(model.wDec.map(\.bitPattern) == reference.wDec.map(\.bitPattern), "W_dec of \(what)")
        #expect(model.bDec.map(\.bitPattern) == reference.bDec.map(\.bitPattern), "b_dec of \(what)")
    }

    /// After the final run: every job ended, no checkpoint or temporary file is left, and the
    /// store's models and the model folders are the same set, each folder loading.
    static func expectConsistent(_ directory: String) throws {
        let store = try StoreSnapshot(directory)
        #expect(store.jobStates.values.allSatisfy { ["succeeded", "failed", "cancelled"].contains($0) })
        #expect(store.orphanEvents == 0 && store.orphanEpochs == 0)
        #expect(temporaryFiles(directory) == [])
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/checkpoints") == [])
        let folders = Set(try FileManager.default.contentsOfDirectory(atPath: directory + "/models"))
        #expect(folders == store.modelIDs)
        for id in folders {
            #expect(throws: Never.self) { try Autoencoder.load(from: URL(fileURLWithPath: directory + "/models/" + id)) }
        }
    }

    /// Killed after writing the third checkpoint's bytes but before renaming them into place:
    /// the second checkpoint is intact, the store holds three epochs, and the restarted job
    /// resumes from epoch 2, re-runs epoch 3 without storing or sending it again, and ends
    /// with the reference weights and one record per epoch.
    @Test func crashWhileWritingACheckpointKeepsThePreviousOne() throws {
        #expect(FileManager.default.isExecutableFile(atPath: KillAndResumeTests.daemonPath), "build saed first")
        let reference = try Self.reference()
        let directory = try EndToEndTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }

        let id = try Self.runUntilCrash(directory, crashPoint: "before-rename:.ckpt:3")

        // The previous checkpoint is whole; the new bytes are only in a hidden temporary file.
        let checkpoint = try TrainingCheckpoint.read(from: URL(fileURLWithPath: "\(directory)/checkpoints/\(id).ckpt"))
        #expect(checkpoint.epochsCompleted == 2)
        let leftovers = Self.temporaryFiles(directory)
        #expect(leftovers.count == 1 && leftovers.allSatisfy { $0.hasPrefix("checkpoints/.\(id).ckpt.") }, "\(leftovers)")
        let store = try StoreSnapshot(directory)
        #expect(store.jobStates == [id: "running"])
        #expect(store.epochRows[id] == 3, "the third epoch is stored before its checkpoint")
        #expect(store.modelIDs.isEmpty)

        let (job, states, firstEpochs) = try Self.runToTheEnd(directory, jobID: id)
        #expect(job["state"] as? String == "succeeded", "\(job["error"] ?? "")")
        #expect(states == ["queued", "running", "queued", "running", "succeeded"])
        #expect(firstEpochs == [1, 4], "epoch 3, re-run from the second checkpoint, is not sent twice")
        #expect(Self.losses(job) == reference.losses)
        let epochs = (job["history"] as? [[String: Any]] ?? []).compactMap { $0["epoch"] as? Int }
        #expect(epochs == Array(1...reference.losses.count))
        let modelID = try #require(job["model_id"] as? String)
        Self.expectBitIdentical(try Autoencoder.load(from: URL(fileURLWithPath: "\(directory)/models/\(modelID)")).model,
                                reference.model, "the resumed job's model")
        try Self.expectConsistent(directory)
    }

    /// Killed after the model's files are in place but before its row (so no model exists),
    /// then, on the next start, killed again while rewriting the weights: each time the files
    /// on disk are whole, the previous weights stay in place untouched, and no row appears
    /// without them. The third start finishes the job and records the model.
    @Test func crashWhileSavingAModelLeavesNoRowAndThePreviousFilesIntact() throws {
        let reference = try Self.reference()
        let directory = try EndToEndTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }

        // 1. After renaming cfg.json, the last file, and before the models row.
        let id = try Self.runUntilCrash(directory, crashPoint: "after-rename:cfg.json:1")
        let modelID = "model_" + id.dropFirst("job_".count)
        let folder = "\(directory)/models/\(modelID)"
        Self.expectBitIdentical(try Autoencoder.load(from: URL(fileURLWithPath: folder)).model, reference.model,
                                "the files written before the crash")
        var store = try StoreSnapshot(directory)
        #expect(store.modelIDs.isEmpty, "no model row before both files are in place and recorded")
        #expect(store.jobStates == [id: "running"] && store.epochRows[id] == 6)
        #expect(Self.temporaryFiles(directory) == [])
        let weightsInode = try Self.inode("\(folder)/\(ModelFiles.weightsFileName)")

        // 2. The job resumes after its last epoch and saves again: killed before the new
        // weights are renamed into place, the previous file is the same file, whole.
        _ = try Self.runUntilCrash(directory, crashPoint: "before-rename:model.safetensors:1", jobID: id)
        #expect(try Self.inode("\(folder)/\(ModelFiles.weightsFileName)") == weightsInode)
        Self.expectBitIdentical(try Autoencoder.load(from: URL(fileURLWithPath: folder)).model, reference.model,
                                "the previous files after the second crash")
        let leftovers = Self.temporaryFiles(directory)
        #expect(leftovers.count == 1 && leftovers.allSatisfy { $0.hasPrefix("models/\(modelID)/.model.safetensors.") },
                "\(leftovers)")
        store = try StoreSnapshot(directory)
        #expect(store.modelIDs.isEmpty)

        // 3. Without the hook the job finishes; its model is recorded and loads.
        let (job, states, _) = try Self.runToTheEnd(directory, jobID: id)
        #expect(job["state"] as? String == "succeeded", "\(job["error"] ?? "")")
        #expect(states == ["queued", "running", "queued", "running", "queued", "running", "succeeded"])
        #expect(job["model_id"] as? String == modelID)
        #expect(Self.losses(job) == reference.losses)
        Self.expectBitIdentical(try Autoencoder.load(from: URL(fileURLWithPath: folder)).model, reference.model,
                                "the recorded model")
        #expect(try StoreSnapshot(directory).modelIDs == [modelID])
        try Self.expectConsistent(directory)
    }
}
