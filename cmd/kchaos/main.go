// Command kchaos runs chaos tests against a real Apache Kafka cluster and checks their histories.
//
// Each subcommand lives in a file of its own and registers itself in commands; main only dispatches.
package main

import (
	"fmt"
	"os"
	"runtime/debug"
	"sort"
)

// Exit statuses shared by every subcommand (shared/HISTORY.md): 0 valid, 1 invalid, 2 unknown,
// 3 the run or check could not be done.
const (
	exitValid   = 0
	exitInvalid = 1
	exitUnknown = 2
	exitError   = 3
)

// command is one subcommand: a one-line summary for the usage text and the function that runs it
// with the arguments after its name, returning the exit status.
type command struct {
	summary string
	run     func(args []string) int
}

// commands is filled by the init functions of the subcommand files.
var commands = map[string]command{}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: kchaos COMMAND [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for name := range commands {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(os.Stderr, "  %-8s %s\n", name, commands[name].summary)
	}
	fmt.Fprintln(os.Stderr, "\nRun 'kchaos COMMAND -h' for the flags of one command.")
}

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(exitError)
	}
	name := os.Args[1]
	if name == "-h" || name == "--help" || name == "help" {
		usage()
		os.Exit(0)
	}
	if name == "--version" || name == "version" {
		fmt.Println("kchaos", version())
		os.Exit(0)
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "kchaos: unknown command %q\n", name)
		usage()
		os.Exit(exitError)
	}
	os.Exit(runCommand(cmd, os.Args[2:]))
}

// runCommand runs cmd and turns a panic into exit 3 with its message: a crash must never read
// as a verdict (2 is UNKNOWN).
func runCommand(cmd command, args []string) (code int) {
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(os.Stderr, "kchaos: internal error (a bug; please report it with the input): %v\n%s", p, debug.Stack())
			code = exitError
		}
	}()
	return cmd.run(args)
}

// version is the module's version and, for a build from a checkout, its VCS revision.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := info.Main.Version
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			v += " " + s.Value
		case "vcs.modified":
			if s.Value == "true" {
				v += " (modified)"
			}
		}
	}
	return v
}
