import Foundation
import SPAKCheck
import SPAKDiagnostics
import SPAKTestSupport
import Testing

/// The reference's examples are programs: ```spak blocks must check with no diagnostics,
/// ```spak-error blocks must report the ID their first line names (`// expect: E301`).
@Suite("Documentation")
struct DocsTests {
    struct Block: CustomTestStringConvertible, Sendable {
        let line: Int
        let fence: String
        let text: String
        var testDescription: String { "docs/language.md:\(line)" }
    }

    static let blocks: [Block] = {
        guard let text = try? Repository.text("docs/language.md") else { return [] }
        var blocks: [Block] = []
        var current: (line: Int, fence: String, lines: [String])?
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if let open = current {
                if line.hasPrefix("```") {
                    blocks.append(Block(line: open.line, fence: open.fence, text: open.lines.joined(separator: "\n") + "\n"))
                    current = nil
                } else {
                    current?.lines.append(String(line))
                }
            } else if line == "```spak" || line == "```spak-error" {
                current = (index + 1, String(line.dropFirst(3)), [])
            } else if line.hasPrefix("```") {
                current = (index + 1, "other", [])
            }
        }
        return blocks.filter { $0.fence != "other" }
    }()

    @Test("the reference has examples") func hasExamples() {
        #expect(Self.blocks.count >= 30)
        #expect(Self.blocks.contains { $0.fence == "spak-error" })
    }

    @Test("each example checks as the reference says", arguments: blocks)
    func example(block: Block) throws {
        let file = SourceFile(path: Repository.path("docs/example-at-line-\(block.line).spak"), text: block.text)
        let diagnostics = Frontend.check(file).diagnostics
        if block.fence == "spak" {
            #expect(diagnostics.isEmpty, "\(diagnostics.map { "\($0.location): \($0.message)" })")
        } else {
            let expected = block.text.split(separator: "\n").first.map { $0.replacingOccurrences(of: "// expect: ", with: "") }
            #expect(diagnostics.contains { $0.code.id == expected }, "\(diagnostics.map(\.code.id))")
        }
    }

    @Test("every diagnostic ID is documented in docs/diagnostics.md")
    func catalogDocumented() throws {
        let text = try Repository.text("docs/diagnostics.md")
        let missing = DiagnosticCode.all.filter { !text.contains($0.id) || !text.contains($0.name) }.map(\.id)
        #expect(missing.isEmpty, "undocumented: \(missing)")
    }
}
