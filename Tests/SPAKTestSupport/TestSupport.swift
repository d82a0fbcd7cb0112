import Foundation
import SPAKCommands

/// Paths inside this repository, found from this file's own location.
public enum Repository {
    /// The repository's root folder.
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The absolute path of a file given relative to the root.
    public static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    /// The `.spak` files directly in a folder (relative to the root), sorted.
    public static func spakFiles(in folder: String) -> [String] {
        let directory = path(folder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".spak") }.sorted().map { directory + "/" + $0 }
    }

    /// Every shipped example program: examples/, examples/kernels/ and examples/improve/.
    public static var examplePrograms: [String] {
        spakFiles(in: "examples") + spakFiles(in: "examples/kernels") + spakFiles(in: "examples/improve")
    }

    /// The text of a file given relative to the root.
    public static func text(_ relative: String) throws -> String {
        try String(contentsOfFile: path(relative), encoding: .utf8)
    }
}

/// A command's output, captured in memory.
public final class CapturedIO: @unchecked Sendable {
    private let lock = NSLock()
    private var outText = ""
    private var errText = ""

    /// Creates an empty capture.
    public init() {}

    /// What was written to standard output.
    public var out: String { lock.withLock { outText } }
    /// What was written to standard error.
    public var err: String { lock.withLock { errText } }

    /// The I/O to hand to a command.
    public var io: CommandIO {
        CommandIO(out: { text in self.lock.withLock { self.outText += text } },
                  err: { text in self.lock.withLock { self.errText += text } })
    }
}

/// Runs the CLI in-process; returns the exit code and what it printed.
public func runSpak(_ arguments: [String]) -> (status: Int32, out: String, err: String) {
    let capture = CapturedIO()
    let status = SpakCLI.run(arguments, io: capture.io)
    return (status, capture.out, capture.err)
}

/// A fresh, empty folder under the system's temporary folder.
public func makeScratchDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("spak-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Writes text to a file in a folder and returns the file's path.
@discardableResult
public func write(_ text: String, to name: String, in directory: URL) throws -> String {
    let url = directory.appendingPathComponent(name)
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data(text.utf8).write(to: url)
    return url.path
}
