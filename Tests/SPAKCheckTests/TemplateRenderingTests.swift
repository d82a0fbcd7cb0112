import Foundation
import SPAKCheck
import SPAKDiagnostics
import SPAKTestSupport
import Testing

/// `spak check` accepts only templates the kernel renders as written: every form that
/// swift-mustache rejects at run time, or renders as something other than what it says
/// (a Swift dump of the context, nothing at all, HTML entities), is E343 where it is written.
@Suite("Templates the kernel can render")
struct TemplateRenderingTests {
    /// A program whose one query's prompt is `template` (in a `"…"` literal whose text starts at
    /// line 3, column 16), with variables of each kind a template sees.
    static func program(_ template: String) -> String {
        """
        task t(name: string = "Ada", n: int = 3, f: float = 2.5, flag: bool = true, items: list = ["a"], m: map = {k: "v"}) {
          step s {
            llm.query("\(template)") -> reply
          }
        }
        """
    }

    static func diagnostics(_ source: String) -> [Diagnostic] {
        Frontend.check(SourceFile(path: "t.spak", text: source)).diagnostics
    }

    @Test("forms swift-mustache rejects, or renders other than as written: E343 at the offending part", arguments: [
        // `.` with no current item renders a dump of every variable (or, in `^x`, nothing useful)
        ("{{.}}", "3:18", "`.` is the current item of a `{{#...}}` section, and there is none here"),
        ("{{#flag}}{{.}}{{/flag}}", "3:27", "`.` is the current item of a `{{#...}}` section, and there is none here"),
        ("{{^name}}{{.}}{{/name}}", "3:27", "`.` is the current item of a `{{#...}}` section, and there is none here"),
        ("{{#.}}x{{/.}}", "3:19", "`.` is the current item of a `{{#...}}` section, and there is none here"),
        ("{{uppercased(.)}}", "3:29", "`.` is the current item of a `{{#...}}` section, and there is none here"),
        // a tag with no name is `.` in disguise
        ("{{}}", "3:16", "`{{}}` has no name; `{{.}}` names the current item of a section"),
        ("{{ }}", "3:16", "`{{ }}` has no name; `{{.}}` names the current item of a section"),
        ("{{&}}", "3:16", "`{{&}}` has no name; `{{.}}` names the current item of a section"),
        ("{{{}}}", "3:16", "`{{{}}}` has no name; `{{.}}` names the current item of a section"),
        // a pragma would undo plain text (HTML escaping) or is unknown (a parse error)
        ("{{% CONTENT_TYPE: HTML}}{{name}}", "3:16",
         "pragmas `{{% ... }}` are not supported: the kernel renders every template as plain text"),
        ("{{%FOO: BAR}}", "3:16", "pragmas `{{% ... }}` are not supported: the kernel renders every template as plain text"),
        // partials render nothing
        ("{{> part}}", "3:16", "partials and template inheritance are not supported; write the text inline"),
        ("{{$block}}x{{/block}}", "3:16", "partials and template inheritance are not supported; write the text inline"),
        // names with empty parts between dots
        ("{{m..k}}", "3:18", "`m..k` is not a name: it has an empty part between dots"),
        ("{{m.}}", "3:18", "`m.` is not a name: it has an empty part between dots"),
        ("{{..}}", "3:18", "`..` is not a name: it has an empty part between dots"),
        // characters swift-mustache does not read as part of a name: a parse error at run time
        ("{{a b}}", "3:19", "a tag's name cannot hold a space; names are letters, digits and `_-.?*`"),
        ("{{#flag}}{{a b}}{{/flag}}", "3:28", "a tag's name cannot hold a space; names are letters, digits and `_-.?*`"),
        ("{{ # name}}", "3:19",
         "a tag's name cannot hold `#`; names are letters, digits and `_-.?*` (a `#` that starts a tag comes right after `{{`)"),
        ("{{{#name}}}", "3:19",
         "a tag's name cannot hold `#`; names are letters, digits and `_-.?*` (a `#` that starts a tag comes right after `{{`)"),
        ("{{(name)}}", "3:18", "a transform needs a name before `(`, as in `uppercased(name)`"),
        ("{{uppercased(name}}", "3:16", "the parentheses in `{{uppercased(name}}` do not match"),
        ("{{uppercased(name))}}", "3:16", "the parentheses in `{{uppercased(name))}}` do not match"),
        // tags and sections that do not close
        ("{{name", "3:16", "`{{` is not closed with `}}`"),
        ("x {{name}} {{", "3:27", "`{{` is not closed with `}}`"),
        ("{{{name}}", "3:16", "`{{{` is not closed with `}}}`"),
        ("{{\\nname}}", "3:16", "a line break right after `{{` makes swift-mustache drop the `{{` and read on as text"),
        ("Reply as JSON: {", "3:31", "a template cannot end with `{`: swift-mustache fails to parse it there; put a line break after it"),
        ("{{#flag}}x", "3:16", "section `{{#flag}}` is opened here but never closed"),
        ("{{/flag}}", "3:16", "`{{/flag}}` closes no section"),
        ("{{#flag}}{{/n}}", "3:25", "`{{/n}}` does not close `{{#flag}}`, the innermost open section"),
        ("{{#uppercased(name)}}x{{/name}}", "3:38", "`{{/name}}` does not close `{{#uppercased(name)}}`, the innermost open section"),
    ])
    func rejected(template: String, place: String, message: String) throws {
        let found = Self.diagnostics(Self.program(template))
        let diagnostic = try #require(found.first)
        #expect(found.map(\.code.id) == ["E343"])
        #expect("\(diagnostic.location)" == place)
        #expect(diagnostic.message == "invalid Mustache template: " + message)
    }

    @Test("transforms that render nothing for the value they are given: E343 at the transform", arguments: [
        ("{{count(items)}}", "count", "`count` applies to no value in a SPAK template (lists and maps render as JSON and take no transforms)"),
        ("{{sorted(items)}}", "sorted", "`sorted` applies to no value in a SPAK template (lists and maps render as JSON and take no transforms)"),
        ("{{enumerated(m)}}", "enumerated", "`enumerated` applies to no value in a SPAK template (lists and maps render as JSON and take no transforms)"),
        ("{{first(items)}}", "first",
         "`first()`, with nothing in its parentheses, is about the item a list section is at; given a value, `first` applies to none in a SPAK template"),
        ("{{reversed(items)}}", "reversed", "`reversed` works on text, and this is a list"),
        ("{{#empty(name)}}x{{/empty(name)}}", "empty",
         "an empty string is left out of a template, so `empty` is never true; write `{{^name}}...{{/name}}` instead"),
        ("{{plusone(f)}}", "plusone", "`plusone` works on an int, and this is text"),
        ("{{uppercased(n)}}", "uppercased", "`uppercased` works on text, and this is an int"),
        ("{{even(flag)}}", "even", "`even` works on an int, and this is a bool"),
        ("{{uppercased(plusone(n))}}", "uppercased", "`uppercased` works on text, and this is an int"),
        ("{{#items}}{{uppercased(odd(index()))}}{{/items}}", "uppercased", "`uppercased` works on text, and this is a bool"),
    ])
    func rendersNothing(template: String, transform: String, reason: String) throws {
        let source = Self.program(template)
        let found = Self.diagnostics(source)
        let diagnostic = try #require(found.first)
        #expect(found.map(\.code.id) == ["E343"])
        let offset = try #require(template.range(of: transform + "(")).lowerBound.utf16Offset(in: template)
        #expect(diagnostic.location == SourceLocation(line: 3, column: 16 + offset))
        #expect(diagnostic.message == "invalid Mustache template: transform `\(transform)` renders nothing here: \(reason)")
    }

    @Test("the transforms of a list section's item need a list section around them", arguments: [
        ("{{index()}}", "3:18", "there is none here"),
        ("{{#flag}}{{index()}}{{/flag}}", "3:27", "there is none here"),
        ("{{#name}}{{last()}}{{/name}}", "3:27", "the innermost section here is over text, not a list"),
        ("{{#m}}{{even()}}{{/m}}", "3:24", "the innermost section here is over a map, not a list"),
    ])
    func itemTransforms(template: String, place: String, problem: String) throws {
        let found = Self.diagnostics(Self.program(template))
        let diagnostic = try #require(found.first)
        #expect(found.map(\.code.id) == ["E343"])
        #expect("\(diagnostic.location)" == place)
        #expect(diagnostic.message.hasSuffix("is about the item a list section is at, and \(problem)"))
    }

    @Test("a transform with nothing in its parentheses that is not about a list's item")
    func emptyParentheses() {
        #expect(check(Self.program("{{#items}}{{uppercased()}}{{/items}}")) == ["E343@3:28"])
    }

    @Test("an unknown transform: E343 at it, with a fix-it to the closest that works")
    func unknownTransform() throws {
        let diagnostic = try #require(Self.diagnostics(Self.program("{{lowercsed(name)}}")).first)
        #expect("\(diagnostic.location)" == "3:18")
        #expect(diagnostic.message.hasPrefix("invalid Mustache template: unknown transform `lowercsed`; the transforms are capitalized"))
        #expect(diagnostic.fixIts.map(\.replacement) == ["lowercased"])
        #expect(diagnostic.fixIts.first.map { "\(diagnostic.file.location(of: $0.range.start))" } == "3:18")
    }

    @Test("a field of a list renders the kernel's wrapper, not a value: E341", arguments: ["{{items.items}}", "{{items.renderText}}"])
    func listFields(template: String) throws {
        let diagnostic = try #require(Self.diagnostics(Self.program(template)).first)
        #expect(diagnostic.code.id == "E341" && "\(diagnostic.location)" == "3:18")
        #expect(diagnostic.notes.map(\.message) == ["`items` is a list, which has no fields"])
    }

    @Test("forms that render as written are accepted", arguments: [
        "{{name}} {{{name}}} {{&name}} {{ name }} {{\tname\t}} {{n}} {{f}} {{flag}} {{items}} {{m}} {{m.k}} {{.name}}",
        "{{#flag }}y{{/ flag}}{{^flag}}n{{/flag}}{{! any thing at all }}{{name}}}",
        "{{#name}}{{.}}{{/name}}{{#n}}{{.}}{{/n}}{{#m}}{{.}} {{.k}} {{k}}{{/m}}",
        "{{uppercased(lowercased(name))}} {{capitalized(name)}} {{reversed(name)}} {{uppercased(f)}}",
        "{{plusone(n)}} {{minusone(n)}} {{#even(n)}}e{{/even(n)}}{{^odd(n)}}o{{/odd(n)}} {{equalzero(n)}}",
        "{{#uppercased(name)}}{{.}}{{/uppercased(name)}}",
        "{{#items}}{{.}} {{uppercased(.)}} {{index()}} {{plusone(index())}}{{#first()}}F{{/first()}}{{^last()}}, {{/last()}}{{/items}}",
        "{{#items}}{{#flag}}{{index()}}{{/flag}}{{/items}}",
        "{{#m}}{{#k}}{{uppercased(k)}} {{count}}{{/k}}{{/m}}",
        "{{#feedback}}{{feedback}} ({{feedback_kind}}){{/feedback}}",
        "{{=<% %>=}}<% name %>",
    ])
    func accepted(template: String) {
        let found = check(Self.program(template)).filter { !$0.hasPrefix("W344") }
        #expect(found.isEmpty, "\(found)")
    }

    @Test("positions inside a literal go past escapes")
    func escapes() {
        // `\u{e9}`, `\t` and `\"` are 6, 2 and 2 characters of source for 1 character of template each.
        #expect(check(Self.program("\\u{e9}\\t{{a b}}")) == ["E343@3:27"])
        #expect(check(Self.program(#"\"q\" {{a b}}"#)) == ["E343@3:25"])
    }

    @Test("positions inside a triple-quoted literal go past its dropped first line and indentation",
          arguments: ["\n", "\r\n"])
    func tripleQuoted(lineBreak: String) {
        let source = [
            "task t(name: string = \"Ada\") {", "  step s {", "    llm.query(\"\"\"", "      Hello {{name}},",
            "        {{a b}} and {{.}}", "      \"\"\") -> reply", "  }", "}", "",
        ].joined(separator: lineBreak)
        #expect(check(source) == ["E343@5:12", "E343@5:23"])
    }

    @Test("positions inside a template file")
    func templateFile() throws {
        let folder = try makeScratchDirectory()
        try "Hello {{name}}\n{{#flag}}{{.}}{{/flag}}\n  {{count(name)}} {{a..b}}\n".write(
            to: folder.appendingPathComponent("p.mustache"), atomically: true, encoding: .utf8)
        let program = folder.appendingPathComponent("t.spak").path
        try "task t(name: string = \"x\", flag: bool = true) {\n  step s { llm.query(template: \"p.mustache\") -> r }\n}\n"
            .write(toFile: program, atomically: true, encoding: .utf8)
        let found = try Frontend.check(path: program).diagnostics
            .sorted { ($0.location.line, $0.location.column) < ($1.location.line, $1.location.column) }
        #expect(found.map { "\($0.code.id) \(($0.file.path as NSString).lastPathComponent):\($0.location)" }
            == ["E343 p.mustache:2:12", "E343 p.mustache:3:5", "E343 p.mustache:3:21"])
        #expect(found.allSatisfy { $0.notes.last?.message == "template used here" })
    }
}
