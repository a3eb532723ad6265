package agent

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"sync"
)

// ManagerKeyError is a connection the agent refused because the
// manager's agent endpoint presented another public key than the pinned
// one, even though its certificate chains up to the agent's CA.
type ManagerKeyError struct {
	// Pinned is the pin in the agent's configuration; Presented the pin
	// of the key the endpoint presented.
	Pinned, Presented string
	// Dir is the agent's directory, for the command to accept the key.
	Dir string
}

func (e *ManagerKeyError) Error() string {
	return fmt.Sprintf("agent: the manager's agent endpoint presented the key %s, not the pinned %s: connection refused. "+
		"If the endpoint's certificate was replaced on purpose, check the new pin in the manager's log "+
		"(\"agent endpoint certificates in use\", key_pin) and accept it with "+
		"\"certkeeper agent accept-manager-key --pin %s --dir %s\"; otherwise something is impersonating the manager",
		e.Presented, e.Pinned, e.Presented, e.Dir)
}

// keyPinner checks the endpoint's key on every connection of one round
// and remembers the key presented, for an agent that has no pin yet.
type keyPinner struct {
	pinned, dir string

	mu   sync.Mutex
	seen string
}

// verify is a tls.Config.VerifyConnection: it runs after the chain was
// verified up to the agent's CA and refuses a leaf whose key is not the
// pinned one.
func (p *keyPinner) verify(cs tls.ConnectionState) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("agent: the manager's agent endpoint presented no certificate")
	}
	got := SPKIPin(cs.PeerCertificates[0])
	p.mu.Lock()
	p.seen = got
	p.mu.Unlock()
	return checkKeyPin(p.pinned, got, p.dir)
}

// checkKeyPin refuses the presented pin when a pin is set and differs.
func checkKeyPin(pinned, presented, dir string) error {
	if pinned == "" || pinned == presented {
		return nil
	}
	return &ManagerKeyError{Pinned: pinned, Presented: presented, Dir: dir}
}

// presented is the pin of the key the endpoint presented last, "" when
// no connection was made.
func (p *keyPinner) presented() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.seen
}

// leafPin is the pin of a presented chain's leaf.
func leafPin(certs []*x509.Certificate) string {
	if len(certs) == 0 {
		return ""
	}
	return SPKIPin(certs[0])
}

// AcceptManagerKey makes pin ("sha256:HEX") the manager key pin of the
// agent in dir, replacing the one there, which it returns ("" when none).
// The next connection then accepts only that key.
func AcceptManagerKey(dir, pin string) (string, error) {
	p, err := ParsePin(pin)
	if err != nil {
		return "", err
	}
	st, err := readState(dir)
	if err != nil {
		return "", err
	}
	old := st.ManagerKeyPin
	st.ManagerKeyPin = p
	return old, writeState(dir, st)
}
