import Foundation
import Testing
@testable import SAEService

/// Deleting a dataset while jobs are submitted on it: the check that no job uses it and the
/// delete are one step as far as submissions go, so a job is never queued on a deleted dataset.
@Suite(.serialized)
struct DatasetDeleteRaceTests {
    static func longJob(_ dataset: String) -> String {
        #"{"dataset": \#(dataset), "model": {"hidden_size": 3}, "epochs": 100000, "batch_size": 16}"#
    }

    /// A submission that arrives while the delete holds submissions waits for it, and then
    /// finds the dataset gone. (Checked outside the hold, it would pass its dataset check
    /// during the pause and queue a job on a dataset deleted a moment later.)
    @Test func aSubmissionDuringTheDeleteWaitsAndIsRefused() throws {
        try LiveService.run { service in
            let uploaded = try DatasetAPITests.upload(DatasetAPITests.csv, contentType: "text/csv", port: service.port)
            let id = try #require(try uploaded.json()["id"] as? String)
            let spec = try JobSpec.parse(JSONValue.parse(Array(Self.longJob(#"{"id": "\#(id)"}"#).utf8)))

            let held = DispatchSemaphore(value: 0)
            let submitted = DispatchSemaphore(value: 0)
            nonisolated(unsafe) var outcome: Result<Job, any Error>?
            Thread {
                held.wait()
                outcome = Result { try service.jobs.submit(spec).job }
                submitted.signal()
            }.start()
            try service.jobs.withSubmissionsHeld { unfinished in
                #expect(unfinished.isEmpty)
                held.signal()
                Thread.sleep(forTimeInterval: 0.2)  // the submitter is now blocked on the hold
                try service.uploads.remove(id: id)
            }
            #expect(submitted.wait(timeout: .now() + 30) == .success)

            switch outcome {
            case .failure(let error as ServiceError)?:
                #expect(error.code == "dataset_not_found", "\(error)")
            case .success(let job)?:
                Issue.record("job \(job.id) was queued on the deleted dataset \(id)")
            default:
                Issue.record("unexpected outcome \(String(describing: outcome))")
            }
            #expect(service.jobs.list().map(\.id) == [])
        }
    }

    /// Submissions (by id and by a path spelt differently from the stored one) race deletes of
    /// fresh datasets, 30 rounds: in each, exactly one of the two wins, and when the delete
    /// wins no job names the dataset.
    @Test func concurrentSubmitAndDeleteNeverLeaveAJobOnADeletedDataset() throws {
        try LiveService.run({ $0.maxQueuedJobs = 64 }) { service in
            let port = service.port
            var outcomes: [String: Int] = [:]
            for round in 0..<30 {
                let uploaded = try DatasetAPITests.upload(DatasetAPITests.csv, contentType: "text/csv", port: port)
                    .json()
                let id = try #require(uploaded["id"] as? String)
                let path = try #require(uploaded["path"] as? String).replacingOccurrences(of: "/", with: "/./")
                let reference = round % 2 == 0 ? #"{"id": "\#(id)"}"# : #"{"path": "\#(path)"}"#

                // Both requests leave together, the submission after a pause of 0 to 2 ms that varies
                // by round, so that each side sometimes reaches the manager first.
                let start = DispatchSemaphore(value: 0)
                let done = DispatchGroup()
                nonisolated(unsafe) var submit: TestResponse?
                nonisolated(unsafe) var delete: TestResponse?
                done.enter()
                done.enter()
                Thread {
                    start.wait()
                    Thread.sleep(forTimeInterval: Double(round % 3) * 0.001)
                    submit = try? TestHTTPClient.request("POST", "/v1/jobs", port: port, body: Self.longJob(reference))
                    done.leave()
                }.start()
                Thread {
                    start.wait()
                    delete = try? TestHTTPClient.request("DELETE", "/v1/datasets/\(id)", port: port)
                    done.leave()
                }.start()
                start.signal()
                start.signal()
                #expect(done.wait(timeout: .now() + 60) == .success)

                let submitted = try #require(submit)
                let deleted = try #require(delete)
                outcomes["submit \(submitted.status), delete \(deleted.status)", default: 0] += 1
                switch (submitted.status, deleted.status) {
                case (202, 409):
                    // The job won: the dataset is still there, and the refusal names the job.
                    let jobID = try #require(try submitted.json()["id"] as? String)
                    #expect(try (RawHTTP.error(deleted)["message"] as? String ?? "").contains(jobID))
                    #expect(try TestHTTPClient.request("GET", "/v1/datasets/\(id)", port: port).status == 200)
                    _ = try TestHTTPClient.request("POST", "/v1/jobs/\(jobID)/cancel", port: port, body: "")
                case (422, 204):
                    // The delete won: the job was refused for want of its dataset.
                    #expect(try RawHTTP.error(submitted)["code"] as? String == "dataset_not_found")
                default:
                    let submitText = String(submitted.text.prefix(200))
                    let deleteText = String(deleted.text.prefix(200))
                    let problem = "round \(round): submit \(submitted.status) \(submitText), "
                        + "delete \(deleted.status) \(deleteText)"
                    Issue.record(Comment(rawValue: problem))
                }
            }

            // Every job that has not ended still finds its dataset.
            for job in service.jobs.list() where !job.state.isFinished {
                let reference = try JobSpec.parse(job.spec).training.reference
                #expect((try? service.datasets.resolve(reference, field: "dataset")) != nil,
                        "job \(job.id) (\(job.state)) names a deleted dataset: \(reference)")
            }
            print("dataset delete race outcomes: \(outcomes.sorted { $0.key < $1.key })")
        }
    }
}
