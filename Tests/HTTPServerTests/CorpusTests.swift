import Foundation
import Testing

@testable import HTTPServer

/// Every input in `Corpus/` (malformed requests, a few valid seeds, and inputs the fuzzer found)
/// run through the decoder as the event loop drives it: whole, byte by byte and in odd pieces.
struct CorpusTests {
    /// The limits a server might run with, small enough that the large inputs pass them.
    static let limits = RequestLimits(
        maxTargetLength: 8_192, maxHeaderBytes: 16_384, maxBodyBytes: 32_768)

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Corpus")

    /// The corpus file names, sorted.
    static let names: [String] =
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted()

    @Test func corpusIsPresent() {
        #expect(Self.names.count >= 80)
    }

    @Test(arguments: Self.names)
    func inputDecodesToTheSameDefiniteOutcomeHoweverItIsSplit(_ name: String) throws {
        let input = try [UInt8](Data(contentsOf: Self.directory.appendingPathComponent(name)))

        let whole = RequestDecoder.replay(input, limits: Self.limits)

        #expect(whole.isDefinite, "\(name): \(whole)")
        if let error = whole.error {
            #expect((400..<600).contains(error.status), "\(name): \(error)")
        }
        for pieceSize in [1, 7, 1_000] {
            let split = RequestDecoder.replay(input, limits: Self.limits, pieceSize: pieceSize)
            #expect(split == whole, "\(name) in pieces of \(pieceSize)")
        }
    }

    @Test func smugglingAttemptsAreRefused() throws {
        for name in ["te-and-content-length", "te-content-length-first", "te-in-http10"] {
            let input = try [UInt8](
                Data(contentsOf: Self.directory.appendingPathComponent(name + ".http")))

            let replay = RequestDecoder.replay(input, limits: Self.limits)

            #expect(replay.requests.isEmpty, "\(name)")
            #expect(replay.error?.status == 400, "\(name)")
        }
    }
}
