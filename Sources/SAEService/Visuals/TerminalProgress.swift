import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where `saed train` draws its progress bar: a terminal's width and a way to write to it
/// without a line break.
package struct TerminalProgress: Sendable {
    /// The terminal's width in columns.
    package var columns: Int
    /// Writes text as it is (no newline added) and flushes it.
    package var write: @Sendable (String) -> Void
    /// Seconds between redraws; a terminal need not repaint for every batch.
    package var redrawSeconds = 0.1

    package init(columns: Int, write: @escaping @Sendable (String) -> Void) {
        self.columns = columns
        self.write = write
    }

    /// Progress on standard output when it is a terminal, or nil when it is a pipe or file
    /// (then `saed train` prints plain lines only).
    package static func standardOutput() -> TerminalProgress? {
        guard isatty(STDOUT_FILENO) == 1 else { return nil }
        var size = winsize()
        let columns = ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 ? Int(size.ws_col) : 80
        return TerminalProgress(columns: columns) { text in
            // Through Swift's print, so the bar and the lines share one stdio buffer and never
            // overtake each other; fflush(nil) pushes the partial line out at once.
            Swift.print(text, terminator: "")
            fflush(nil)
        }
    }

    /// Carriage return plus "erase to end of line": the next text replaces the bar.
    package static let clearLine = "\r\u{1B}[K"

    /// What the bar shows at one moment of an epoch.
    package struct Status: Sendable, Equatable {
        package var epoch: Int
        package var epochs: Int
        package var batchesDone: Int
        package var batches: Int
        /// Optimiser steps taken in total.
        package var step: Int
        /// The latest loss known: the last finished epoch's mean, nil during the first epoch.
        package var loss: Double?
        /// Training samples per second in this epoch so far.
        package var samplesPerSecond: Double
        /// Seconds left in this epoch at the current rate, when known.
        package var secondsLeft: Double?

        package init(epoch: Int, epochs: Int, batchesDone: Int, batches: Int, step: Int, loss: Double?,
                     samplesPerSecond: Double, secondsLeft: Double?) {
            self.epoch = epoch
            self.epochs = epochs
            self.batchesDone = batchesDone
            self.batches = batches
            self.step = step
            self.loss = loss
            self.samplesPerSecond = samplesPerSecond
            self.secondsLeft = secondsLeft
        }
    }

    /// The bar as one line of at most `columns - 1` characters, for example
    /// `epoch 3/10 ██████░░░░░░  48% step 2,345 loss 0.02131 4,210 samples/s 0:07 left`.
    ///
    /// The bar shrinks (down to nothing) to keep the figures on one line.
    package func line(for status: Status) -> String {
        let share = status.batches > 0 ? Double(status.batchesDone) / Double(status.batches) : 0
        let head = "epoch \(status.epoch)/\(status.epochs) "
        var tail = String(format: " %3.0f%%", share * 100) + " step \(Self.grouped(status.step))"
        tail += status.loss.map { String(format: " loss %.5f", $0) } ?? " loss –"
        tail += " \(Self.grouped(Int(status.samplesPerSecond.rounded()))) samples/s"
        if let left = status.secondsLeft, left.isFinite {
            tail += " \(Self.clock(left)) left"
        }
        let room = columns - 1 - head.count - tail.count
        guard room >= 5 else { return String((head.dropLast() + tail).prefix(max(columns - 1, 0))) }
        let width = min(room, 40)
        let filled = min(Int((share * Double(width)).rounded(.down)), width)
        return head + String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled) + tail
    }

    /// `1234567` as `1,234,567`.
    static func grouped(_ value: Int) -> String {
        let digits = String(abs(value))
        var out = ""
        for (offset, digit) in digits.enumerated() {
            if offset > 0 && (digits.count - offset) % 3 == 0 { out += "," }
            out.append(digit)
        }
        return value < 0 ? "-" + out : out
    }

    /// Seconds as `m:ss`, or `h:mm:ss` past an hour.
    static func clock(_ seconds: Double) -> String {
        let total = Int(seconds.rounded(.up))
        let (hours, minutes, rest) = (total / 3600, total / 60 % 60, total % 60)
        if hours > 0 { return String(format: "%d:%02d:%02d", hours, minutes, rest) }
        return String(format: "%d:%02d", minutes, rest)
    }
}
