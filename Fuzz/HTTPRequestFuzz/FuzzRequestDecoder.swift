// saed-fuzz-http: the request decoder under libFuzzer, or a replayer of saved inputs.
//
// Built by scripts/fuzz-http.sh with `-sanitize=fuzzer -DSAED_LIBFUZZER`, its entry point hands
// control to libFuzzer's driver with the check below as the per-input callback. In a plain
// `swift build` it is an ordinary executable: `saed-fuzz-http FILE...` runs each file through the same check and
// prints its outcome, so a crasher can be replayed under a debugger. (The file is not named
// main.swift, so it is compiled as a library file and may, or may not, declare `@main`.)
//
// The check: decode the input in one piece and again one byte at a time; the two outcomes
// (requests, error status and message, bytes left over) must agree, since a server must not
// answer differently depending on how TCP split the bytes. Any disagreement, and any trap in
// the decoder, is a crash for libFuzzer.
import HTTPServer

/// Small limits, so that the fuzzer reaches every limit check with short inputs.
let fuzzLimits = RequestLimits(maxTargetLength: 64, maxHeaderBytes: 256, maxBodyBytes: 512)

/// Decodes `input` whole and byte by byte and traps if the outcomes differ.
func check(_ input: [UInt8]) -> RequestDecoder.Replay {
    let whole = RequestDecoder.replay(input, limits: fuzzLimits)
    let split = RequestDecoder.replay(input, limits: fuzzLimits, pieceSize: 1)
    guard whole == split else {
        fatalError("split-dependent outcome: whole \(whole); byte by byte \(split)")
    }
    return whole
}

#if SAED_LIBFUZZER
    /// libFuzzer's driver (in the runtime `-sanitize=fuzzer` links): parses the fuzzer's
    /// command line and calls `callback` once per input. Declared by hand; its arguments are
    /// plain pointers, which Swift passes as C does.
    @_silgen_name("LLVMFuzzerRunDriver")
    func runFuzzerDriver(
        _ argc: UnsafeMutablePointer<Int32>,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
        _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
    ) -> Int32

    /// The executable's entry point. SwiftPM links executables with `main` aliased to this
    /// name, so libFuzzer's own `main` cannot be used; this starts libFuzzer's driver instead.
    @_cdecl("saed_fuzz_http_main")
    func fuzzMain(
        _ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
    ) -> Int32 {
        var count = argc
        var arguments = argv
        return runFuzzerDriver(&count, &arguments) { data, size in
            let input = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
            _ = check(input)
            return 0
        }
    }
#else
    import Foundation

    /// Replays saved inputs through the check, one line of outcome per file.
    @main
    enum ReplayCommand {
        static func main() {
            let paths = CommandLine.arguments.dropFirst()
            if paths.isEmpty {
                print("usage: saed-fuzz-http FILE...  (replays each file through the check)")
                print("Fuzzing needs the libFuzzer build: scripts/fuzz-http.sh [seconds]")
            }
            for path in paths {
                guard let data = FileManager.default.contents(atPath: path) else {
                    print("\(path): cannot read")
                    exit(1)
                }
                print("\(path): \(check([UInt8](data)))")
            }
        }
    }
#endif
