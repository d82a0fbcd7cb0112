import Foundation
import SPAKCheck
import SPAKDiagnostics
import SPAKSyntax

extension Improver {
    /// What `spak improve` writes at the top of its folder: a template may not be named so.
    static let reservedNames: Set = ["improved.spak", "improved.diff", "report.md", "report.json", "candidates", "runs",
                                     "improver", "workspaces"]

    /// A candidate's program as a draft to rewrite.
    func draft(of candidate: Candidate) -> ProgramDraft {
        let file = SourceFile(path: directory + "/" + candidate.programPath, text: candidate.source)
        return ProgramDraft(program: Frontend.parse(file).program, source: file, templates: candidate.templates)
    }

    /// Writes a program and its templates into a folder.
    func write(program: String, templates: [String: String], into folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try program.write(toFile: folder + "/" + programName, atomically: true, encoding: .utf8)
        for (path, text) in templates {
            let target = folder + "/" + path
            try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: target, atomically: true, encoding: .utf8)
        }
    }

    /// A path under the improvement's folder, relative to it.
    func relative(_ path: String) -> String {
        path.hasPrefix(directory + "/") ? String(path.dropFirst(directory.count + 1)) : path
    }

    /// The text of every template file the program names, read relative to the program.
    static func readTemplates(of checked: CheckedProgram) throws(ImproveError) -> [String: String] {
        let folder = (checked.parse.file.path as NSString).deletingLastPathComponent
        var templates: [String: String] = [:]
        guard let task = checked.parse.program.task else { return [:] }
        for call in Bindings.effectCalls(in: task.body) where call.qualifiedName == "llm.query" {
            for argument in call.arguments where argument.label?.name == "template" {
                guard case .string(let path) = argument.value.kind else { continue }
                let parts = path.split(separator: "/").map(String.init)
                guard !path.hasPrefix("/"), !parts.contains("..") else {
                    throw ImproveError("the template \(path) is outside the program's folder: spak improve writes each candidate's "
                        + "templates beside it, so a template path must be relative and without `..`")
                }
                if let first = parts.first, reservedNames.contains(first) {
                    throw ImproveError("the template \(path) has a name spak improve writes its results under (\(first)); rename it")
                }
                let full = folder.isEmpty ? path : folder + "/" + path
                guard let data = FileManager.default.contents(atPath: full) else { throw ImproveError("cannot read the template \(full)") }
                templates[path] = String(decoding: data, as: UTF8.self)
            }
        }
        return templates
    }
}
