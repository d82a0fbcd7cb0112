import Foundation
import SPAKKernel
import SPAKTestSupport

/// The scripted model server of `Tests/Backends/scripted_server.py`, started on 127.0.0.1
/// for one test: it answers the n-th request with the n-th behaviour and logs every request.
final class ScriptedServer {
    private let process = Process()
    private let log: String
    /// The server's port.
    let port: Int

    /// Starts a server that plays `behaviours` (JSON objects; see the script's docstring).
    init(_ behaviours: [Value]) throws {
        let scratch = try makeScratchDirectory()
        let script = try write(JSON.serialize(.list(behaviours)), to: "script.json", in: scratch)
        log = scratch.appendingPathComponent("requests.jsonl").path
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Repository.path("Tests/Backends/scripted_server.py"), script, log]
        process.standardOutput = output
        try process.run()
        var line: [UInt8] = []
        while let byte = try output.fileHandleForReading.read(upToCount: 1)?.first, byte != 0x0A { line.append(byte) }
        guard let port = Int(String(decoding: line, as: UTF8.self)) else {
            process.terminate()
            throw ServerDidNotStart()
        }
        self.port = port
    }

    deinit {
        // SIGKILL: the test runner's threads block SIGTERM, and a child inherits that mask.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// The base URL of its OpenAI-compatible API.
    var openAIBaseURL: String { "http://127.0.0.1:\(port)/v1" }

    /// The requests it received, in order.
    func requests() throws -> [[String: Value]] {
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        return try text.split(separator: "\n").map { try JSON.parse(String($0)).fields }
    }

    struct ServerDidNotStart: Error {}
}
