import ArgumentParser
import Foundation
import SPAKCheck
import SPAKDiagnostics
import SPAKKernel
import SPAKSyntax

/// `spak fmt FILE…`: rewrite programs in the canonical layout.
struct FormatCommand: SpakSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "fmt",
        abstract: "Format programs in the canonical layout, keeping every comment.",
        discussion: """
            Rewrites each file in place (atomically). With --check nothing is written: the \
            command lists the files that would change and exits 1 if there are any. Files with \
            syntax errors are reported and left alone.
            """
    )

    @ArgumentParser.Argument(help: "The .spak files to format.")
    var files: [String]

    @Flag(help: "Only report files whose layout differs; write nothing.")
    var check = false

    @Flag(help: "Print the formatted program instead of writing the file.")
    var stdout = false

    func validate() throws {
        if check, stdout { throw ValidationError("give --check or --stdout, not both") }
    }

    func execute(io: CommandIO) -> ExitStatus {
        var status = ExitStatus.success
        func raise(_ code: ExitStatus) { if code.rawValue > status.rawValue { status = code } }
        for path in files {
            let parse: ParseResult
            do {
                parse = try Frontend.parse(path: path)
            } catch {
                io.err("spak: error: \(error)\n")
                raise(.usageOrIO)
                continue
            }
            guard !parse.hasErrors else {
                io.err(DiagnosticRenderer().render(parse.bag))
                raise(.failure)
                continue
            }
            let formatted = ProgramPrinter(program: parse.program, source: parse.file).print(parse.program)
            guard Self.preservesTree(parse, formatted) else {
                io.err("spak: internal error: formatting \(path) would change its meaning; the file was left as it is\n")
                raise(.usageOrIO)
                continue
            }
            let changed = formatted != parse.file.text
            if stdout {
                io.out(formatted)
            } else if check {
                if changed {
                    io.out("would reformat \(path)\n")
                    raise(.failure)
                }
            } else if changed {
                do {
                    try Self.replace(path, with: formatted)
                    io.out("formatted \(path)\n")
                } catch {
                    io.err("spak: error: cannot write \(path): \(error)\n")
                    raise(.usageOrIO)
                }
            }
        }
        return status
    }

    /// Replaces a file's text atomically, through a symbolic link to its target, keeping the
    /// file's permissions.
    static func replace(_ path: String, with text: String) throws {
        let target = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        let permissions = try FileManager.default.attributesOfItem(atPath: target)[.posixPermissions]
        try RunFolder.writeAtomically(text, to: target, durable: true)
        if let permissions { try FileManager.default.setAttributes([.posixPermissions: permissions], ofItemAtPath: target) }
    }

    /// A guard against printer bugs: the formatted text must parse to the same tree.
    static func preservesTree(_ original: ParseResult, _ formatted: String) -> Bool {
        let reparsed = SPAKParser.parse(SourceFile(path: original.file.path, text: formatted))
        guard !reparsed.hasErrors else { return false }
        let before = ProgramJSON(file: original.file, includeLocations: false).json(original.program)
        let after = ProgramJSON(file: reparsed.file, includeLocations: false).json(reparsed.program)
        return before == after
    }
}
