import Foundation
import SPAKCheck
import SPAKDiagnostics
import SPAKTestSupport
import Testing

/// Each file in Tests/Fixtures/diagnostics starts with `// expect: ID LINE:COLUMN` lines (or
/// `ID FILE:LINE:COLUMN` for a diagnostic in a template file) naming exactly what
/// `spak check` reports for it, in order.
@Suite("Diagnostics fixtures")
struct DiagnosticFixtureTests {
    static let directory = "Tests/Fixtures/diagnostics"
    static let fixtures = Repository.spakFiles(in: directory)

    static func expectations(_ path: String) throws -> [String] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            .prefix { $0.hasPrefix("// expect: ") }.map { String($0.dropFirst("// expect: ".count)) }
    }

    static func reported(_ path: String) throws -> [String] {
        let folder = (path as NSString).deletingLastPathComponent
        var bag = DiagnosticBag()
        bag.add(contentsOf: try Frontend.check(path: path).diagnostics)
        return bag.sorted.map { diagnostic in
            let place = diagnostic.file.path == path ? "" : String(diagnostic.file.path.dropFirst(folder.count + 1)) + ":"
            return "\(diagnostic.code.id) \(place)\(diagnostic.location)"
        }
    }

    @Test("each fixture reports exactly its expected diagnostics", arguments: fixtures)
    func fixture(path: String) throws {
        #expect(try Self.reported(path) == Self.expectations(path))
    }

    @Test("every catalog entry is exercised by some fixture")
    func coverage() throws {
        var seen: Set<String> = ["E001"]  // invalid UTF-8 is tested with bytes, below
        for path in Self.fixtures {
            for line in try Self.expectations(path) { seen.insert(String(line.prefix(4))) }
        }
        let missing = DiagnosticCode.all.map(\.id).filter { !seen.contains($0) }
        #expect(missing.isEmpty, "no fixture for \(missing)")
    }

    @Test("text that is not UTF-8 gets E001 at the first bad byte")
    func invalidUTF8() throws {
        let loaded = Frontend.decode(Array("task t() {\n  // caf".utf8) + [0xE9, 0x0A, 0x7D], path: "latin1.spak")
        let diagnostic = try #require(loaded.encodingError)
        #expect(diagnostic.code.id == "E001")
        #expect(diagnostic.location == SourceLocation(line: 2, column: 9))
        #expect(Frontend.check(loaded.file, encodingError: diagnostic).hasErrors)
    }

    @Test("the shipped examples check with no diagnostics at all",
          arguments: Repository.examplePrograms)
    func examples(path: String) throws {
        let checked = try Frontend.check(path: path)
        #expect(checked.diagnostics.isEmpty, "\(checked.diagnostics.map { "\($0.location): \($0.message)" })")
    }
}
