import Foundation
import SAECore
import Synchronization
import Testing
@testable import SAEService

/// How a job starts and what it reports: `epochs: 0`, `init_from`, `shuffle: false`, and every
/// epoch metric reaching the history, the event stream, the metrics page and the README.
@Suite(.serialized)
struct JobStartTests {
    typealias Support = ModelConfigSupport

    /// 40 rows of 3 values, for every job here.
    static let data = Support.rows(40, width: 3, scales: [1, 2, 0.5], seed: 21)

    static func trainingSet(_ service: Service) throws -> Dataset {
        try CSVData.load(contentsOf: URL(fileURLWithPath: service.config.datasetsDirectory + "/i.csv"))
    }

    @Test func zeroEpochsSaveTheSeededInitialisationThroughTheDaemonAndTheCommand() throws {
        try LiveService.run { service in
            try Support.writeCSV(service, "i.csv", Self.data)
            let body = #"{"dataset": {"path": "i.csv"}, "model": {"hidden_size": 5}, "epochs": 0, "seed": 11}"#
            let job = try Support.runJob(service, body)
            #expect(job["state"] as? String == "succeeded", "\(job)")
            #expect((job["history"] as? [Any])?.isEmpty == true && job["epoch"] as? Int == 0)
            let id = try #require(job["model_id"] as? String)
            let initial = Autoencoder.initialized(config: AutoencoderConfig(inputSize: 3, hiddenSize: 5), seed: 11)
            #expect(try Support.savedWeights(service, id) == initial)
            #expect(try Support.modelJSON(service, id)["metrics"] == nil)

            // saed train does the same.
            let folder = service.config.dataDirectory + "/cli"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try body.write(toFile: folder + "/job.json", atomically: true, encoding: .utf8)
            let status = TrainCommand.run(jobFile: folder + "/job.json", config: service.config,
                                          outputDirectory: folder + "/out", progress: nil, print: { _ in })
            #expect(status == 0)
            #expect(try Autoencoder.load(from: URL(fileURLWithPath: folder + "/out")).model == initial)

            // And with init_from it starts from the daemon's saved model (the same weights here,
            // drawn with another seed otherwise).
            let fromModel = #"{"dataset": {"path": "i.csv"}, "model": {"hidden_size": 5}, "epochs": 0, "seed": 12, "#
                + #""init_from": "\#(id)"}"#
            try fromModel.write(toFile: folder + "/from.json", atomically: true, encoding: .utf8)
            let fromStatus = TrainCommand.run(jobFile: folder + "/from.json", config: service.config,
                                              outputDirectory: folder + "/from", progress: nil, print: { _ in })
            #expect(fromStatus == 0)
            #expect(try Autoencoder.load(from: URL(fileURLWithPath: folder + "/from")).model == initial)
            let printed = Mutex<[String]>([])
            let missing = fromModel.replacingOccurrences(of: id, with: "model_gone")
            try missing.write(toFile: folder + "/missing.json", atomically: true, encoding: .utf8)
            let missingStatus = TrainCommand.run(
                jobFile: folder + "/missing.json", config: service.config, outputDirectory: folder + "/missing",
                progress: nil, print: { line in printed.withLock { $0.append(line) } })
            #expect(missingStatus == 2)
            let lines = printed.withLock { $0 }
            #expect(lines.last?.contains(#"init_from: there is no model "model_gone""#) == true, "\(lines)")
        }
    }

    @Test func initFromContinuesFromTheModelsWeightsInFileOrder() throws {
        try LiveService.run { service in
            try Support.writeCSV(service, "i.csv", Self.data)
            let sparsity = #""sparsity": {"kind": "l1", "beta": 0.001}"#
            let source = try Support.trainModel(service, """
                {"dataset": {"path": "i.csv"}, "model": {"hidden_size": 4}, "epochs": 1, "batch_size": 8,
                 "seed": 1, \(sparsity)}
                """)
            let job = try Support.runJob(service, """
                {"dataset": {"path": "i.csv"}, "model": {"hidden_size": 4}, "init_from": "\(source)", "epochs": 1,
                 "batch_size": 8, "seed": 9, "shuffle": false, \(sparsity)}
                """)
            #expect(job["state"] as? String == "succeeded", "\(job)")
            // The stored record, bit for bit (a JSON round trip may lose the last digit).
            let jobID = try #require(job["id"] as? String)
            let record = try #require(try service.jobs.job(id: jobID).history.first)
            let loss = record.loss

            // The same epoch, trained here from the source's weights with the same options.
            let start = try Support.savedWeights(service, source)
            func firstEpoch(from model: Autoencoder, shuffle: Bool) throws -> (EpochRecord, Trainer) {
                let options = TrainingOptions(
                    epochs: 1, batchSize: 8, seed: 9, shuffle: shuffle,
                    sparsity: SparsityOptions(kind: .l1, beta: 0.001, k: 4))
                let trainer = try Trainer(model: model, options: options, training: Self.trainingSet(service),
                                          validation: nil)
                return (try #require(try trainer.trainEpoch()), trainer)
            }
            let (expected, trainer) = try firstEpoch(from: start, shuffle: false)
            #expect(loss == expected.loss, "job \(loss), reference \(expected.loss)")
            #expect(record.reconstruction == expected.reconstruction && record.l0 == expected.l0)
            #expect(try Support.savedWeights(service, try #require(job["model_id"] as? String)) == trainer.model)
            // Neither the seed's initialisation nor a shuffled order gives that loss.
            let seeded = Autoencoder.initialized(config: start.config, seed: 9)
            #expect(try firstEpoch(from: seeded, shuffle: false).0.loss != loss)
            #expect(try firstEpoch(from: start, shuffle: true).0.loss != loss)
        }
    }

    @Test func badInitFromIsRefusedNamingTheField() throws {
        try LiveService.run { service in
            try Support.writeCSV(service, "i.csv", Self.data)
            try Support.writeCSV(service, "wide.csv", Support.rows(10, width: 5))
            let source = try Support.trainModel(
                service, #"{"dataset": {"path": "i.csv"}, "model": {"hidden_size": 4}, "epochs": 0}"#)
            let refused: [(String, String)] = [
                (#"{"dataset": {"path": "i.csv"}, "model": {"hidden_size": 4}, "init_from": "model_nope"}"#,
                 #"there is no model "model_nope""#),
                (#"{"dataset": {"path": "i.csv"}, "model": {"hidden_size": 8}, "init_from": "\#(source)"}"#,
                 "has 4 latents but model.hidden_size is 8"),
                (#"{"dataset": "fashion-mnist", "model": {"hidden_size": 4}, "init_from": "\#(source)"}"#,
                 "takes 3 inputs but the dataset rows have 784 values"),
            ]
            for (body, message) in refused {
                for path in ["/v1/jobs", "/v1/jobs:validate"] {
                    let response = try TestHTTPClient.request("POST", path, port: service.port, body: body)
                    #expect(response.status == 400, "\(path) \(body): \(response.text)")
                    let error = try RawHTTP.error(response)
                    #expect(error["field"] as? String == "init_from")
                    #expect((error["message"] as? String)?.contains(message) == true, "\(error)")
                }
            }
            // A file's width is known when the job starts: the job fails saying why.
            let job = try Support.runJob(
                service, #"{"dataset": {"path": "wide.csv"}, "model": {"hidden_size": 4}, "init_from": "\#(source)"}"#)
            let failure = try #require(job["error"] as? [String: Any])
            #expect(job["state"] as? String == "failed" && failure["code"] as? String == "invalid_field")
            let message = failure["message"] as? String ?? ""
            #expect(message.contains("takes 3 inputs but the dataset rows have 5 values"), "\(message)")
        }
    }

    /// Every field of an epoch record, as the API spells it.
    static let recordKeys: Set<String> = [
        "epoch", "loss", "reconstruction", "sparsity", "l0", "dead_fraction", "dead_count",
        "validation_reconstruction", "validation_l0", "seconds", "samples_per_second", "steps", "fvu",
        "normalized_mse", "auxiliary_loss", "weight_penalty", "learning_rate", "validation_loss",
        "validation_fvu", "validation_normalized_mse", "validation_sparsity", "validation_dead_fraction",
        "validation_dead_count",
    ]

    @Test func everyEpochMetricReachesTheHistoryTheEventsAndTheMetricsPage() throws {
        try LiveService.run { service in
            try Support.writeCSV(service, "i.csv", Self.data)
            try Support.writeCSV(service, "v.csv", Support.rows(12, width: 3, seed: 5))
            let job = try Support.runJob(service, """
                {"dataset": {"path": "i.csv"}, "validation": {"path": "v.csv"}, "model": {"hidden_size": 6},
                 "sparsity": {"kind": "topk", "k": 2, "aux_k": 2}, "l2_weights": 0.001, "epochs": 1, "batch_size": 8}
                """)
            let id = try #require(job["id"] as? String)
            let history = try #require((job["history"] as? [[String: Any]])?.first)
            let page = try TestHTTPClient.request("GET", "/v1/jobs/\(id)/metrics", port: service.port).json()
            let paged = try #require((page["metrics"] as? [[String: Any]])?.first)
            let stream = try TestHTTPClient.request("GET", "/v1/jobs/\(id)/events", port: service.port).text
            let event = try #require(EndToEndTests.parseEvents(stream).first { $0.event == "epoch" }?.data)
            for (what, record) in [("history", history), ("metrics page", paged), ("event", event)] {
                #expect(Set(record.keys) == Self.recordKeys, "\(what): \(record.keys.sorted())")
                #expect(record.values.allSatisfy { $0 is NSNumber }, "\(what)")
            }
        }
    }

    @Test func readmeDefinesEveryEpochMetric() throws {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        let section = try #require(text.components(separatedBy: "### Epoch records").dropFirst().first?
            .components(separatedBy: "\n## ").first)
        for key in Self.recordKeys {
            #expect(section.contains("`\(key)`"), "README's epoch record table lacks \(key)")
        }
    }
}
