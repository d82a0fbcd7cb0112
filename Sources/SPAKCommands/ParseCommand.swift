import ArgumentParser
import SPAKCheck
import SPAKDiagnostics
import SPAKSyntax

/// `spak parse FILE`: print the syntax tree (no semantic checks).
struct ParseCommand: SpakSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "parse",
        abstract: "Print a program's syntax tree.",
        discussion: """
            Only the syntax is checked. On syntax errors the diagnostics go to standard error \
            and the exit code is 1. Every node carries `at` (LINE:COLUMN, 1-based).
            """
    )

    @ArgumentParser.Argument(help: "The .spak file to parse.")
    var file: String

    @Flag(help: "Print the tree as JSON (otherwise as an indented outline).")
    var json = false

    @Flag(help: "Leave out source positions (to compare trees of differently laid-out files).")
    var noLocations = false

    func execute(io: CommandIO) -> ExitStatus {
        let parse: ParseResult
        do {
            parse = try Frontend.parse(path: file)
        } catch {
            io.err("spak: error: \(error)\n")
            return .usageOrIO
        }
        guard !parse.hasErrors else {
            io.err(DiagnosticRenderer().render(parse.bag))
            return .failure
        }
        let tree = ProgramJSON(file: parse.file, includeLocations: !noLocations).json(parse.program)
        io.out((json ? tree.serialized() : Outline.render(tree)) + "\n")
        return .success
    }
}

/// A compact, indented outline of a JSON tree: one node per line, `kind @LINE:COL key=value`.
enum Outline {
    static func render(_ value: JSONValue, indent: Int = 0) -> String {
        guard case .object(let members) = value else { return String(repeating: "  ", count: indent) + value.serialized() }
        var header = String(repeating: "  ", count: indent)
        var children: [String] = []
        for (key, member) in members {
            switch (key, member) {
            case ("kind", .string(let kind)): header += kind
            case ("at", .string(let at)): header += " @" + at
            case (_, .object): children.append(String(repeating: "  ", count: indent + 1) + key + ":\n" + render(member, indent: indent + 2))
            case (_, .array(let items)) where items.contains(where: { if case .object = $0 { true } else { false } }):
                children.append(String(repeating: "  ", count: indent + 1) + key + ":")
                children += items.map { render($0, indent: indent + 2) }
            case (_, .array(let items)) where items.isEmpty: continue
            case (_, .null): continue
            default: header += " \(key)=\(member.serialized())"
            }
        }
        return ([header] + children).joined(separator: "\n")
    }
}
