import Foundation
import SPAKDiagnostics
import SPAKSyntax

/// Why a program file could not be read at all (as opposed to what is wrong inside it).
public struct LoadFailure: Error, Sendable, CustomStringConvertible {
    /// The path as given.
    public let path: String
    /// What went wrong, in words.
    public let reason: String

    public var description: String { "cannot read \(path): \(reason)" }
}

/// The outcome of reading, parsing and checking one file.
public struct CheckedProgram: Sendable {
    /// The parse (tree, file and syntax diagnostics).
    public let parse: ParseResult
    /// Syntax diagnostics, then the checker's (only when the syntax was clean).
    public let diagnostics: [Diagnostic]
    /// Errors the checker found past its storage limit (the parser's are in `parse`).
    public var droppedCheckErrors = 0

    /// Whether any error was found.
    public var hasErrors: Bool {
        parse.droppedErrors + droppedCheckErrors > 0 || diagnostics.contains { $0.severity == .error }
    }

    /// The diagnostics in a bag that keeps the per-file display limit and counts every error,
    /// those the parser only counted included.
    public var bag: DiagnosticBag {
        var bag = DiagnosticBag()
        bag.add(contentsOf: diagnostics)
        bag.countSuppressed(parse.droppedErrors + droppedCheckErrors)
        return bag
    }
}

/// Read → parse → check, the front half of every command.
public enum Frontend {
    /// Files larger than this are refused rather than read into memory.
    public static let maxFileSize = 64 << 20

    /// Reads a file as a SPAK source: refuses directories, unreadable and oversized files;
    /// text that is not UTF-8 becomes a file with one `invalid-utf8` diagnostic.
    public static func load(path: String) throws(LoadFailure) -> (file: SourceFile, encodingError: Diagnostic?) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw LoadFailure(path: path, reason: "no such file")
        }
        guard !isDirectory.boolValue else { throw LoadFailure(path: path, reason: "it is a directory, not a file") }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        guard size <= maxFileSize else {
            throw LoadFailure(path: path, reason: "it is larger than \(maxFileSize >> 20) MiB")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LoadFailure(path: path, reason: "permission denied or unreadable")
        }
        return decode(Array(data), path: path)
    }

    /// Turns bytes into a source file, reporting the first byte that is not UTF-8.
    public static func decode(_ bytes: [UInt8], path: String) -> (file: SourceFile, encodingError: Diagnostic?) {
        if String(validating: bytes, as: UTF8.self) != nil {
            return (SourceFile(path: path, validatedBytes: bytes), nil)
        }
        let badOffset = firstInvalidUTF8Offset(bytes)
        let file = SourceFile(path: path, text: String(decoding: bytes, as: UTF8.self))
        return (file, Diagnostic(.invalidUTF8(byteOffset: badOffset), in: file, at: .at(badOffset)))
    }

    /// Parses a loaded file; text that is not UTF-8 yields no tree, only its diagnostic.
    public static func parse(_ file: SourceFile, encodingError: Diagnostic? = nil) -> ParseResult {
        if let encodingError { return ParseResult(program: Program(task: nil), diagnostics: [encodingError], file: file) }
        return SPAKParser.parse(file)
    }

    /// Reads and parses a file (syntax only).
    public static func parse(path: String) throws(LoadFailure) -> ParseResult {
        let loaded = try load(path: path)
        return parse(loaded.file, encodingError: loaded.encodingError)
    }

    /// Parses and, when the syntax is clean, checks a loaded file.
    public static func check(_ file: SourceFile, encodingError: Diagnostic? = nil) -> CheckedProgram {
        let parse = parse(file, encodingError: encodingError)
        guard !parse.hasErrors else { return CheckedProgram(parse: parse, diagnostics: parse.diagnostics) }
        let directory = (file.path as NSString).deletingLastPathComponent
        let semantic = ProgramChecker.check(parse, templateDirectory: directory.isEmpty ? "." : directory)
        var checked = CheckedProgram(parse: parse, diagnostics: parse.diagnostics + semantic.diagnostics)
        checked.droppedCheckErrors = semantic.droppedErrors
        return checked
    }

    /// Reads, parses and checks a file.
    public static func check(path: String) throws(LoadFailure) -> CheckedProgram {
        let loaded = try load(path: path)
        return check(loaded.file, encodingError: loaded.encodingError)
    }

    private static func firstInvalidUTF8Offset(_ bytes: [UInt8]) -> Int {
        var decoder = UTF8()
        var iterator = bytes.makeIterator()
        var offset = 0
        while case .scalarValue(let scalar) = decoder.decode(&iterator) { offset += UTF8.width(scalar) }
        return offset
    }
}
