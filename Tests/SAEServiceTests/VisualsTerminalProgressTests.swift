import Foundation
import Synchronization
import Testing
@testable import SAEService

/// The progress bar of `saed train`: its layout, and the run drawing it between epoch lines.
struct VisualsTerminalProgressTests {
    static let status = TerminalProgress.Status(
        epoch: 3, epochs: 10, batchesDone: 469, batches: 938, step: 2345, loss: 0.021314,
        samplesPerSecond: 4210.4, secondsLeft: 7.2)

    @Test func lineShowsEpochStepLossAndRateWithinTheWidth() {
        let progress = TerminalProgress(columns: 120) { _ in }
        let line = progress.line(for: Self.status)
        let bar = String(repeating: "█", count: 20) + String(repeating: "░", count: 20)
        #expect(line.hasPrefix("epoch 3/10 " + bar))
        #expect(line.hasSuffix("  50% step 2,345 loss 0.02131 4,210 samples/s 0:08 left"))
        #expect(line.count <= 119)
    }

    @Test func narrowTerminalsShrinkThenDropTheBar() {
        let narrow = TerminalProgress(columns: 80) { _ in }.line(for: Self.status)
        #expect(narrow.count == 79)
        #expect(narrow.contains("█"))
        let tiny = TerminalProgress(columns: 40) { _ in }.line(for: Self.status)
        #expect(tiny.count == 39)
        #expect(!tiny.contains("█") && tiny.hasPrefix("epoch 3/10  50%"))
    }

    @Test func firstEpochShowsNoLossYet() {
        var status = Self.status
        status.loss = nil
        status.secondsLeft = nil
        let line = TerminalProgress(columns: 100) { _ in }.line(for: status)
        #expect(line.hasSuffix("loss – 4,210 samples/s"))
    }

    @Test func numbersAndClocksFormat() {
        #expect(TerminalProgress.grouped(0) == "0")
        #expect(TerminalProgress.grouped(999) == "999")
        #expect(TerminalProgress.grouped(1_234_567) == "1,234,567")
        #expect(TerminalProgress.clock(7.2) == "0:08")
        #expect(TerminalProgress.clock(3725) == "1:02:05")
    }

    @Test func trainDrawsTheBarBetweenPlainEpochLines() throws {
        let directory = NSTemporaryDirectory() + "saed-train-bar-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try TinyModel.csv.write(toFile: directory + "/tiny.csv", atomically: true, encoding: .utf8)
        let job = directory + "/job.json"
        try #"{"dataset": {"path": "tiny.csv"}, "model": {"hidden_size": 3}, "epochs": 2, "batch_size": 1}"#
            .write(toFile: job, atomically: true, encoding: .utf8)
        var config = ServiceConfig()
        config.datasetsDirectory = directory

        // One stream of everything written, as a terminal would receive it.
        let screen = Mutex<[String]>([])
        var progress = TerminalProgress(columns: 100) { text in screen.withLock { $0.append(text) } }
        progress.redrawSeconds = 0
        let status = TrainCommand.run(jobFile: job, config: config, outputDirectory: directory + "/model",
                                      progress: progress) { line in screen.withLock { $0.append(line + "\n") } }
        #expect(status == 0)

        let writes = screen.withLock { $0 }
        let bars = writes.filter { $0.hasPrefix(TerminalProgress.clearLine + "epoch ") }
        #expect(bars.count == 8, "one redraw per batch: 4 batches × 2 epochs")
        #expect(bars.first?.contains("epoch 1/2") == true && bars.first?.contains("loss –") == true)
        #expect(bars.last?.contains("epoch 2/2") == true && bars.last?.contains("100% step 8 loss") == true)
        // Each epoch's plain line comes right after the bar is erased.
        let lines = writes.enumerated().filter { $0.element.hasPrefix("epoch ") }
        #expect(lines.count == 2)
        for (index, _) in lines {
            #expect(writes[index - 1] == TerminalProgress.clearLine)
        }
    }

    @Test func withoutATerminalOnlyPlainLinesArePrinted() throws {
        let directory = NSTemporaryDirectory() + "saed-train-plain-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try TinyModel.csv.write(toFile: directory + "/tiny.csv", atomically: true, encoding: .utf8)
        let job = directory + "/job.json"
        try #"{"dataset": {"path": "tiny.csv"}, "model": {"hidden_size": 3}, "epochs": 2}"#
            .write(toFile: job, atomically: true, encoding: .utf8)
        var config = ServiceConfig()
        config.datasetsDirectory = directory
        let printed = Mutex<[String]>([])
        let status = TrainCommand.run(jobFile: job, config: config, outputDirectory: directory + "/model",
                                      progress: nil) { line in printed.withLock { $0.append(line) } }
        #expect(status == 0)
        let lines = printed.withLock { $0 }
        #expect(lines.count == 4)
        #expect(lines.allSatisfy { !$0.contains("\u{1B}") && !$0.contains("\r") })
    }
}
