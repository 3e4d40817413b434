import Foundation

/// This process's memory and CPU figures, read from `/proc/self/status` (Linux only).
enum ProcessMemory {
    /// Peak resident set size so far (`VmHWM`), in KiB, or nil where /proc is missing.
    static var peakResidentKiB: Int? { field("VmHWM") }

    /// Current resident set size (`VmRSS`), in KiB, or nil where /proc is missing.
    static var residentKiB: Int? { field("VmRSS") }

    /// CPU time used so far by all of this process's threads, in seconds.
    static var cpuSeconds: Double {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    /// The value of a `Name:   1234 kB` line of /proc/self/status.
    private static func field(_ name: String) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix(name + ":") {
            let number = line.dropFirst(name.count + 1).filter(\.isNumber)
            return Int(number)
        }
        return nil
    }
}

/// Formats `kib` as MiB with one decimal, or "n/a".
func mebibytes(_ kib: Int?) -> String {
    guard let kib else { return "n/a" }
    return String(format: "%.1f MiB", Double(kib) / 1024)
}
