package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certkeeper/certkeeper/internal/testenv"
)

// The apache, haproxy, tomcat-pkcs12 and tomcat-jks presets deployed to
// the real servers: each test starts one server of its own on loopback,
// adds a directory target with the preset (the test and reload commands
// pointed at that server) and deploys certificates of the built-in CA
// until the deploy check confirms them.

// addPresetTarget adds a directory target called name with preset into
// dir, checked at addr for sni; extra are more "target add" flags.
func addPresetTarget(c *ck, name, preset, dir, testCmd, reloadCmd, addr, sni string, extra ...string) {
	args := []string{"target", "add", "--name", name, "--preset", preset, "--method", "directory", "--dir", dir,
		"--reload-command", reloadCmd, "--check", addr, "--sni", sni}
	if testCmd != "" {
		args = append(args, "--test-command", testCmd)
	}
	c.ok(append(args, extra...)...)
}

// deployConfirmed deploys cert to target, wants the deployment confirmed
// by a check that saw cert served, and waits until addr serves it.
func deployConfirmed(t *testing.T, c *ck, cert deployCert, target, addr, sni string) {
	t.Helper()
	d := deployOK(t, c, cert, target, "confirmed")
	if d.LastCheck == nil || !d.LastCheck.Passed || d.LastCheck.ServedSHA256 != cert.sha256 {
		t.Errorf("deploy to %s: last check %+v, want passed serving %s", target, d.LastCheck, cert.sha256)
	}
	waitServed(t, addr, sni, cert.sha256)
}

// wantModes fails the test when a file of dir lacks its mode.
func wantModes(t *testing.T, dir string, modes map[string]os.FileMode) {
	t.Helper()
	for name, mode := range modes {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.Mode().Perm() != mode {
			t.Errorf("%s: %v, %v; want mode %o", name, fi, err, mode)
		}
	}
}

func TestDeployApachePreset(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	a := testenv.StartApache(t, filepath.Join(dir, "fullchain.pem"), filepath.Join(dir, "privkey.pem"))
	c := newCK(t)
	c.ok("ca", "init", "--name", "corp")
	const name = "www.apache.test"
	addPresetTarget(c, "apache", "apache", dir, a.TestCommand(), a.ReloadCommand(), a.Addr, name)

	first := issue(t, c, "--name", name)
	deployConfirmed(t, c, first, "apache", a.Addr, name)
	wantModes(t, dir, map[string]os.FileMode{"cert.pem": 0o644, "chain.pem": 0o644, "fullchain.pem": 0o644, "privkey.pem": 0o600})

	// The renewed certificate, with a new key, is served after the
	// graceful restart of the second deployment.
	renewed := issue(t, c, "--name", name)
	deployConfirmed(t, c, renewed, "apache", a.Addr, name)
	if strings.Contains(a.Log(), "AH02565") || strings.Contains(a.Log(), "AH02572") {
		t.Errorf("httpd could not read a deployed file:\n%s", a.Log())
	}
}

func TestDeployHAProxyPreset(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	h := testenv.StartHAProxy(t, filepath.Join(dir, "haproxy.pem"))
	c := newCK(t)
	c.ok("ca", "init", "--name", "corp")
	const name = "lb.haproxy.test"
	addPresetTarget(c, "lb", "haproxy", dir, h.TestCommand(), h.ReloadCommand(), h.Addr, name)

	cert := issue(t, c, "--name", name)
	deployConfirmed(t, c, cert, "lb", h.Addr, name)
	wantModes(t, dir, map[string]os.FileMode{"haproxy.pem": 0o600})
}

// TestDeployTomcatPresets runs one Tomcat with two HTTPS connectors, one
// reading the tomcat-pkcs12 preset's keystore.p12, the other the
// tomcat-jks preset's keystore.jks, configured as the presets'
// instructions say; each deployment restarts Tomcat.
func TestDeployTomcatPresets(t *testing.T) {
	const password = "store pass <&\">"
	tmp := t.TempDir()
	p12Dir, jksDir := filepath.Join(tmp, "p12"), filepath.Join(tmp, "jks")
	tc := testenv.StartTomcat(t, []testenv.TomcatConnector{
		{KeystoreFile: filepath.Join(p12Dir, "keystore.p12"), KeystoreType: "PKCS12", Password: password},
		{KeystoreFile: filepath.Join(jksDir, "keystore.jks"), KeystoreType: "JKS", Password: password, Alias: "certkeeper"},
	})
	c := newCK(t)
	c.ok("ca", "init", "--name", "corp")
	pwFile := writeTestFile(t, filepath.Join(tmp, "keystore-password"), password+"\n", 0o600)
	p12, jks := tc.Connectors[0].Addr, tc.Connectors[1].Addr
	const p12Name, jksName = "p12.tomcat.test", "jks.tomcat.test"
	addPresetTarget(c, "tomcat-p12", "tomcat-pkcs12", p12Dir, "", tc.RestartCommand(), p12, p12Name,
		"--keystore-password-file", pwFile)
	addPresetTarget(c, "tomcat-jks", "tomcat-jks", jksDir, "", tc.RestartCommand(), jks, jksName,
		"--keystore-password-file", pwFile)

	p12Cert := issue(t, c, "--name", p12Name)
	deployConfirmed(t, c, p12Cert, "tomcat-p12", p12, p12Name)
	jksCert := issue(t, c, "--name", jksName)
	deployConfirmed(t, c, jksCert, "tomcat-jks", jks, jksName)
	// The restart for the JKS target read the PKCS#12 store again.
	if got := servedSHA(t, p12, p12Name); got != p12Cert.sha256 {
		t.Errorf("after the second restart the PKCS#12 connector serves %s, want %s", got, p12Cert.sha256)
	}
	wantModes(t, p12Dir, map[string]os.FileMode{"keystore.p12": 0o600})
	wantModes(t, jksDir, map[string]os.FileMode{"keystore.jks": 0o600})
}
