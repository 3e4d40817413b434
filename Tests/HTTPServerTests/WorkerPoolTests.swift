import Foundation
import Testing

@testable import HTTPServer

/// The worker pool on its own: reuse, never waiting behind a blocked job, idle exit.
struct WorkerPoolTests {
    @Test func sequentialJobsReuseOneThread() {
        let pool = WorkerPool(name: "test.pool")
        defer { pool.stop() }
        let done = Probe(0)

        for _ in 0..<50 {
            let before = done.get()
            pool.submit { done.set(before + 1) }
            #expect(done.wait(seconds: 2) { $0 == before + 1 })
            usleep(1_000)  // let the thread park again
        }

        #expect(pool.threadCount == 1)
    }

    @Test func blockedJobsNeverDelayANewOne() {
        let pool = WorkerPool(name: "test.pool")
        defer { pool.stop() }
        let release = Probe(false)
        for _ in 0..<16 {
            pool.submit { _ = release.wait(seconds: 5) { $0 } }
        }

        let ran = Probe(false)
        let started = Date()
        pool.submit { ran.set(true) }

        #expect(ran.wait(seconds: 1) { $0 })
        #expect(Date().timeIntervalSince(started) < 0.2)
        #expect(pool.threadCount == 17)
        release.set(true)
    }

    @Test func idleThreadsExitDownToTheKeptOnes() {
        let pool = WorkerPool(name: "test.pool", idleSeconds: 0.1, keptThreads: 1)
        defer { pool.stop() }
        let release = Probe(false)
        for _ in 0..<4 {
            pool.submit { _ = release.wait(seconds: 5) { $0 } }
        }
        #expect(pool.threadCount == 4)

        release.set(true)

        #expect(Probe(0).wait(seconds: 2) { _ in pool.threadCount == 1 })
    }

    @Test func stopLetsParkedThreadsExit() {
        let pool = WorkerPool(name: "test.pool")
        let done = Probe(false)
        pool.submit { done.set(true) }
        #expect(done.wait(seconds: 2) { $0 })

        pool.stop()

        #expect(Probe(0).wait(seconds: 2) { _ in pool.threadCount == 0 })
    }
}
