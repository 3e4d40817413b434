import Foundation
import HTTPServer

/// Follows one job's events and writes them to a client as Server-Sent Events
/// (`id:`, `event:`, `data:`) or as JSON lines, ending after the job's `end` event.
///
/// Runs on the server's streaming thread; blocks while it waits for events, sending a
/// heartbeat comment when nothing happened for `heartbeatSeconds`. When the daemon stops, the
/// stream sends the job's last events (a running job's return to the queue) and ends.
struct EventStream: Sendable {
    let jobs: JobManager
    let jobID: String
    let after: Int
    let isNDJSON: Bool
    let heartbeatSeconds: Double

    func run(_ writer: ResponseWriter) {
        var last = after
        var idleSeconds = 0.0
        // Short waits so a vanished client is noticed within a second.
        let wait = min(heartbeatSeconds, 1)
        while !writer.isClosed {
            guard let (events, isFinished, isStopped) = try? jobs.events(forJob: jobID, after: last, waitSeconds: wait)
            else {
                return
            }
            if events.isEmpty {
                if isFinished || isStopped { return }
                idleSeconds += wait
                if idleSeconds >= heartbeatSeconds {
                    idleSeconds = 0
                    guard writer.write(Array((isNDJSON ? "\n" : ": heartbeat\n\n").utf8)) else { return }
                }
                continue
            }
            idleSeconds = 0
            for event in events {
                guard writer.write(Array(format(event).utf8)) else { return }
                last = event.id
                if event.kind == .end { return }
            }
            // The daemon is stopping: what was just sent is all there will be.
            if isStopped { return }
        }
    }

    private func format(_ event: JobEvent) -> String {
        if isNDJSON {
            return #"{"id":\#(event.id),"event":"\#(event.kind.rawValue)","data":\#(event.data)}"# + "\n"
        }
        return "id: \(event.id)\nevent: \(event.kind.rawValue)\ndata: \(event.data)\n\n"
    }
}
