/// Why `spak improve` cannot go on: a task set it cannot use, a program it cannot read, a
/// folder it cannot write. The message names the file and what to change.
public struct ImproveError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, and what to change.
    public let description: String

    /// Creates an error.
    public init(_ description: String) { self.description = description }
}
