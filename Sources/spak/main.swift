import Foundation
import SPAKCommands

// A responder that exits without reading its request must not kill spak with SIGPIPE; the
// failed write is reported as an error instead.
signal(SIGPIPE, SIG_IGN)
exit(SpakCLI.run(Array(CommandLine.arguments.dropFirst())))
