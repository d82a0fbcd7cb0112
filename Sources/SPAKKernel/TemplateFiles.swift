/// Template files inside a run folder: `templates/` mirrors the paths the program names,
/// with `..` made safe, so a copied run folder still renders its prompts.
public enum TemplateFiles {
    /// Where a template named `path` in the program is stored under `templates/`.
    public static func storedPath(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: true)
            .map { $0 == ".." ? "_up_" : ($0 == "." ? "_here_" : String($0)) }.joined(separator: "/")
    }
}
