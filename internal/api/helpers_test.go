package api_test

import (
	"errors"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/certkeeper/certkeeper/internal/stack/stacktest"
)

func errorsAs(err error, target any) bool { return errors.As(err, target) }

// testLogger sends the API's log to the test log.
func testLogger(t *testing.T) *slog.Logger { return stacktest.Logger(t) }

func newResponseRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func writeTestFile(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(name, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// run runs a program and returns its output, failing the test on error.
func run(t *testing.T, prog string, args ...string) string {
	t.Helper()
	out, err := exec.Command(prog, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(prog), strings.Join(args, " "), err, out)
	}
	return string(out)
}
