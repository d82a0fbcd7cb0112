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

/// The folder `tool.read`, `tool.write` and `tool.run` work in. A path must be relative and
/// must not climb out with `..`; symbolic links inside it are followed only while they stay
/// inside, whoever made them (a `tool.run` command included). Paths are walked one
/// component at a time from a descriptor of the root with `O_NOFOLLOW`, so a link swapped in
/// while a file is being opened is refused rather than followed.
public struct Workspace: FileDoor {
    public let root: String
    /// Reads larger than this fail unless the call raises `max_bytes`.
    public static let defaultReadLimit = 16 << 20
    /// The most `tool.write` writes in one file.
    public static let writeLimit = 64 << 20

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
        /// Whether the path tried to leave the workspace (absolute, `..`, a link leading out,
        /// a link swapped in): a breach, which no `on_fail retry` may route around.
        public var escapes = false
        /// Whether the file (or a folder on the way) does not exist.
        public var missing = false
    }

    /// The text of a file.
    public func read(_ relative: String, limit: Int) throws(Refusal) -> String {
        let location = try WorkspacePath.locate(relative, in: root, creatingFolders: false)
        defer { location.close() }
        let descriptor = openat(location.directory, location.name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { throw WorkspacePath.refusal(relative, errno: errno) }
        defer { Glibc.close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw WorkspacePath.refusal(relative, errno: errno) }
        guard info.st_mode & S_IFMT != S_IFDIR else { throw Refusal(description: "`\(relative)` is a directory") }
        guard info.st_mode & S_IFMT == S_IFREG else { throw Refusal(description: "`\(relative)` is not a regular file") }
        guard Int(info.st_size) <= limit else {
            throw Refusal(description: "`\(relative)` is \(info.st_size) bytes, more than the limit of \(limit) (raise it with `max_bytes:`)")
        }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        var offset = 0
        while offset < bytes.count {
            let count = bytes[offset...].withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            offset += count
        }
        bytes.removeLast(bytes.count - offset)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            let valid = Self.validPrefixLength(bytes)
            throw Refusal(description: "`\(relative)` is not UTF-8 text (byte \(valid) is not valid UTF-8); tool.read reads text only")
        }
        return text
    }

    /// Writes a file atomically (a temporary file beside it, fsynced, then renamed over it),
    /// creating the folders it needs.
    public func write(_ relative: String, _ text: String) throws(Refusal) {
        let bytes = Array(text.utf8)
        guard bytes.count <= Self.writeLimit else {
            throw Refusal(description: "the content for `\(relative)` is \(bytes.count) bytes, more than the limit of \(Self.writeLimit)")
        }
        let location = try WorkspacePath.locate(relative, in: root, creatingFolders: true)
        defer { location.close() }
        // A fresh name, created exclusively: whatever a command left under a predictable name
        // (a FIFO, a hard link to another file) is never opened.
        let temporary = "." + location.name + "." + String(UInt64.random(in: 0...UInt64.max), radix: 36) + ".spak-tmp"
        let descriptor = openat(location.directory, temporary,
                                O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw Refusal(description: "cannot write `\(relative)`: \(String(cString: strerror(errno)))") }
        var offset = 0
        var failure: Int32 = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if written < 0, errno == EINTR { continue }
            guard written > 0 else { failure = errno; break }
            offset += written
        }
        if failure == 0, fsync(descriptor) != 0 { failure = errno }
        Glibc.close(descriptor)
        if failure == 0, renameat(location.directory, temporary, location.directory, location.name) != 0 { failure = errno }
        guard failure == 0 else {
            unlinkat(location.directory, temporary, 0)
            if failure == EISDIR { throw Refusal(description: "`\(relative)` is a directory") }
            throw Refusal(description: "cannot write `\(relative)`: \(String(cString: strerror(failure)))")
        }
        fsync(location.directory)
        Self.removeStaleTemporaries(of: location.name, in: location.directory, keeping: temporary)
    }

    /// Removes temporary files that writes of `name` cut short by a crash left behind
    /// (`.NAME.*.spak-tmp`). Only names are removed; nothing is opened or followed.
    private static func removeStaleTemporaries(of name: String, in directory: Int32, keeping current: String) {
        let copy = dup(directory)
        guard copy >= 0, let stream = fdopendir(copy) else { return }
        defer { closedir(stream) }
        let prefix = "." + name + "."
        var stale: [String] = []
        while let entry = readdir(stream) {
            let entryName = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if entryName.hasPrefix(prefix), entryName.hasSuffix(".spak-tmp"), entryName != current { stale.append(entryName) }
        }
        for entryName in stale { unlinkat(directory, entryName, 0) }
    }

    /// How many bytes at the start of `bytes` are valid UTF-8.
    private static func validPrefixLength(_ bytes: [UInt8]) -> Int {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0
        while case .valid(let scalar) = parser.parseScalar(from: &iterator) { offset += scalar.count }
        return offset
    }
}
