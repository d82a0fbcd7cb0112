import Foundation
import SPAKCommands

exit(SpakCLI.run(Array(CommandLine.arguments.dropFirst())))
