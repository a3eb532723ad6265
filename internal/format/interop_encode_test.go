package format

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// encodeCase encodes one target and reads it back with a real tool.
type encodeCase struct {
	target   Target
	password string
	// check runs the tool on the written file and compares.
	check func(t *testing.T, fx *interopFixtures, f *family, path string)
}

// TestInteropEncode encodes the bundle decoded from openssl's PFX to every
// target and reads each output with openssl or keytool.
func TestInteropEncode(t *testing.T) {
	fx := interop(t)
	for _, f := range fx.families {
		data, err := os.ReadFile(f.files["modern.pfx"])
		if err != nil {
			t.Fatal(err)
		}
		b, err := Decode(data, []byte(interopPass))
		if err != nil {
			t.Fatalf("Decode: %v", err)
		}
		for _, tc := range encodeCases() {
			t.Run(f.alg+"/"+string(tc.target)+"/"+tc.password, func(t *testing.T) {
				t.Parallel()
				out, err := Encode(b, tc.target, EncodeOptions{Password: []byte(tc.password), Alias: "web"})
				if err != nil {
					t.Fatalf("Encode: %v", err)
				}
				path := filepath.Join(t.TempDir(), "out")
				if err := os.WriteFile(path, out, 0o600); err != nil {
					t.Fatal(err)
				}
				tc.check(t, fx, f, path)
			})
		}
	}
}

// encodeCases lists the targets and how to read each back.
func encodeCases() []encodeCase {
	pass := interopPass
	return []encodeCase{
		{TargetPEM, "", wantSubjects(0, 1, 2)},
		{TargetCert, "", wantFingerprint("PEM")},
		{TargetChain, "", wantSubjects(1, 2)},
		{TargetFullchain, "", wantSubjects(0, 1)},
		{TargetKey, "", wantKey("")},
		{TargetKey, pass, wantKey(pass)},
		{TargetCombinedPEM, "", both(wantKey(""), wantSubjects(0, 1))},
		{TargetCombinedPEM, pass, both(wantKey(pass), wantSubjects(0, 1))},
		{TargetDER, "", wantFingerprint("DER")},
		{TargetP7B, "", wantP7B},
		{TargetPFX, pass, both(wantPFX("", "PBES2, PBKDF2, AES-256-CBC"), wantKeytool("PKCS12", "PrivateKeyEntry", "Certificate chain length: 3"))},
		{TargetPFXLegacy, pass, wantPFX("-legacy", "pbeWithSHA1And3-KeyTripleDES-CBC")},
		{TargetJKS, pass, wantKeytool("JKS", "Alias name: web", "Entry type: PrivateKeyEntry", "Certificate chain length: 3")},
	}
}

// both runs two checks.
func both(a, b func(*testing.T, *interopFixtures, *family, string)) func(*testing.T, *interopFixtures, *family, string) {
	return func(t *testing.T, fx *interopFixtures, f *family, path string) {
		a(t, fx, f, path)
		b(t, fx, f, path)
	}
}

// mustRun runs a tool and fails the test on error.
func mustRun(t *testing.T, fx *interopFixtures, prog string, args ...string) string {
	t.Helper()
	out, err := fx.run(t.TempDir(), prog, args...)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return string(out)
}

// subjectLines keeps the "subject=" lines of openssl output.
func subjectLines(out string) []string {
	var s []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "subject=") {
			s = append(s, strings.TrimSpace(l))
		}
	}
	return s
}

// wantSubjects reads a PEM file's certificates, in order, with openssl.
func wantSubjects(idx ...int) func(*testing.T, *interopFixtures, *family, string) {
	return func(t *testing.T, fx *interopFixtures, f *family, path string) {
		p7 := path + ".p7"
		mustRun(t, fx, fx.openssl, "crl2pkcs7", "-nocrl", "-certfile", path, "-out", p7)
		got := subjectLines(mustRun(t, fx, fx.openssl, "pkcs7", "-in", p7, "-print_certs", "-noout"))
		var want []string
		for _, i := range idx {
			want = append(want, f.subjects[i])
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("certificates read by openssl (-want +got):\n%s", diff)
		}
	}
}

// wantFingerprint checks the leaf with openssl x509.
func wantFingerprint(inform string) func(*testing.T, *interopFixtures, *family, string) {
	return func(t *testing.T, fx *interopFixtures, f *family, path string) {
		out := mustRun(t, fx, fx.openssl, "x509", "-inform", inform, "-in", path, "-noout", "-fingerprint", "-sha256")
		_, fp, _ := strings.Cut(strings.TrimSpace(out), "=")
		if got := strings.ToLower(strings.ReplaceAll(fp, ":", "")); got != f.fp[0] {
			t.Errorf("openssl fingerprint = %s, want %s", got, f.fp[0])
		}
	}
}

// wantKey reads the key with openssl pkey and compares its public half
// with the leaf certificate's.
func wantKey(password string) func(*testing.T, *interopFixtures, *family, string) {
	return func(t *testing.T, fx *interopFixtures, f *family, path string) {
		args := []string{"pkey", "-in", path, "-pubout"}
		if password != "" {
			args = append(args, "-passin", "pass:"+password)
		}
		got := mustRun(t, fx, fx.openssl, args...)
		want := mustRun(t, fx, fx.openssl, "x509", "-in", f.files["leaf.crt"], "-noout", "-pubkey")
		if got != want {
			t.Errorf("openssl pkey public key = %q, want %q", got, want)
		}
		raw, _ := os.ReadFile(path)
		if enc := strings.Contains(string(raw), "ENCRYPTED PRIVATE KEY"); enc != (password != "") {
			t.Errorf("encrypted = %v, want %v", enc, password != "")
		}
	}
}

// wantP7B prints the certificates of a DER PKCS#7 with openssl.
func wantP7B(t *testing.T, fx *interopFixtures, f *family, path string) {
	got := subjectLines(mustRun(t, fx, fx.openssl, "pkcs7", "-inform", "DER", "-in", path, "-print_certs", "-noout"))
	if diff := cmp.Diff(f.subjects, got); diff != "" {
		t.Errorf("openssl pkcs7 certificates (-want +got):\n%s", diff)
	}
}

// wantPFX reads a PFX with openssl pkcs12 -info: three certificates, the
// key, and the expected encryption algorithm.
func wantPFX(flag, algorithm string) func(*testing.T, *interopFixtures, *family, string) {
	return func(t *testing.T, fx *interopFixtures, f *family, path string) {
		args := []string{"pkcs12", "-in", path, "-info", "-passin", "pass:" + interopPass}
		if flag != "" {
			args = append(args, flag)
		}
		certs := mustRun(t, fx, fx.openssl, append(args, "-nokeys")...)
		if got := subjectLines(certs); len(got) != 3 || got[0] != f.subjects[0] {
			t.Errorf("openssl pkcs12 -nokeys subjects = %q, want 3 starting with %q", got, f.subjects[0])
		}
		out, err := fx.runCombined(append(args, "-nodes")...)
		if err != nil {
			t.Fatalf("openssl pkcs12 -nodes: %v: %s", err, out)
		}
		for _, want := range []string{"PRIVATE KEY-----", algorithm} {
			if !strings.Contains(out, want) {
				t.Errorf("openssl pkcs12 -info -nodes output lacks %q:\n%s", want, out)
			}
		}
	}
}

// wantKeytool lists a key store with keytool -list -v.
func wantKeytool(storetype string, wants ...string) func(*testing.T, *interopFixtures, *family, string) {
	return func(t *testing.T, fx *interopFixtures, f *family, path string) {
		out := mustRun(t, fx, fx.keytool, "-list", "-v", "-keystore", path, "-storetype", storetype, "-storepass", interopPass)
		for _, want := range wants {
			if !strings.Contains(out, want) {
				t.Errorf("keytool -list output lacks %q:\n%s", want, out)
			}
		}
	}
}

// TestInteropEncodeTrustStore writes a key-less bundle (decoded from a
// keytool trust store) as PFX and JKS and lists them with keytool.
func TestInteropEncodeTrustStore(t *testing.T) {
	fx := interop(t)
	f := fx.families[0]
	data, err := os.ReadFile(f.files["trust.jks"])
	if err != nil {
		t.Fatal(err)
	}
	b, err := Decode(data, []byte(interopPass))
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	for _, tc := range []struct {
		target    Target
		storetype string
	}{{TargetPFX, "PKCS12"}, {TargetJKS, "JKS"}} {
		t.Run(string(tc.target), func(t *testing.T) {
			out := mustEncode(t, b, tc.target, interopPass)
			path := filepath.Join(t.TempDir(), "trust")
			if err := os.WriteFile(path, out, 0o600); err != nil {
				t.Fatal(err)
			}
			list := mustRun(t, fx, fx.keytool, "-list", "-keystore", path, "-storetype", tc.storetype, "-storepass", interopPass)
			if got := strings.Count(list, "trustedCertEntry"); got != 2 {
				t.Errorf("keytool lists %d trustedCertEntry, want 2:\n%s", got, list)
			}
		})
	}
}
