/// How serious a diagnostic is. Errors make `spak check` exit 1; warnings do not.
public enum Severity: String, Sendable, Codable {
    case error
    case warning
}

/// A secondary message pointing at a related place ("first defined here").
public struct DiagnosticNote: Sendable, Hashable {
    /// What the note says.
    public let message: String
    /// Where it points; `nil` for a note with no place.
    public let range: SourceRange?
    /// The file it points into; `nil` means the diagnostic's own file.
    public let file: SourceFile.Reference?

    /// Creates a note in the diagnostic's own file.
    public init(_ message: String, at range: SourceRange? = nil, in file: SourceFile.Reference? = nil) {
        self.message = message
        self.range = range
        self.file = file
    }
}

/// A suggested edit: replace the text of `range` with `replacement`.
public struct FixIt: Sendable, Hashable {
    /// The bytes to replace (empty for an insertion).
    public let range: SourceRange
    /// The new text.
    public let replacement: String

    /// Creates a fix-it.
    public init(replace range: SourceRange, with replacement: String) {
        self.range = range
        self.replacement = replacement
    }
}

/// One finding about a program: a catalog entry, the words, a place, notes and fix-its.
public struct Diagnostic: Sendable {
    /// The catalog entry: stable ID and default severity.
    public let code: DiagnosticCode
    /// The message as shown to the user.
    public let message: String
    /// The file it is about.
    public let file: SourceFile
    /// The span it is about.
    public let range: SourceRange
    /// Related places.
    public var notes: [DiagnosticNote]
    /// Suggested edits.
    public var fixIts: [FixIt]

    /// The severity, taken from the catalog entry.
    public var severity: Severity { code.severity }

    /// Creates a diagnostic from a catalog message.
    public init(
        _ message: DiagnosticMessage, in file: SourceFile, at range: SourceRange,
        notes: [DiagnosticNote] = [], fixIts: [FixIt] = []
    ) {
        self.code = message.code
        // A message quotes the program; a 10 MB name must not become a 10 MB message.
        self.message = message.text.count > 400 ? String(message.text.prefix(400)) + "…" : message.text
        self.file = file
        self.range = range
        self.notes = notes
        self.fixIts = fixIts
    }

    /// The 1-based position where the span starts.
    public var location: SourceLocation { file.location(of: range.start) }
}

extension SourceFile {
    /// A light handle naming another file for a note (a template file, say).
    public struct Reference: Sendable, Hashable {
        /// The file's path as shown.
        public let path: String
        let file: SourceFile

        /// Wraps a file.
        public init(_ file: SourceFile) {
            self.path = file.path
            self.file = file
        }

        /// The 1-based location of an offset in that file.
        public func location(of offset: Int) -> SourceLocation { file.location(of: offset) }

        /// The file itself.
        public var sourceFile: SourceFile { file }

        public static func == (lhs: Reference, rhs: Reference) -> Bool { lhs.path == rhs.path }
        public func hash(into hasher: inout Hasher) { hasher.combine(path) }
    }
}

/// Diagnostics gathered while reading one or more files, in the order they were found.
public struct DiagnosticBag: Sendable {
    /// Everything reported so far, possibly beyond `limit` in count of errors suppressed.
    public private(set) var diagnostics: [Diagnostic] = []
    /// How many errors are kept before the rest are dropped (a flood helps nobody).
    public let errorLimit: Int
    /// Errors that were dropped past the limit.
    public private(set) var suppressedErrors = 0

    /// Creates an empty bag.
    public init(errorLimit: Int = 200) { self.errorLimit = errorLimit }

    /// The number of errors kept.
    public private(set) var errorCount = 0
    /// The number of warnings kept.
    public private(set) var warningCount = 0

    /// Adds a diagnostic, unless the error limit is reached.
    public mutating func add(_ diagnostic: Diagnostic) {
        switch diagnostic.severity {
        case .error:
            guard errorCount < errorLimit else {
                suppressedErrors += 1
                return
            }
            errorCount += 1
        case .warning:
            warningCount += 1
        }
        diagnostics.append(diagnostic)
    }

    /// Counts errors that were found but never stored (a lexer's flood, say).
    public mutating func countSuppressed(_ count: Int) { suppressedErrors += count }

    /// Adds everything another bag holds, its count of suppressed errors included.
    public mutating func merge(_ other: DiagnosticBag) {
        diagnostics.append(contentsOf: other.diagnostics)
        errorCount += other.errorCount
        warningCount += other.warningCount
        suppressedErrors += other.suppressedErrors
    }

    /// Adds several diagnostics.
    public mutating func add(contentsOf other: [Diagnostic]) {
        for diagnostic in other { add(diagnostic) }
    }

    /// Whether any error was reported (kept or suppressed).
    public var hasErrors: Bool { errorCount > 0 || suppressedErrors > 0 }

    /// The diagnostics grouped by file (in order of first appearance), then by position.
    public var sorted: [Diagnostic] {
        var fileOrder: [String: Int] = [:]
        for diagnostic in diagnostics where fileOrder[diagnostic.file.path] == nil {
            fileOrder[diagnostic.file.path] = fileOrder.count
        }
        return diagnostics.enumerated().sorted { lhs, rhs in
            let lhsKey = (fileOrder[lhs.element.file.path] ?? 0, lhs.element.range.start, lhs.offset)
            let rhsKey = (fileOrder[rhs.element.file.path] ?? 0, rhs.element.range.start, rhs.offset)
            return lhsKey < rhsKey
        }.map(\.element)
    }
}
