/// A catalog entry: a stable ID that never changes meaning, a short kebab-case name and a
/// severity. `docs/diagnostics.md` lists every entry; a test keeps the two in step.
public struct DiagnosticCode: Sendable, Hashable, Codable {
    /// Stable ID such as `E201`; `E` for errors, `W` for warnings.
    public let id: String
    /// Short name such as `unexpected-token`.
    public let name: String
    /// Whether it is an error or a warning.
    public let severity: Severity

    init(_ id: String, _ name: String) {
        self.id = id
        self.name = name
        self.severity = id.hasPrefix("W") ? .warning : .error
    }
}

/// The words of one diagnostic together with its catalog entry.
public struct DiagnosticMessage: Sendable {
    /// The catalog entry.
    public let code: DiagnosticCode
    /// The text shown after `error:` or `warning:`.
    public let text: String
}

extension DiagnosticCode {
    // MARK: Reading the file
    public static let invalidUTF8 = DiagnosticCode("E001", "invalid-utf8")
    public static let emptyProgram = DiagnosticCode("E002", "empty-program")
    // MARK: Tokens
    public static let unexpectedCharacter = DiagnosticCode("E101", "unexpected-character")
    public static let unterminatedString = DiagnosticCode("E102", "unterminated-string")
    public static let invalidEscape = DiagnosticCode("E103", "invalid-escape")
    public static let unterminatedMultilineString = DiagnosticCode("E104", "unterminated-multiline-string")
    public static let multilineIndentation = DiagnosticCode("W105", "multiline-string-indentation")
    // MARK: Syntax
    public static let unexpectedToken = DiagnosticCode("E201", "unexpected-token")
    public static let unclosedDelimiter = DiagnosticCode("E202", "unclosed-delimiter")
    public static let misplacedStatement = DiagnosticCode("E203", "misplaced-statement")
    public static let unboundedLoop = DiagnosticCode("E204", "unbounded-loop")
    public static let chainedComparison = DiagnosticCode("E205", "chained-comparison")
    public static let nestingTooDeep = DiagnosticCode("E206", "nesting-too-deep")
    public static let multipleTasks = DiagnosticCode("E207", "multiple-tasks")
    public static let assignmentWithoutLet = DiagnosticCode("E208", "assignment-without-let")
    // MARK: Names
    public static let undefinedName = DiagnosticCode("E301", "undefined-name")
    public static let duplicateDefinition = DiagnosticCode("E302", "duplicate-definition")
    public static let shadowing = DiagnosticCode("W303", "shadowing")
    public static let usedBeforeBound = DiagnosticCode("E304", "used-before-bound")
    public static let neverBound = DiagnosticCode("E305", "never-bound")
    public static let builtinRebound = DiagnosticCode("E306", "builtin-rebound")
    // MARK: Steps and policies
    public static let unknownStep = DiagnosticCode("E311", "unknown-step")
    public static let retryForward = DiagnosticCode("E312", "retry-forward")
    public static let invalidRetryBound = DiagnosticCode("E313", "invalid-retry-bound")
    public static let duplicatePolicy = DiagnosticCode("E314", "duplicate-on-fail")
    public static let policyNeverTriggers = DiagnosticCode("W315", "on-fail-never-triggers")
    public static let emptyStep = DiagnosticCode("W316", "empty-step")
    public static let invariantCheckedOnce = DiagnosticCode("W317", "invariant-checked-once")
    public static let invariantNeverChecked = DiagnosticCode("W318", "invariant-never-checked")
    // MARK: Calls and effects
    public static let unknownFunction = DiagnosticCode("E321", "unknown-function")
    public static let unknownEffect = DiagnosticCode("E322", "unknown-effect")
    public static let argumentCount = DiagnosticCode("E323", "argument-count")
    public static let unknownArgument = DiagnosticCode("E324", "unknown-argument")
    public static let duplicateArgument = DiagnosticCode("E325", "duplicate-argument")
    public static let positionalAfterNamed = DiagnosticCode("E326", "positional-after-named")
    public static let invalidBinding = DiagnosticCode("E327", "invalid-binding")
    public static let missingPrompt = DiagnosticCode("E328", "missing-prompt")
    // MARK: Types and values
    public static let typeMismatch = DiagnosticCode("E331", "type-mismatch")
    public static let unknownType = DiagnosticCode("E332", "unknown-type")
    public static let unknownField = DiagnosticCode("E333", "unknown-field")
    public static let integerOverflow = DiagnosticCode("E334", "integer-overflow")
    public static let invalidBudget = DiagnosticCode("E335", "invalid-budget")
    public static let loopBound = DiagnosticCode("E336", "loop-bound")
    // MARK: Templates
    public static let templateUnknownVariable = DiagnosticCode("E341", "template-unknown-variable")
    public static let templateFileMissing = DiagnosticCode("E342", "template-file-missing")
    public static let templateSyntax = DiagnosticCode("E343", "template-syntax")
    public static let templateNotChecked = DiagnosticCode("W344", "template-not-checked")
    public static let notATemplate = DiagnosticCode("W345", "not-a-template")
    // MARK: Tools and allow lines
    public static let allowNeverMatches = DiagnosticCode("E351", "allow-never-matches")
    public static let allowUnused = DiagnosticCode("W352", "allow-unused")
    public static let commandNotAllowed = DiagnosticCode("E353", "command-not-allowed")
    public static let invalidCommand = DiagnosticCode("E354", "invalid-command")
    // MARK: Evaluation
    public static let unknownMetric = DiagnosticCode("E361", "unknown-metric")
    public static let multipleObjectives = DiagnosticCode("E362", "multiple-objectives")

    /// Every entry, in ID order.
    public static let all: [DiagnosticCode] = [
        .invalidUTF8, .emptyProgram,
        .unexpectedCharacter, .unterminatedString, .invalidEscape, .unterminatedMultilineString,
        .multilineIndentation,
        .unexpectedToken, .unclosedDelimiter, .misplacedStatement, .unboundedLoop, .chainedComparison,
        .nestingTooDeep, .multipleTasks, .assignmentWithoutLet,
        .undefinedName, .duplicateDefinition, .shadowing, .usedBeforeBound, .neverBound, .builtinRebound,
        .unknownStep, .retryForward, .invalidRetryBound, .duplicatePolicy, .policyNeverTriggers, .emptyStep,
        .invariantCheckedOnce, .invariantNeverChecked,
        .unknownFunction, .unknownEffect, .argumentCount, .unknownArgument, .duplicateArgument,
        .positionalAfterNamed, .invalidBinding, .missingPrompt,
        .typeMismatch, .unknownType, .unknownField, .integerOverflow, .invalidBudget, .loopBound,
        .templateUnknownVariable, .templateFileMissing, .templateSyntax, .templateNotChecked, .notATemplate,
        .allowNeverMatches, .allowUnused, .commandNotAllowed, .invalidCommand,
        .unknownMetric, .multipleObjectives,
    ]
}

/// Every message SPAK's front end can print. Call sites pick one of these; none builds text.
extension DiagnosticMessage {
    private init(_ code: DiagnosticCode, _ text: String) {
        self.code = code
        self.text = text
    }

    // MARK: Reading the file
    public static func invalidUTF8(byteOffset: Int) -> Self {
        .init(.invalidUTF8, "file is not valid UTF-8 text (first bad byte at offset \(byteOffset))")
    }
    public static let emptyProgram = Self(.emptyProgram, "empty program: expected `task NAME(...) { ... }`")

    // MARK: Tokens
    public static func unexpectedCharacter(_ character: String) -> Self {
        .init(.unexpectedCharacter, "unexpected character \(character)")
    }
    public static let unterminatedString = Self(.unterminatedString, "unterminated string literal: add a closing `\"` on the same line")
    public static func invalidEscape(_ escape: String) -> Self {
        .init(.invalidEscape, "invalid escape `\(escape)` in string; valid escapes are \\\" \\\\ \\n \\r \\t \\0 \\{ \\} and \\u{...}")
    }
    public static let unterminatedMultilineString = Self(.unterminatedMultilineString, "unterminated multi-line string: add a closing `\"\"\"`")
    public static let multilineIndentation = Self(.multilineIndentation, "line is indented less than the closing `\"\"\"`; its indentation is kept as written")

    // MARK: Syntax
    public static func unexpectedToken(expected: String, found: String) -> Self {
        .init(.unexpectedToken, "expected \(expected), found \(found)")
    }
    public static func unclosedDelimiter(_ closer: String, closing what: String) -> Self {
        .init(.unclosedDelimiter, "expected `\(closer)` to close \(what)")
    }
    public static func misplacedStatement(_ what: String, where place: String) -> Self {
        .init(.misplacedStatement, "\(what) cannot appear \(place)")
    }
    public static let unboundedLoop = Self(.unboundedLoop, "every loop needs a bound: write `repeat NAME in 1...N until CONDITION { ... }`")
    public static let chainedComparison = Self(.chainedComparison, "comparisons cannot be chained; combine them with `and`")
    public static func nestingTooDeep(limit: Int) -> Self {
        .init(.nestingTooDeep, "nesting is deeper than \(limit) levels; split the expression with `let` or flatten the blocks")
    }
    public static let multipleTasks = Self(.multipleTasks, "a file holds exactly one task; move this task to its own file")
    public static func assignmentWithoutLet(_ name: String) -> Self {
        .init(.assignmentWithoutLet, "a binding needs `let`: write `let \(name) = ...`")
    }

    // MARK: Names
    public static func undefinedName(_ name: String) -> Self {
        .init(.undefinedName, "cannot find `\(name)` in this task")
    }
    public static func duplicateDefinition(_ kind: String, _ name: String) -> Self {
        .init(.duplicateDefinition, "\(kind) `\(name)` is defined more than once")
    }
    public static func shadowing(_ name: String, shadows what: String) -> Self {
        .init(.shadowing, "`\(name)` shadows \(what)")
    }
    public static func usedBeforeBound(_ name: String) -> Self {
        .init(.usedBeforeBound, "`\(name)` is used before any statement binds it")
    }
    public static func neverBound(_ name: String, in place: String) -> Self {
        .init(.neverBound, "\(place) names `\(name)`, which no statement in the task binds")
    }
    public static func builtinRebound(_ name: String) -> Self {
        .init(.builtinRebound, "`\(name)` is set by the kernel and cannot be bound by the program")
    }

    // MARK: Steps and policies
    public static func unknownStep(_ name: String) -> Self {
        .init(.unknownStep, "no step named `\(name)` in this task")
    }
    public static func retryForward(_ name: String) -> Self {
        .init(.retryForward, "`retry \(name)` must go back to this step or an earlier one in the same or an enclosing block")
    }
    public static let invalidRetryBound = Self(.invalidRetryBound, "`max` must be at least 1")
    public static let duplicatePolicy = Self(.duplicatePolicy, "a step has at most one `on_fail`")
    public static func policyNeverTriggers(step: String, retry: Bool) -> Self {
        .init(.policyNeverTriggers, "`on_fail` never triggers: no invariant names a variable that step `\(step)` binds, "
              + "no reply it gets is checked (`as json`, `schema:`)"
              + (retry ? ", and nothing in it can fail at run time" : ""))
    }
    public static func emptyStep(_ name: String) -> Self {
        .init(.emptyStep, "step `\(name)` does nothing")
    }
    /// `readsVariables` is false for an invariant that reads no variable at all.
    public static func invariantCheckedOnce(_ name: String, readsVariables: Bool) -> Self {
        .init(.invariantCheckedOnce, readsVariables
              ? "invariant `\(name)` reads only task parameters and builtins, which the program never binds"
              : "invariant `\(name)` reads no variable")
    }
    public static func invariantNeverChecked(_ name: String, _ first: String, _ second: String) -> Self {
        .init(.invariantNeverChecked, "invariant `\(name)` can never be checked: `\(first)` and `\(second)` are never bound in the same run")
    }

    // MARK: Calls and effects
    public static func unknownFunction(_ name: String) -> Self {
        .init(.unknownFunction, "no function named `\(name)` in the standard library")
    }
    public static func unknownEffect(_ name: String) -> Self {
        .init(.unknownEffect, "unknown effect `\(name)`; effects are tool.read, tool.write, tool.run and llm.query")
    }
    public static func argumentCount(_ callee: String, expected: String, found: Int) -> Self {
        .init(.argumentCount, "`\(callee)` takes \(expected), but \(found) \(found == 1 ? "was" : "were") given")
    }
    public static func unknownArgument(_ label: String, of callee: String, accepted: String) -> Self {
        .init(.unknownArgument, "`\(callee)` has no argument `\(label):`; it accepts \(accepted)")
    }
    public static func duplicateArgument(_ label: String) -> Self {
        .init(.duplicateArgument, "argument `\(label):` is given more than once")
    }
    public static let positionalAfterNamed = Self(.positionalAfterNamed, "positional arguments must come before named ones")
    public static func invalidBinding(_ reason: String) -> Self { .init(.invalidBinding, reason) }
    public static let missingPrompt = Self(.missingPrompt, "`llm.query` needs exactly one prompt: a string argument or `template: \"FILE\"`")

    // MARK: Types and values
    public static func typeMismatch(_ what: String, expected: String, found: String) -> Self {
        .init(.typeMismatch, "\(what) must be \(expected), but it is \(found)")
    }
    public static func unknownType(_ name: String) -> Self {
        .init(.unknownType, "unknown type `\(name)`; types are int, float, string, bool, duration, list, map and any")
    }
    public static func unknownField(_ field: String, of what: String, fields: String) -> Self {
        .init(.unknownField, "\(what) has no field `\(field)`; its fields are \(fields)")
    }
    public static func integerOverflow(_ text: String) -> Self {
        .init(.integerOverflow, "integer literal `\(text)` does not fit in 64 bits")
    }
    public static func invalidBudget(_ reason: String) -> Self { .init(.invalidBudget, reason) }
    public static func loopBound(_ reason: String) -> Self { .init(.loopBound, reason) }

    // MARK: Templates
    public static func templateUnknownVariable(_ name: String) -> Self {
        .init(.templateUnknownVariable, "template names `\(name)`, which is not bound at this point")
    }
    public static func templateFileMissing(_ path: String) -> Self {
        .init(.templateFileMissing, "template file `\(path)` does not exist (paths are relative to the program's folder)")
    }
    public static func templateSyntax(_ reason: String) -> Self {
        .init(.templateSyntax, "invalid Mustache template: \(reason)")
    }
    public static func templateNotChecked(_ reason: String) -> Self {
        .init(.templateNotChecked, "template variables not checked: \(reason)")
    }
    public static let notATemplate = Self(.notATemplate, "`{{...}}` is only filled in inside effect arguments; this string is used as written")

    // MARK: Tools and allow lines
    public static func allowNeverMatches(_ reason: String) -> Self { .init(.allowNeverMatches, reason) }
    public static func allowUnused(_ prefix: String) -> Self {
        .init(.allowUnused, "`allow tool.run \"\(prefix)\"` admits no `tool.run` in this task")
    }
    public static func commandNotAllowed(_ program: String) -> Self {
        .init(.commandNotAllowed, "`\(program)` is not admitted by any `allow tool.run` line, so this command would be refused")
    }
    public static func invalidCommand(_ reason: String) -> Self { .init(.invalidCommand, reason) }

    // MARK: Evaluation
    public static func unknownMetric(_ name: String) -> Self {
        .init(.unknownMetric, "the objective names `\(name)`, which no `metric` in this `evaluation` declares")
    }
    public static let multipleObjectives = Self(.multipleObjectives, "a task has at most one `objective`")
}
