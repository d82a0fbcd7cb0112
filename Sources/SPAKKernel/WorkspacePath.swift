import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Finds the folder and name a workspace path leads to, walking from the root one
/// component at a time with `O_NOFOLLOW`. Symbolic links are read and followed by hand,
/// and only while they stay beneath the root.
enum WorkspacePath {
    /// The longest path accepted.
    static let maximumLength = 4096
    /// Links followed in one path before it is refused as a loop.
    static let maximumLinks = 40

    /// An open folder inside the workspace and a name in it.
    struct Location {
        /// The folder, open (close with `close()`).
        let directory: Int32
        /// The last component.
        let name: String

        func close() { Glibc.close(directory) }
    }

    /// Where `relative` leads; with `creatingFolders`, missing folders on the way are made.
    static func locate(_ relative: String, in root: String, creatingFolders: Bool) throws(Workspace.Refusal) -> Location {
        guard !relative.isEmpty else { throw Workspace.Refusal(description: "the path is empty") }
        guard !relative.utf8.contains(0) else { throw Workspace.Refusal(description: "the path contains a NUL byte") }
        guard relative.utf8.count <= maximumLength else {
            throw Workspace.Refusal(description: "the path is longer than \(maximumLength) bytes")
        }
        guard !relative.hasPrefix("/") else {
            throw Workspace.Refusal(description: "`\(relative)` is absolute; paths are relative to the workspace", escapes: true)
        }
        guard !relative.hasSuffix("/") else {
            throw Workspace.Refusal(description: "`\(relative)` ends with `/`; name a file")
        }
        var pending = components(relative)
        guard !pending.contains("..") else {
            throw Workspace.Refusal(description: "`\(relative)` climbs out of the workspace with `..`", escapes: true)
        }
        let rootDescriptor = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard rootDescriptor >= 0 else {
            throw Workspace.Refusal(description: "the workspace \(root) cannot be opened: \(String(cString: strerror(errno)))")
        }
        var stack = [rootDescriptor]
        var links = 0
        func fail(_ message: String, escapes: Bool = true) -> Workspace.Refusal {
            for descriptor in stack { Glibc.close(descriptor) }
            return Workspace.Refusal(description: message, escapes: escapes)
        }
        while !pending.isEmpty {
            let part = pending.removeFirst()
            if part == ".." {
                guard stack.count > 1 else { throw fail("`\(relative)` leads out of the workspace through a symbolic link") }
                Glibc.close(stack.removeLast())
                continue
            }
            var info = stat()
            if fstatat(stack.last!, part, &info, AT_SYMLINK_NOFOLLOW) == 0, info.st_mode & S_IFMT == S_IFLNK {
                links += 1
                guard links <= maximumLinks else { throw fail("`\(relative)` goes through too many symbolic links") }
                guard let target = readLink(part, in: stack.last!) else { throw fail("`\(relative)`: a symbolic link cannot be read", escapes: false) }
                if target.hasPrefix("/") {
                    guard target == root || target.hasPrefix(root + "/") else {
                        throw fail("`\(relative)` leads out of the workspace through a symbolic link")
                    }
                    for descriptor in stack.dropFirst() { Glibc.close(descriptor) }
                    stack.removeLast(stack.count - 1)
                    pending = components(String(target.dropFirst(root.count))) + pending
                } else {
                    pending = components(target) + pending
                }
                continue
            }
            if pending.isEmpty { return Location(directory: stack.removeLast(), name: part).closingOthers(stack) }
            var descriptor = openat(stack.last!, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if descriptor < 0, errno == ENOENT, creatingFolders {
                mkdirat(stack.last!, part, 0o755)
                descriptor = openat(stack.last!, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            }
            guard descriptor >= 0 else {
                let failure = refusal(relative, errno: errno)
                for descriptor in stack { Glibc.close(descriptor) }
                throw failure
            }
            stack.append(descriptor)
        }
        throw fail("`\(relative)` is a directory", escapes: false)
    }

    /// The refusal for a failed open.
    static func refusal(_ relative: String, errno code: Int32) -> Workspace.Refusal {
        switch code {
        case ENOENT: Workspace.Refusal(description: "`\(relative)` does not exist in the workspace", missing: true)
        case ENOTDIR: Workspace.Refusal(description: "`\(relative)`: a folder on the way is a file")
        case ELOOP: Workspace.Refusal(description: "`\(relative)` changed into a symbolic link while it was opened", escapes: true)
        default: Workspace.Refusal(description: "`\(relative)` cannot be opened: \(String(cString: strerror(code)))")
        }
    }

    private static func components(_ path: String) -> [String] {
        path.split(separator: "/", omittingEmptySubsequences: true).map(String.init).filter { $0 != "." }
    }

    private static func readLink(_ name: String, in directory: Int32) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlinkat(directory, name, &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

private extension WorkspacePath.Location {
    /// This location, after closing the folders walked through to reach it.
    func closingOthers(_ others: [Int32]) -> Self {
        for descriptor in others { Glibc.close(descriptor) }
        return self
    }
}
