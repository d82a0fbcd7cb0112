import Foundation

/// The JSON form of diagnostics for editors and tools (`spak check --format json`).
/// Lines and columns are 1-based, as in the text form; `end*` is exclusive.
public struct DiagnosticJSON: Codable, Sendable, Equatable {
    /// One diagnostic.
    public struct Entry: Codable, Sendable, Equatable {
        public let file: String
        public let line: Int
        public let column: Int
        public let endLine: Int
        public let endColumn: Int
        public let severity: String
        public let id: String
        public let name: String
        public let message: String
        public let notes: [Note]
        public let fixIts: [Fix]
    }

    /// A note attached to a diagnostic.
    public struct Note: Codable, Sendable, Equatable {
        public let message: String
        public let file: String?
        public let line: Int?
        public let column: Int?
    }

    /// A suggested edit.
    public struct Fix: Codable, Sendable, Equatable {
        public let line: Int
        public let column: Int
        public let endLine: Int
        public let endColumn: Int
        public let replacement: String
    }

    /// The diagnostics, sorted by file and position.
    public let diagnostics: [Entry]
    /// Errors reported (including any past the display limit).
    public let errorCount: Int
    /// Warnings reported.
    public let warningCount: Int

    /// Builds the JSON form of a bag.
    public init(_ bag: DiagnosticBag) {
        diagnostics = bag.sorted.map(Entry.init)
        errorCount = bag.errorCount + bag.suppressedErrors
        warningCount = bag.warningCount
    }

    /// Pretty-printed JSON text with sorted keys, ending with a newline.
    public func encoded() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(self)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}

extension DiagnosticJSON.Entry {
    init(_ diagnostic: Diagnostic) {
        let file = diagnostic.file
        let start = file.location(of: diagnostic.range.start)
        let end = file.location(of: diagnostic.range.end)
        self.init(
            file: file.path, line: start.line, column: start.column, endLine: end.line, endColumn: end.column,
            severity: diagnostic.severity.rawValue, id: diagnostic.code.id, name: diagnostic.code.name,
            message: diagnostic.message,
            notes: diagnostic.notes.map { note in
                let noteFile = note.file?.sourceFile ?? file
                let location = note.range.map { noteFile.location(of: $0.start) }
                return .init(message: note.message, file: note.range == nil ? nil : noteFile.path,
                             line: location?.line, column: location?.column)
            },
            fixIts: diagnostic.fixIts.map { fix in
                let from = file.location(of: fix.range.start)
                let to = file.location(of: fix.range.end)
                return .init(line: from.line, column: from.column, endLine: to.line, endColumn: to.column,
                             replacement: fix.replacement)
            }
        )
    }
}
