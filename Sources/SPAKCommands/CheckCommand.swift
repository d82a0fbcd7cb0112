import ArgumentParser
import SPAKCheck
import SPAKDiagnostics

/// How diagnostics are printed.
enum DiagnosticFormat: String, ExpressibleByArgument, CaseIterable {
    case text
    case json
}

/// `spak check FILE…`: parse and check programs; print every diagnostic.
struct CheckCommand: SpakSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check programs for syntax and semantic errors.",
        discussion: """
            Prints every diagnostic as FILE:LINE:COLUMN: error|warning: MESSAGE [ID] with the \
            source line and a caret (lines and columns are 1-based). Exits 0 when no file has \
            errors (warnings allowed), 1 when some file has errors, 2 when a file cannot be read.
            """
    )

    @ArgumentParser.Argument(help: "The .spak files to check.")
    var files: [String]

    @Option(help: "Output format: text for people, json for editors and tools.")
    var format: DiagnosticFormat = .text

    func execute(io: CommandIO) -> ExitStatus {
        var status = ExitStatus.success
        var all = DiagnosticBag(errorLimit: Int.max)
        var rendered = ""
        var checkedCount = 0
        for path in files {
            do {
                let checked = try Frontend.check(path: path)
                checkedCount += 1
                let bag = checked.bag
                all.merge(bag)
                if bag.hasErrors, status == .success { status = .failure }
                rendered += DiagnosticRenderer().render(bag)
            } catch {
                io.err("spak: error: \(error)\n")
                status = .usageOrIO
            }
        }
        switch format {
        case .json:
            io.out(DiagnosticJSON(all).encoded())
        case .text:
            let errors = all.errorCount + all.suppressedErrors
            let summary = "\(checkedCount) file\(checkedCount == 1 ? "" : "s") checked: "
                + "\(errors) error\(errors == 1 ? "" : "s"), "
                + "\(all.warningCount) warning\(all.warningCount == 1 ? "" : "s")\n"
            io.out(rendered + summary)
        }
        return status
    }
}
