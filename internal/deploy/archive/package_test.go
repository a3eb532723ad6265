package archive

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/deploy/engine"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

const testPassword = "correct horse battery"

// fastKDF is a cheap key derivation for the tests: each test passes it
// to Seal, so nothing shared is changed.
var fastKDF = KDF{Time: 1, Memory: 64, Threads: 1, SaltSize: 16}

func samplePackage() *Package {
	return &Package{
		Created:      time.Date(2026, 4, 5, 6, 7, 8, 0, time.UTC),
		Target:       "web1",
		Preset:       "nginx",
		Certificate:  "www.example.test",
		Instructions: "1. copy\n2. reload",
		Job: engine.Job{
			Plan: engine.Plan{Directory: "/etc/nginx/tls", Owner: "root:root", TestCommand: "nginx -t", ReloadCommand: "nginx -s reload",
				Timeout: 30 * time.Second, Label: "web1",
				Files: []engine.PlanFile{{Path: "fullchain.pem", Data: []byte("CERT"), Mode: 0o644}, {Path: "privkey.pem", Data: []byte("KEY"), Mode: 0o600, Secret: true}}},
			Check:             inventory.CheckSpec{Host: "web1.example.test", Port: 8443},
			ExpectedSHA256:    strings.Repeat("ab", 32),
			Chain:             []byte("CHAIN"),
			RollbackOnFailure: true,
		},
	}
}

func TestPackageRoundTrip(t *testing.T) {
	want := samplePackage()
	data, err := Seal(want, testPassword, fastKDF)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("CERTKEEPER-PACKAGE 1\n{")) {
		t.Errorf("package starts %q, want the magic line then the JSON header", data[:min(len(data), 30)])
	}
	if bytes.Contains(data, []byte("privkey")) || bytes.Contains(data, []byte("nginx")) {
		t.Error("the package shows its content in clear")
	}
	got, err := Open(data, testPassword)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("OpenPackage = %+v\nwant %+v", got, want)
	}
	again, err := Seal(want, testPassword, fastKDF)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(again, data) {
		t.Error("two seals are equal: salt and nonce are not random")
	}
}

// TestPackageDefaults seals with the real parameters: Open must
// accept them.
func TestPackageDefaults(t *testing.T) {
	data, err := Seal(samplePackage(), testPassword, KDF{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(`"kdf":"argon2id","time":3,"memory":65536,"threads":4`)) {
		t.Errorf("header %q does not carry the default parameters", bytes.SplitN(data, []byte("\n"), 3)[1])
	}
	if _, err := Open(data, testPassword); err != nil {
		t.Fatalf("OpenPackage with the default parameters: %v", err)
	}
}

// TestSealRefusesKDFOpenRefuses: parameters that Open would refuse are
// refused when sealing, before a package nobody can open is made.
func TestSealRefusesKDFOpenRefuses(t *testing.T) {
	for _, kdf := range []KDF{{Time: 11}, {Memory: 512 << 10}, {Threads: 17}, {SaltSize: 8}, {Memory: 16, Threads: 4}} {
		if _, err := Seal(samplePackage(), testPassword, kdf); err == nil || !strings.Contains(err.Error(), "KDF") {
			t.Errorf("Seal with %+v: %v; want the KDF parameters refused", kdf, err)
		}
	}
}

func TestPackagePassword(t *testing.T) {
	if _, err := Seal(samplePackage(), "short pass1", fastKDF); err == nil || !strings.Contains(err.Error(), "at least 12 characters") {
		t.Errorf("SealPackage with 11 characters: %v, want refused", err)
	}
	if _, err := Seal(samplePackage(), "éééééééééééé", fastKDF); err != nil {
		t.Errorf("SealPackage with 12 non-ASCII characters: %v", err)
	}
	data, err := Seal(samplePackage(), testPassword, fastKDF)
	if err != nil {
		t.Fatal(err)
	}
	for _, pw := range []string{"correct horse battery!", "Correct horse battery", "", "short"} {
		if _, err := Open(data, pw); !errors.Is(err, ErrWrongPassword) {
			t.Errorf("OpenPackage(%q) = %v, want ErrWrongPassword", pw, err)
		}
	}
}

// TestPackageTamper flips each bit position of one byte at every offset:
// nothing altered may open.
func TestPackageTamper(t *testing.T) {
	data, err := Seal(samplePackage(), testPassword, fastKDF)
	if err != nil {
		t.Fatal(err)
	}
	headerEnd := bytes.IndexByte(data[len(packageMagic):], '\n') + len(packageMagic) + 1
	for i := range data {
		for _, bit := range []byte{0x01, 0x80} {
			bad := bytes.Clone(data)
			bad[i] ^= bit
			_, err := Open(bad, testPassword)
			if err == nil {
				t.Fatalf("byte %d ^ %#x: the altered package opened", i, bit)
			}
			if i >= headerEnd && !errors.Is(err, ErrWrongPassword) {
				t.Errorf("byte %d (body) ^ %#x: %v, want ErrWrongPassword", i, bit, err)
			}
		}
	}
	for _, n := range []int{0, 10, headerEnd, headerEnd + 12, len(data) - 1} {
		if _, err := Open(data[:n], testPassword); err == nil {
			t.Errorf("truncated to %d bytes: opened", n)
		}
	}
	if _, err := Open(append(bytes.Clone(data), 0), testPassword); !errors.Is(err, ErrWrongPassword) {
		t.Errorf("with a byte appended: %v, want ErrWrongPassword", err)
	}
	// The same header parameters written differently: only the
	// authentication of the header bytes can notice.
	spaced := bytes.Replace(data, []byte(packageMagic+"{"), []byte(packageMagic+"{ "), 1)
	if _, err := Open(spaced, testPassword); !errors.Is(err, ErrWrongPassword) {
		t.Errorf("with a space added to the header: %v, want ErrWrongPassword", err)
	}
}

// hostileHeader builds a package whose header has the given fields.
func hostileHeader(fields string) []byte {
	body := bytes.Repeat([]byte{7}, 64)
	return append([]byte(packageMagic+"{"+fields+"}\n"), body...)
}

const salt16 = `"salt":"AAAAAAAAAAAAAAAAAAAAAA=="`

func TestPackageHostileHeaders(t *testing.T) {
	tests := []struct {
		name, fields, want string
	}{
		{"sane", `"version":1,"kdf":"argon2id","time":1,"memory":64,"threads":1,` + salt16, "wrong password"},
		{"huge memory", `"version":1,"kdf":"argon2id","time":1,"memory":4194304,"threads":1,` + salt16, "KDF memory"},
		{"memory just over", `"version":1,"kdf":"argon2id","time":1,"memory":262145,"threads":1,` + salt16, "KDF memory"},
		{"memory overflows", `"version":1,"kdf":"argon2id","time":1,"memory":4294967296,"threads":1,` + salt16, "header is not valid"},
		{"too few KiB per thread", `"version":1,"kdf":"argon2id","time":1,"memory":8,"threads":4,` + salt16, "KDF memory"},
		{"many passes", `"version":1,"kdf":"argon2id","time":1000000,"memory":64,"threads":1,` + salt16, "KDF time"},
		{"zero passes", `"version":1,"kdf":"argon2id","time":0,"memory":64,"threads":1,` + salt16, "KDF time"},
		{"many threads", `"version":1,"kdf":"argon2id","time":1,"memory":8192,"threads":255,` + salt16, "KDF threads"},
		{"zero threads", `"version":1,"kdf":"argon2id","time":1,"memory":64,"threads":0,` + salt16, "KDF threads"},
		{"short salt", `"version":1,"kdf":"argon2id","time":1,"memory":64,"threads":1,"salt":"AAAA"`, "salt"},
		{"long salt", `"version":1,"kdf":"argon2id","time":1,"memory":64,"threads":1,"salt":"` + strings.Repeat("A", 100) + `"`, "salt"},
		{"other kdf", `"version":1,"kdf":"scrypt","time":1,"memory":64,"threads":1,` + salt16, "key derivation"},
		{"version", `"version":2,"kdf":"argon2id","time":1,"memory":64,"threads":1,` + salt16, "unknown version 2"},
		{"unknown field", `"version":1,"kdf":"argon2id","time":1,"memory":64,"threads":1,"cost":9,` + salt16, "header is not valid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			_, err := Open(hostileHeader(tt.fields), testPassword)
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("err = %v, want one line with %q", err, tt.want)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("refusing took %v", d)
			}
		})
	}
}

func TestPackageFraming(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "not a certkeeper package"},
		{"other magic", []byte("CERTKEEPER-PACKAGE 2\n{}\n"), "not a certkeeper package"},
		{"no header end", append([]byte(packageMagic), bytes.Repeat([]byte("x"), 5000)...), "header line"},
		{"too large", append([]byte(packageMagic), make([]byte, MaxSize)...), "exceeds the limit"},
		{"truncated body", []byte(packageMagic + `{"version":1,"kdf":"argon2id","time":1,"memory":64,"threads":1,` + salt16 + "}\nshort"), "truncated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Open(tt.data, testPassword)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func FuzzOpenPackage(f *testing.F) {
	data, err := Seal(samplePackage(), testPassword, fastKDF)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add(hostileHeader(`"version":1,"kdf":"argon2id","time":1,"memory":4194304,"threads":1,` + salt16))
	f.Add([]byte(packageMagic))
	f.Fuzz(func(t *testing.T, data []byte) {
		if h, _, _, err := splitPackage(data); err == nil && uint64(h.Time)*uint64(h.Memory) > 1<<10 {
			t.Skipf("valid but costly parameters (time %d, memory %d KiB)", h.Time, h.Memory)
		}
		p, err := Open(data, testPassword)
		if err != nil {
			if p != nil || strings.Contains(err.Error(), "\n") {
				t.Fatalf("OpenPackage = %v, %q: want nil and a one-line error", p, err)
			}
			return
		}
		if p == nil {
			t.Fatal("OpenPackage = nil, nil")
		}
	})
}
