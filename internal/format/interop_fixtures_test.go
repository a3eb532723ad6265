package format

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/certkeeper/certkeeper/internal/testenv"
)

// interopPass protects every password-protected interop fixture.
const interopPass = "changeit-42"

// tools are the outside programs interop tests run.
type tools struct{ openssl, keytool string }

// family is one root -> intermediate -> leaf hierarchy made by openssl,
// with the leaf key and chain written in every container.
type family struct {
	alg      string            // "rsa" or "ec"
	dir      string            // where the files are
	fp       []string          // SHA-256 fingerprints: leaf, intermediate, root
	subjects []string          // openssl "subject=" lines in the same order
	files    map[string]string // fixture name -> path
}

// interopFixtures is built once per test binary.
type interopFixtures struct {
	tools
	families []*family
	ed25519  string // an Ed25519 PKCS#8 key file
	edPub    string // its public key, PEM, as openssl prints it
}

var (
	interopOnce sync.Once
	interopVal  *interopFixtures
	interopErr  error
	interopRoot string // temporary directory removed by TestMain
)

func TestMain(m *testing.M) {
	code := m.Run()
	if interopRoot != "" {
		os.RemoveAll(interopRoot)
	}
	os.Exit(code)
}

// interop returns the shared fixtures, skipping (or failing in strict
// mode) when openssl or keytool is missing.
func interop(t *testing.T) *interopFixtures {
	t.Helper()
	tl := tools{openssl: testenv.Command(t, "openssl"), keytool: testenv.Command(t, "keytool")}
	interopOnce.Do(func() { interopVal, interopErr = makeInterop(tl) })
	if interopErr != nil {
		t.Fatalf("generating interop fixtures: %v", interopErr)
	}
	return interopVal
}

// makeInterop generates both families concurrently.
func makeInterop(tl tools) (*interopFixtures, error) {
	root, err := os.MkdirTemp("", "certkeeper-format-interop-")
	if err != nil {
		return nil, err
	}
	interopRoot = root
	fx := &interopFixtures{tools: tl, families: []*family{{alg: "rsa"}, {alg: "ec"}}}
	errs := make([]error, len(fx.families))
	var wg sync.WaitGroup
	for i, f := range fx.families {
		f.dir = filepath.Join(root, f.alg)
		wg.Go(func() { errs[i] = tl.makeFamily(f) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	fx.ed25519 = filepath.Join(root, "ed25519.key")
	if _, err := tl.run(root, tl.openssl, "genpkey", "-algorithm", "ed25519", "-out", fx.ed25519); err != nil {
		return nil, err
	}
	pub, err := tl.run(root, tl.openssl, "pkey", "-in", fx.ed25519, "-pubout")
	fx.edPub = string(pub)
	return fx, err
}

// run executes a program in dir and returns its standard output.
func (tools) run(dir, prog string, args ...string) ([]byte, error) {
	cmd := exec.Command(prog, args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s %s: %v: %s", filepath.Base(prog), strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes(), nil
}

const extConfig = `[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:leaf.example.test
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
`

// makeFamily runs openssl and keytool to build f's files.
func (tl tools) makeFamily(f *family) error {
	if err := os.MkdirAll(f.dir, 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(f.dir, "ext.cnf"), []byte(extConfig), 0o600); err != nil {
		return err
	}
	f.files = map[string]string{}
	if err := tl.runSteps(f, tl.pkiSteps(f)); err != nil {
		return err
	}
	if err := concat(f.dir, "chain.pem", "leaf.crt", "int.crt", "root.crt"); err != nil {
		return err
	}
	if err := concat(f.dir, "cas.pem", "int.crt", "root.crt"); err != nil {
		return err
	}
	for _, steps := range [][]string{tl.keySteps(f), tl.containerSteps(f)} {
		if err := tl.runSteps(f, steps); err != nil {
			return err
		}
	}
	if err := tl.writeShuffled(f); err != nil {
		return err
	}
	return tl.fingerprints(f)
}

// concat writes the files srcs, one after the other, to dst in dir.
func concat(dir, dst string, srcs ...string) error {
	var out []byte
	for _, s := range srcs {
		b, err := os.ReadFile(filepath.Join(dir, s))
		if err != nil {
			return err
		}
		out = append(out, b...)
	}
	return os.WriteFile(filepath.Join(dir, dst), out, 0o600)
}

// runSteps runs "prog|args..." lines (prog is openssl or keytool).
func (tl tools) runSteps(f *family, steps []string) error {
	for _, s := range steps {
		args := strings.Split(s, "|")
		prog := tl.openssl
		if args[0] == "keytool" {
			prog = tl.keytool
		}
		if _, err := tl.run(f.dir, prog, args[1:]...); err != nil {
			return err
		}
	}
	for _, name := range []string{"leaf.crt", "int.crt", "root.crt", "cas.pem", "chain.pem",
		"leaf.key", "leaf.key.der", "leaf.der", "chain.p7b", "chain.p7b.pem", "modern.pfx", "legacy.pfx",
		"empty.pfx", "dump.pem", "p8aes.pem", "p8des3.pem", "p8scrypt.pem", "trusted.pem", "legacy-enc.pem", "traditional.pem",
		"keystore.jks", "keystore.p12", "trust.jks", "trust.p12",
		"p8v1-3des.pem", "p8v1-2des.pem", "p8v1-md5des.pem", "p8v1-sha1des.pem", "p8v1-rc2.pem",
		"certs.pfx", "certs-3des.pfx", "certs-nomac.pfx", "certs-plain.pfx", "certs-empty.pfx", "certs-rc2.pfx"} {
		if _, err := os.Stat(filepath.Join(f.dir, name)); err == nil {
			f.files[name] = filepath.Join(f.dir, name)
		}
	}
	return nil
}

// pkiSteps issues root, intermediate and leaf.
func (tools) pkiSteps(f *family) []string {
	gen := "openssl|genpkey|-algorithm|RSA|-pkeyopt|rsa_keygen_bits:2048|-out|"
	if f.alg == "ec" {
		gen = "openssl|genpkey|-algorithm|EC|-pkeyopt|ec_paramgen_curve:P-256|-out|"
	}
	up := strings.ToUpper(f.alg)
	return []string{
		gen + "root.key", gen + "int.key", gen + "leaf.key",
		"openssl|req|-x509|-new|-key|root.key|-subj|/CN=Test " + up + " Root|-days|3650|-out|root.crt|" +
			"-addext|basicConstraints=critical,CA:TRUE|-addext|keyUsage=critical,keyCertSign,cRLSign",
		"openssl|req|-new|-key|int.key|-subj|/CN=Test " + up + " Intermediate|-out|int.csr",
		"openssl|x509|-req|-in|int.csr|-CA|root.crt|-CAkey|root.key|-set_serial|2|-days|1825|-extfile|ext.cnf|-extensions|ca|-out|int.crt",
		"openssl|req|-new|-key|leaf.key|-subj|/CN=leaf.example.test|-out|leaf.csr",
		"openssl|x509|-req|-in|leaf.csr|-CA|int.crt|-CAkey|int.key|-set_serial|3|-days|365|-extfile|ext.cnf|-extensions|leaf|-out|leaf.crt",
	}
}

// keySteps writes the leaf key in each key format.
func (tools) keySteps(f *family) []string {
	pass := "pass:" + interopPass
	steps := []string{
		"openssl|pkey|-in|leaf.key|-outform|DER|-out|leaf.key.der",
		"openssl|pkcs8|-topk8|-v2|aes-256-cbc|-in|leaf.key|-passout|" + pass + "|-out|p8aes.pem",
		"openssl|pkcs8|-topk8|-v2|des3|-in|leaf.key|-passout|" + pass + "|-out|p8des3.pem",
		"openssl|pkcs8|-topk8|-scrypt|-in|leaf.key|-passout|" + pass + "|-out|p8scrypt.pem",
		// PBES1 and PKCS#12 PBE (RFC 8018 §6.1, RFC 7292 Appendix C);
		// OpenSSL 3 writes the single-DES ones with its legacy provider.
		"openssl|pkcs8|-topk8|-v1|PBE-SHA1-3DES|-in|leaf.key|-passout|" + pass + "|-out|p8v1-3des.pem",
		"openssl|pkcs8|-topk8|-v1|PBE-SHA1-2DES|-in|leaf.key|-passout|" + pass + "|-out|p8v1-2des.pem",
		"openssl|pkcs8|-topk8|-v1|PBE-MD5-DES|-provider|legacy|-provider|default|-in|leaf.key|-passout|" + pass + "|-out|p8v1-md5des.pem",
		"openssl|pkcs8|-topk8|-v1|PBE-SHA1-DES|-provider|legacy|-provider|default|-in|leaf.key|-passout|" + pass + "|-out|p8v1-sha1des.pem",
		"openssl|pkcs8|-topk8|-v1|PBE-SHA1-RC2-64|-provider|legacy|-provider|default|-in|leaf.key|-passout|" + pass + "|-out|p8v1-rc2.pem",
	}
	if f.alg == "rsa" {
		return append(steps, "openssl|rsa|-in|leaf.key|-traditional|-out|traditional.pem",
			"openssl|rsa|-in|leaf.key|-aes256|-traditional|-passout|"+pass+"|-out|legacy-enc.pem")
	}
	return append(steps, "openssl|ec|-in|leaf.key|-out|traditional.pem",
		"openssl|ec|-in|leaf.key|-aes256|-passout|"+pass+"|-out|legacy-enc.pem")
}

// containerSteps writes the certificate containers and key stores.
func (tools) containerSteps(f *family) []string {
	pass := "pass:" + interopPass
	export := "openssl|pkcs12|-export|-inkey|leaf.key|-in|leaf.crt|-certfile|cas.pem|-name|web|"
	kt := "keytool|-importkeystore|-noprompt|-srckeystore|modern.pfx|-srcstoretype|PKCS12|-srcstorepass|" +
		interopPass + "|-deststorepass|" + interopPass + "|-destkeystore|"
	trust := "keytool|-importcert|-noprompt|-trustcacerts|-storepass|" + interopPass + "|"
	certsOnly := "openssl|pkcs12|-export|-nokeys|-in|chain.pem|"
	return []string{
		"openssl|x509|-in|leaf.crt|-outform|DER|-out|leaf.der",
		"openssl|x509|-in|leaf.crt|-addtrust|serverAuth|-out|trusted.pem",
		"openssl|crl2pkcs7|-nocrl|-certfile|chain.pem|-outform|DER|-out|chain.p7b",
		"openssl|crl2pkcs7|-nocrl|-certfile|chain.pem|-out|chain.p7b.pem",
		export + "-passout|" + pass + "|-out|modern.pfx",
		export + "-legacy|-passout|" + pass + "|-out|legacy.pfx",
		export + "-passout|pass:|-out|empty.pfx",
		// Certificates only, as openssl writes them (not Java trust stores).
		certsOnly + "-passout|" + pass + "|-out|certs.pfx",
		certsOnly + "-certpbe|PBE-SHA1-3DES|-macalg|sha1|-passout|" + pass + "|-out|certs-3des.pfx",
		certsOnly + "-nomac|-passout|" + pass + "|-out|certs-nomac.pfx",
		certsOnly + "-certpbe|NONE|-passout|" + pass + "|-out|certs-plain.pfx",
		certsOnly + "-passout|pass:|-out|certs-empty.pfx",
		certsOnly + "-legacy|-passout|" + pass + "|-out|certs-rc2.pfx",
		"openssl|pkcs12|-in|modern.pfx|-passin|" + pass + "|-nodes|-out|dump.pem",
		kt + "keystore.jks|-deststoretype|JKS",
		kt + "keystore.p12|-deststoretype|PKCS12",
		trust + "-storetype|JKS|-keystore|trust.jks|-alias|root|-file|root.crt",
		trust + "-storetype|JKS|-keystore|trust.jks|-alias|intermediate|-file|int.crt",
		trust + "-storetype|PKCS12|-keystore|trust.p12|-alias|root|-file|root.crt",
		trust + "-storetype|PKCS12|-keystore|trust.p12|-alias|intermediate|-file|int.crt",
	}
}

// writeShuffled writes the chain out of order, with openssl's
// "subject=/issuer=" preambles, and a variant with the key in the middle.
func (tl tools) writeShuffled(f *family) error {
	var parts [][]byte
	for _, name := range []string{"int.crt", "root.crt", "leaf.crt"} {
		out, err := tl.run(f.dir, tl.openssl, "x509", "-in", name, "-subject", "-issuer")
		if err != nil {
			return err
		}
		parts = append(parts, out)
	}
	key, err := os.ReadFile(filepath.Join(f.dir, "leaf.key"))
	if err != nil {
		return err
	}
	f.files["shuffled.pem"] = filepath.Join(f.dir, "shuffled.pem")
	f.files["shuffled-key.pem"] = filepath.Join(f.dir, "shuffled-key.pem")
	if err := os.WriteFile(f.files["shuffled.pem"], bytes.Join(parts, nil), 0o600); err != nil {
		return err
	}
	withKey := bytes.Join([][]byte{parts[1], key, parts[2], []byte("some notes\n"), parts[0]}, nil)
	return os.WriteFile(f.files["shuffled-key.pem"], withKey, 0o600)
}

// fingerprints records the SHA-256 fingerprints and subject lines.
func (tl tools) fingerprints(f *family) error {
	for _, name := range []string{"leaf.crt", "int.crt", "root.crt"} {
		out, err := tl.run(f.dir, tl.openssl, "x509", "-in", name, "-noout", "-fingerprint", "-sha256", "-subject")
		if err != nil {
			return err
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		_, fp, _ := strings.Cut(lines[0], "=")
		f.fp = append(f.fp, strings.ToLower(strings.ReplaceAll(fp, ":", "")))
		f.subjects = append(f.subjects, strings.TrimSpace(lines[1]))
	}
	return nil
}

// runCombined runs openssl and returns standard output and error together
// (openssl pkcs12 -info writes the algorithms to standard error).
func (tl tools) runCombined(args ...string) (string, error) {
	out, err := exec.Command(tl.openssl, args...).CombinedOutput()
	return string(out), err
}
