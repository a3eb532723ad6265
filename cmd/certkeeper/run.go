package main

import (
	"context"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/certkeeper/certkeeper/internal/cli"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

// run wires the process to the command line.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	return cli.Execute(ctx, args, cli.Env{
		Stdin: stdin, Stdout: stdout, Stderr: stderr, Getenv: getenv, Now: time.Now,
		Version: buildVersion(), StderrIsTerminal: isTerminal(stderr),
	})
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// oneLine folds an error message onto one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
