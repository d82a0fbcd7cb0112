import Foundation

/// The door of `tool.read` and `tool.write`: the machine reaches files only through it.
public protocol FileDoor: Sendable {
    /// The folder the door opens on (and `tool.run`'s working directory), as an absolute
    /// path with symbolic links resolved.
    var root: String { get }
    /// The text of a file, refused when larger than `limit` bytes.
    func read(_ relative: String, limit: Int) throws(Workspace.Refusal) -> String
    /// Replaces a file's text.
    func write(_ relative: String, _ text: String) throws(Workspace.Refusal)
}

/// The door of time: step durations, the `wall_time` budget and event times read it.
public protocol Clock: Sendable {
    /// Seconds since 1970.
    func now() -> Double
}

/// The system clock.
public struct SystemClock: Clock {
    /// Creates the clock.
    public init() {}
    public func now() -> Double { Date().timeIntervalSince1970 }
}

/// The folder `tool.read` and `tool.write` work in. A path must be relative, must not climb
/// out with `..`, and must not lead out through a symbolic link.
public struct Workspace: FileDoor {
    /// The folder, as an absolute path with symbolic links resolved.
    public let root: String
    /// Reads larger than this fail unless the call raises `max_bytes`.
    public static let defaultReadLimit = 16 << 20

    /// Opens (creating if needed) a workspace folder.
    public init(path: String) throws(RecordError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw RecordError("cannot create the workspace \(path): \(error.localizedDescription)")
        }
        root = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
    }

    /// Why a path was refused or a file could not be used: the run fails with this reason.
    public struct Refusal: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// The absolute path a relative one names, after checking it stays inside the workspace.
    func resolve(_ relative: String) throws(Refusal) -> String {
        guard !relative.isEmpty else { throw Refusal(description: "the path is empty") }
        guard !relative.hasPrefix("/") else {
            throw Refusal(description: "`\(relative)` is absolute; paths are relative to the workspace")
        }
        let parts = relative.split(separator: "/", omittingEmptySubsequences: true)
        guard !parts.contains("..") else { throw Refusal(description: "`\(relative)` climbs out of the workspace with `..`") }
        let full = root + "/" + parts.joined(separator: "/")
        // The deepest existing ancestor, with links resolved, must still be inside the root.
        var existing = full
        while !FileManager.default.fileExists(atPath: existing), existing != root {
            existing = (existing as NSString).deletingLastPathComponent
        }
        let resolved = URL(fileURLWithPath: existing).resolvingSymlinksInPath().path
        guard resolved == root || resolved.hasPrefix(root + "/") else {
            throw Refusal(description: "`\(relative)` leads out of the workspace through a symbolic link")
        }
        return full
    }

    /// The text of a file.
    public func read(_ relative: String, limit: Int) throws(Refusal) -> String {
        let path = try resolve(relative)
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else {
            throw Refusal(description: "`\(relative)` does not exist in the workspace")
        }
        guard attributes[.type] as? FileAttributeType != .typeDirectory else {
            throw Refusal(description: "`\(relative)` is a directory")
        }
        if let size = attributes[.size] as? Int, size > limit {
            throw Refusal(description: "`\(relative)` is \(size) bytes, more than the limit of \(limit) (raise it with `max_bytes:`)")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Refusal(description: "`\(relative)` cannot be read")
        }
        guard let text = String(validating: data, as: UTF8.self) else {
            throw Refusal(description: "`\(relative)` is not UTF-8 text")
        }
        return text
    }

    /// Writes a file atomically, creating the folders it needs.
    public func write(_ relative: String, _ text: String) throws(Refusal) {
        let path = try resolve(relative)
        do {
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try RunFolder.writeAtomically(text, to: path, durable: true)
        } catch {
            throw Refusal(description: "cannot write `\(relative)`: \(error)")
        }
    }
}
