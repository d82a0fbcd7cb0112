import SPAKCheck
import SPAKDiagnostics
import Testing
@testable import SPAKKernel

/// The contract between `spak check` and the kernel's renderer: a template the checker
/// accepts renders without error and as written (no dump of the kernel's own values, no HTML
/// escaping), and each form it rejects does go wrong under the kernel.
@Suite("Templates: what the checker accepts, the kernel renders")
struct TemplateContractTests {
    /// The parameters of the program each template is checked in, and the values it is
    /// rendered with.
    static let parameters = #"name: string = "Ada", n: int = 3, f: float = 2.5, flag: bool = true, items: list = ["a", "b"], m: map = {k: "v"}, lt: string = "<&>""#
    static let variables: [String: Value] = [
        "name": .string("Ada"), "n": .int(3), "f": .float(2.5), "flag": .bool(true),
        "items": .list([.string("a"), .string("b")]), "m": .map(["k": .string("v")]), "lt": .string("<&>"),
        "feedback": .string(""),
    ]

    /// Whether the checker reports no error for `template` as an inline prompt.
    static func accepted(_ template: String) -> Bool {
        let source = "task t(\(parameters)) {\n  step s {\n    llm.query(\"\"\"\n\(template)\n\"\"\") -> reply\n  }\n}\n"
        return !Frontend.check(SourceFile(path: "t.spak", text: source)).hasErrors
    }

    static func render(_ template: String) throws(TemplateRenderer.RuntimeErrorText) -> String {
        try TemplateRenderer().render(template, variables: variables)
    }

    @Test("each rejected form with no current item renders a dump of the kernel's values", arguments: [
        "{{.}}", "{{#flag}}{{.}}{{/flag}}", "{{&}}", "{{}}", "{{ }}", "{{{}}}", "{{..}}",
    ])
    func rejectedDumps(template: String) throws {
        #expect(!Self.accepted(template))
        #expect(try Self.render(template).contains("SPAKKernel.Rendered"))
    }

    @Test("each other rejected form renders other than as written", arguments: [
        ("{{items.items}}", "[\"a\", \"b\"]"), ("{{% CONTENT_TYPE: HTML}}{{lt}}", "&lt;&amp;&gt;"),
        ("{{count(items)}}|", "|"), ("{{plusone(f)}}|", "|"), ("{{uppercased(n)}}|", "|"), ("{{index()}}|", "|"),
        ("{{#empty(name)}}E{{/empty(name)}}|", "|"), ("{{(name)}}|", "|"), ("{{> part}}|", "|"),
        ("x {{name}} {{", "x Ada "), ("{{\nname}}", "\nname}}"),
    ])
    func rejectedMisrenders(template: String, rendered: String) throws {
        #expect(!Self.accepted(template))
        #expect(try Self.render(template) == rendered)
    }

    @Test("each rejected form that swift-mustache refuses fails at run time", arguments: [
        "{{a b}}", "{{#flag}}{{a b}}{{/flag}}", "{{ # name}}", "{{{name}}", "{{#flag}}x", "{{/flag}}", "{{#flag}}{{/n}}",
        "{{uppercased(name}}", "{{%FOO: BAR}}", "{{#uppercased(name)}}x{{/name}}", "Reply as JSON: {",
    ])
    func rejectedFails(template: String) {
        #expect(!Self.accepted(template))
        #expect(throws: TemplateRenderer.RuntimeErrorText.self) { try Self.render(template) }
    }

    @Test("the kernel keeps a template's first line as Mustache reads it: leading line breaks, standalone tags", arguments: [
        ("\nHello", "\nHello"), ("  \nHello", "  \nHello"), ("{{#flag}}\nline\n{{/flag}}", "line\n"),
        ("  {{#flag}}\nline\n{{/flag}}", "line\n"), ("{{! note }}\nHello", "Hello"),
    ])
    func firstLine(template: String, rendered: String) throws {
        #expect(try Self.render(template) == rendered)
    }

    /// Templates made of tags the checker knows, some of them broken on purpose.
    static func randomTemplate(_ random: inout Generator) -> String {
        let names = ["name", "n", "f", "flag", "items", "m", "m.k", ".", "k", "lt", "feedback", "uppercased(name)", "plusone(n)",
                     "index()", "uppercased(.)", "count(items)", "first()", "even(n)", "reversed(f)", "m..k", "", " name "]
        let sigils = ["", "#", "^", "&", "{", "!", "/", "%", ">"]
        let texts = ["x", " ", "\n", "{", "}", "(", "a b", "{{", "}}", ". ", "\t"]
        var text = ""
        var open: [String] = []
        for _ in 0..<random.below(8) + 1 {
            switch random.below(4) {
            case 0:
                text += texts[random.below(texts.count)]
            case 1 where !open.isEmpty:
                text += "{{/\(open.removeLast())}}"
            default:
                let sigil = sigils[random.below(sigils.count)]
                let name = names[random.below(names.count)]
                text += sigil == "{" ? "{{{\(name)}}}" : "{{\(sigil)\(name)}}"
                if sigil == "#" || sigil == "^" { open.append(name) }
            }
        }
        while let name = open.popLast(), random.below(5) > 0 { text += "{{/\(name)}}" }
        return text
    }

    @Test("random templates: whatever the checker accepts renders, and as written")
    func randomTemplates() throws {
        var random = Generator(state: 20_261_201)
        var accepted = 0
        for _ in 0..<3_000 {
            let template = Self.randomTemplate(&random)
            guard Self.accepted(template) else { continue }
            accepted += 1
            let rendered: String
            do {
                rendered = try Self.render(template)
            } catch {
                Issue.record("\(template.debugDescription) was accepted, but: \(error.message)")
                continue
            }
            #expect(!rendered.contains("SPAKKernel.") && !rendered.contains("&lt;") && !rendered.contains("&amp;"),
                    "\(template.debugDescription) rendered \(rendered.debugDescription)")
        }
        #expect(accepted > 300)
    }

    /// A small deterministic generator, so every run draws the same templates.
    struct Generator {
        var state: UInt64
        mutating func below(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
    }
}
