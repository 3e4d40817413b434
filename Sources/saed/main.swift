// saed: the sparse-autoencoder training daemon. This file only reads the command line and
// wires the service together; everything else lives in SAEService.
import Foundation
import SAEService

let usage = """
    usage: saed [serve] [options]        run the daemon
           saed train JOB.json [options] train one job in the foreground, one line per epoch

    options:
      --config FILE           config file (default: config/saed.json when it exists)
      --host HOST             address to listen on (default 127.0.0.1)
      --port N                port (default 8080; 0 picks a free one)
      --data-dir DIR          where jobs and models are stored
      --datasets-dir DIR      the directory job dataset paths are relative to
      --fashion-mnist-dir DIR where the fashion-mnist IDX files are
      --jobs N                jobs trained at the same time
      --log-level LEVEL       trace, debug, info, notice, warning, error or critical
      --out DIR               (train) where to save the model
      -h, --help              this text
    """

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("saed: \(message)\n".utf8))
    exit(2)
}

var arguments = Array(CommandLine.arguments.dropFirst())
var command = "serve"
if let first = arguments.first, !first.hasPrefix("-") {
    command = first
    arguments.removeFirst()
}
var positional: [String] = []
var flags: [String: String] = [:]
while !arguments.isEmpty {
    let argument = arguments.removeFirst()
    if argument == "-h" || argument == "--help" {
        print(usage)
        exit(0)
    }
    guard argument.hasPrefix("--") else {
        positional.append(argument)
        continue
    }
    // An empty value is no value: `--data-dir ''` would otherwise mean the current directory.
    guard let value = arguments.first, !value.isEmpty else { fail("\(argument) needs a value\n\(usage)") }
    arguments.removeFirst()
    flags[String(argument.dropFirst(2))] = value
}
let known: Set = ["config", "host", "port", "data-dir", "datasets-dir", "fashion-mnist-dir", "jobs", "log-level", "out"]
if let unknown = flags.keys.sorted().first(where: { !known.contains($0) }) {
    fail("unknown option --\(unknown)\n\(usage)")
}

// Config file first, then flags on top of it.
var config = ServiceConfig()
let configPath = flags["config"] ?? (FileManager.default.fileExists(atPath: "config/saed.json") ? "config/saed.json" : nil)
if let configPath {
    do {
        config = try ServiceConfig.load(contentsOf: URL(fileURLWithPath: configPath))
    } catch {
        fail("\(error)")
    }
}
if let host = flags["host"] { config.host = host }
if let port = flags["port"] {
    guard let value = Int(port), (0...65_535).contains(value) else { fail("--port must be 0...65535, got \(port)") }
    config.port = value
}
if let directory = flags["data-dir"] { config.dataDirectory = directory }
if let directory = flags["datasets-dir"] { config.datasetsDirectory = directory }
if let directory = flags["fashion-mnist-dir"] { config.fashionMNISTDirectory = directory }
if let jobs = flags["jobs"] {
    guard let value = Int(jobs), (1...64).contains(value) else { fail("--jobs must be 1...64, got \(jobs)") }
    config.maxConcurrentJobs = value
}
var level = Logger.Level.info
if let name = flags["log-level"] {
    guard let parsed = Logger.Level.allCases.first(where: { $0.name == name }) else {
        fail("--log-level must be one of \(Logger.Level.allCases.map(\.name).joined(separator: ", "))")
    }
    level = parsed
}
let logger = Logger(level: level)

switch command {
case "train":
    guard positional.count == 1 else { fail("train takes one job file\n\(usage)") }
    exit(TrainCommand.run(jobFile: positional[0], config: config, outputDirectory: flags["out"]) { print($0) })
case "serve":
    guard positional.isEmpty else { fail("unexpected argument \(positional[0])\n\(usage)") }
    let service: Service
    do {
        service = try Service(config: config, logger: logger)
        try service.start()
    } catch {
        fail("cannot start: \(error)")
    }
    // SIGTERM and SIGINT drain the service and exit 0.
    var sources: [any DispatchSourceSignal] = []
    for signalNumber in [SIGTERM, SIGINT] {
        signal(signalNumber, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
        source.setEventHandler {
            service.stop()
            exit(0)
        }
        source.resume()
        sources.append(source)
    }
    dispatchMain()
default:
    fail("unknown command \(command)\n\(usage)")
}
