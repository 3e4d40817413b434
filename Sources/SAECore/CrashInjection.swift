// TEST HOOK, off unless its environment variable is set: lets the crash tests stop the process
// at an exact point inside an atomic file write, to prove that a crash there loses nothing.
//
//   SAED_TEST_CRASH_AT=<point>:<file name suffix>:<occurrence>
//
//   point       before-rename  the temporary file is written and synced, the target untouched
//               after-rename   the target is replaced and its directory synced, and the caller
//                              has not yet recorded it (the model's row, say)
//   suffix      which writes count: those whose target file name ends with it (".ckpt",
//               "model.safetensors", "cfg.json")
//   occurrence  the 1-based count of matching writes at which to stop
//
// At that point the process sends itself SIGKILL: no handler, no buffered output, no atexit,
// exactly as if the machine had killed it. Never set it outside a test.

import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The crash test hook read from `SAED_TEST_CRASH_AT`; see the file header.
package struct CrashInjection: Sendable, Equatable {
    /// A point inside `AtomicFile.write(to:_:)` where the hook can stop the process.
    package enum Point: String, Sendable {
        case beforeRename = "before-rename"
        case afterRename = "after-rename"
    }

    /// The environment variable that arms the hook.
    package static let environmentKey = "SAED_TEST_CRASH_AT"

    package var point: Point
    package var fileSuffix: String
    package var occurrence: Int

    /// Reads `point:suffix:occurrence`; nil for anything else, so a typo never crashes a daemon.
    package init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, let point = Point(rawValue: String(parts[0])), !parts[1].isEmpty,
              let occurrence = Int(parts[2]), occurrence >= 1 else { return nil }
        self.point = point
        self.fileSuffix = String(parts[1])
        self.occurrence = occurrence
    }

    /// The hook as this process's environment sets it, read once; nil when it is off.
    static let armed: CrashInjection? =
        ProcessInfo.processInfo.environment[environmentKey].flatMap(CrashInjection.init)

    /// Matching writes that have passed the armed point so far.
    private static let matches = Atomic<Int>(0)

    /// Called by the atomic write at each point; kills the process when the armed point, file
    /// and occurrence are reached. Costs one optional check when the hook is off.
    static func reach(_ point: Point, file: String) {
        guard let armed, armed.point == point, file.hasSuffix(armed.fileSuffix) else { return }
        if matches.add(1, ordering: .relaxed).newValue == armed.occurrence {
            kill(getpid(), SIGKILL)
            _exit(137)  // not reached: SIGKILL to oneself is delivered before kill returns
        }
    }
}
