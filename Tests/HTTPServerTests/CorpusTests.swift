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

    /// What each hand-written input must decode to: the requests before the end, and the
    /// status of the error that ended decoding (nil when none did). Inputs the fuzzer found
    /// (`fuzz-…`) need only a definite outcome.
    static let expected: [String: (requests: Int, status: Int?)] = [
        "binary-garbage": (0, 400),
        "chunk-bare-cr-in-size": (0, 400),
        "chunk-body-over-limit": (0, 413),
        "chunk-data-bare-lf": (1, nil),
        "chunk-data-too-long": (0, 400),
        "chunk-extension": (1, nil),
        "chunk-missing-terminator": (0, 400),
        "chunk-size-invalid": (0, 400),
        "chunk-size-leading-zeros": (0, 400),
        "chunk-size-line-too-long": (0, 400),
        "chunk-size-negative": (0, 400),
        "chunk-size-overflow": (0, 413),
        "chunk-trailers-too-large": (0, 431),
        "chunk-trailers": (1, nil),
        "content-length-conflicting": (0, 400),
        "content-length-empty": (0, 400),
        "content-length-hex": (0, 400),
        "content-length-huge": (0, 413),
        "content-length-leading-zeros": (1, nil),
        "content-length-list-conflicting": (0, 400),
        "content-length-negative": (0, 400),
        "content-length-non-numeric": (0, 400),
        "content-length-over-limit": (0, 413),
        "content-length-plus-sign": (0, 400),
        "content-length-repeated-equal": (1, nil),
        "content-length-space-inside": (0, 400),
        "empty-lines-before-request": (1, nil),
        "expect-continue": (1, nil),
        "expect-unknown": (1, nil),
        "header-bad-name-character": (0, 400),
        "header-bare-cr-in-value": (0, 400),
        "header-empty-name": (0, 400),
        "header-first-line-folded": (0, 400),
        "header-lf-only-line-endings": (1, nil),
        "header-many-fields": (0, 431),
        "header-mixed-line-endings": (1, nil),
        "header-no-colon": (0, 400),
        "header-nul-in-value": (0, 400),
        "header-obs-fold-tab": (0, 400),
        "header-obs-fold": (0, 400),
        "header-section-too-large": (0, 431),
        "header-space-before-colon": (0, 400),
        "header-tab-before-colon": (0, 400),
        "host-ipv6-literal": (1, nil),
        "host-missing-http10": (1, nil),
        "host-missing": (0, 400),
        "host-repeated": (0, 400),
        "host-with-space": (0, 400),
        "host-with-userinfo": (0, 400),
        "http2-preface": (0, 505),
        "pipelined-smuggled-after-chunked": (1, 400),
        "pipelined-then-garbage": (2, 400),
        "pipelined-three": (3, nil),
        "request-line-bad-method": (0, 400),
        "request-line-bare-cr": (0, 400),
        "request-line-del-in-target": (0, 400),
        "request-line-double-space": (0, 400),
        "request-line-leading-space": (0, 400),
        "request-line-long-method": (0, 414),
        "request-line-long-target": (0, 414),
        "request-line-lowercase-version": (0, 400),
        "request-line-missing-version": (0, 400),
        "request-line-nul-in-target": (0, 400),
        "request-line-tab-separator": (0, 400),
        "request-line-trailing-space": (0, 400),
        "request-line-unknown-method": (1, nil),
        "request-line-utf8-target": (0, 400),
        "request-line-version-09": (0, 400),
        "request-line-version-2": (0, 505),
        "request-line-version-digits": (0, 400),
        "target-absolute-form": (1, nil),
        "target-asterisk": (1, nil),
        "target-authority-form": (0, 400),
        "target-bad-percent": (0, 400),
        "target-fragment": (0, 400),
        "target-percent-invalid-utf8": (0, 400),
        "target-query-bad-percent": (0, 400),
        "target-relative": (0, 400),
        "target-truncated-percent": (0, 400),
        "te-and-content-length": (0, 400),
        "te-chunked-not-last": (0, 400),
        "te-chunked-twice": (0, 400),
        "te-content-length-first": (0, 400),
        "te-gzip-chunked": (0, 501),
        "te-identity": (0, 400),
        "te-in-http10": (0, 400),
        "te-obfuscated": (0, 400),
        "te-uppercase-chunked": (1, nil),
        "tls-client-hello-prefix": (0, 400),
        "valid-get": (1, nil),
        "valid-post": (1, nil),

    ]

    @Test func everyHandWrittenInputHasItsExpectedOutcome() {
        let handWritten = Set(Self.names.filter { !$0.hasPrefix("fuzz-") }.map { String($0.dropLast(5)) })
        #expect(handWritten == Set(Self.expected.keys), "corpus files and the table of outcomes differ")
    }

    @Test(arguments: Self.expected.keys.sorted())
    func inputDecodesToItsExpectedOutcome(_ name: String) throws {
        let input = try [UInt8](Data(contentsOf: Self.directory.appendingPathComponent(name + ".http")))
        let replay = RequestDecoder.replay(input, limits: Self.limits)
        let expected = try #require(Self.expected[name])
        #expect(replay.requests.count == expected.requests, "\(name): \(replay)")
        #expect(replay.error?.status == expected.status, "\(name): \(replay)")
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
