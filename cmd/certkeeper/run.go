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
	tuneGC(getenv)
	return cli.Execute(ctx, args, cli.Env{
		Stdin: stdin, Stdout: stdout, Stderr: stderr, Getenv: getenv, Now: time.Now,
		Version: buildVersion(), StderrIsTerminal: isTerminal(stderr),
	})
}

// GC settings applied unless GOGC or GOMEMLIMIT are set. certkeeper's live
// heap is small (tens of MiB) while issuance and import allocate briskly:
// letting the heap grow to five times the live data before collecting
// raises CA issuance throughput by about half (docs/BENCHMARKS.md), and the
// soft limit makes the collector work harder before memory use gets large.
const (
	defaultGCPercent   = 400
	defaultMemoryLimit = 1 << 30
)

func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
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
