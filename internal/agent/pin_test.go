package agent

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCheckKeyPin(t *testing.T) {
	a, b := "sha256:"+strings.Repeat("a", 64), "sha256:"+strings.Repeat("b", 64)
	tests := []struct {
		name              string
		pinned, presented string
		refused           bool
	}{
		{"same key", a, a, false},
		{"changed key", a, b, true},
		{"nothing pinned yet", "", b, false},
	}
	for _, tt := range tests {
		err := checkKeyPin(tt.pinned, tt.presented, "/var/lib/certkeeper-agent")
		var mk *ManagerKeyError
		if got := errors.As(err, &mk); got != tt.refused {
			t.Errorf("%s: %v, want refused %v", tt.name, err, tt.refused)
			continue
		}
		if tt.refused && (!strings.Contains(err.Error(), "pinned "+a) || !strings.Contains(err.Error(), "accept-manager-key --pin "+b)) {
			t.Errorf("%s: message %q, want the old pin and the command accepting the new one", tt.name, err)
		}
	}
}

// customServer writes custom endpoint certificates for 127.0.0.1 from
// pki into f's certificate directory and returns the leaf's pin.
func customServer(t *testing.T, f *fixture, pki *testPKI) string {
	t.Helper()
	leafPEM, keyPEM := pki.issue(t, "agents.example", x509.ExtKeyUsageServerAuth, "127.0.0.1")
	writeFile(t, filepath.Join(f.certDir, CustomCertFile), append(leafPEM, pemCert(pki.cert)...), 0o644)
	writeFile(t, filepath.Join(f.certDir, CustomKeyFile), keyPEM, 0o600)
	writeFile(t, filepath.Join(f.certDir, CustomCAFile), pemCert(pki.cert), 0o644)
	leaf, err := parseCerts(leafPEM)
	if err != nil {
		t.Fatal(err)
	}
	return SPKIPin(leaf[0])
}

// waitKey waits until the endpoint serves the key of pin.
func waitKey(t *testing.T, f *fixture, pin string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for SPKIPin(f.ep.cur.Load().cert.Leaf) != pin {
		if time.Now().After(deadline) {
			t.Fatalf("the endpoint does not serve the key %s\nlog:\n%s", pin, f.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestAgentRefusesAChangedManagerKey: the agent pins the endpoint's key
// at enrollment; a certificate with another key from the same CA is
// refused with both pins named, until the new pin is accepted.
func TestAgentRefusesAChangedManagerKey(t *testing.T) {
	t.Parallel()
	pki := newTestPKI(t, "Custom Agent Root")
	var first string
	f := newFixture(t, func(f *fixture) { first = customServer(t, f, pki) })
	dir, _ := f.enroll(t, "web1")
	st, err := readState(dir)
	if err != nil || st.ManagerKeyPin != first {
		t.Fatalf("state after enrollment %+v, %v: want the manager key pin %s", st, err, first)
	}
	second := customServer(t, f, pki)
	waitKey(t, f, second)
	err = f.runOnce(dir)
	var mk *ManagerKeyError
	if !errors.As(err, &mk) || mk.Pinned != first || mk.Presented != second {
		t.Fatalf("round against a new key: %v, want refused naming %s and %s", err, first, second)
	}
	if got := f.log.Lines("agent reported"); len(got) != 0 || len(f.log.Lines(`msg="agent refused"`)) != 0 {
		t.Errorf("the agent sent requests to the endpoint with the new key: %q", got)
	}
	old, err := AcceptManagerKey(dir, strings.ToUpper(second[:10])+second[10:])
	if err != nil || old != first {
		t.Fatalf("AcceptManagerKey: old %s, %v; want %s", old, err, first)
	}
	if err := f.runOnce(dir); err != nil {
		t.Errorf("round after accepting the new key: %v", err)
	}
}

// TestAgentWithoutPinPinsOnFirstUse: an agent enrolled before pins
// existed pins the key of its next connection.
func TestAgentWithoutPinPinsOnFirstUse(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	dir, _ := f.enroll(t, "web1")
	raw, err := os.ReadFile(filepath.Join(dir, StateFile))
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	want := st["manager_key_pin"]
	delete(st, "manager_key_pin")
	raw, _ = json.Marshal(st)
	writeFile(t, filepath.Join(dir, StateFile), raw, 0o644)
	if err := f.runOnce(dir); err != nil {
		t.Fatal(err)
	}
	got, err := readState(dir)
	if err != nil || got.ManagerKeyPin != want {
		t.Errorf("pin after the first round %+v, %v; want %v", got, err, want)
	}
	if len(f.log.Lines("no manager key pinned yet")) != 1 {
		t.Errorf("the first pin was not logged:\n%s", f.log)
	}
}
