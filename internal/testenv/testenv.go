// Package testenv finds the real outside components that certkeeper's tests
// run against (openssl, keytool, PostgreSQL, ...). When a component is
// missing a test skips, unless CERTKEEPER_TEST_STRICT=1, in which case it
// fails: the project's test command sets strict mode so that nothing is
// silently left untested.
package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// Strict reports whether missing components must fail tests.
func Strict() bool { return os.Getenv("CERTKEEPER_TEST_STRICT") == "1" }

// Missing skips the test, or fails it in strict mode, saying what is missing.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if Strict() {
		t.Fatalf("required test component missing (strict mode): %s", msg)
	}
	t.Skipf("test component missing: %s (run scripts/test to install it)", msg)
}

// Command returns the path of an outside program, or skips/fails the test.
func Command(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, "command %q not found in PATH", name)
	}
	return p
}

// PostgresDSN returns a DSN for a fresh, empty PostgreSQL database that is
// dropped when the test ends. The server is found through
// CERTKEEPER_TEST_POSTGRES, a DSN with rights to create databases (the test
// command starts a server on loopback and sets it).
func PostgresDSN(t testing.TB) string {
	t.Helper()
	admin := os.Getenv("CERTKEEPER_TEST_POSTGRES")
	if admin == "" {
		Missing(t, "CERTKEEPER_TEST_POSTGRES is not set")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatalf("testenv: open postgres: %v", err)
	}
	defer db.Close()
	name := "ck_test_" + randomHex(6)
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("testenv: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		db, err := sql.Open("pgx", admin)
		if err != nil {
			return
		}
		defer db.Close()
		if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("testenv: drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("testenv: CERTKEEPER_TEST_POSTGRES is not a URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
