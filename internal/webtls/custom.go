package webtls

import (
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/certkeeper/certkeeper/internal/format"
)

// watchCustom reads the custom certificate source and, when it changed
// since the last look, takes the new certificate, drops a removed one, or
// logs why it cannot be used (the certificate in use stays then).
func (m *Manager) watchCustom() {
	data, state, err := m.readCustom()
	if state == m.seen {
		return
	}
	m.seen = state
	name := m.customName()
	switch {
	case err != nil:
		m.log.Error("custom web certificate unreadable; the certificate in use stays", "file", name, "err", err)
	case data == nil:
		if m.custom != nil {
			m.custom = nil
			m.log.Info("custom web certificate removed; back to the default", "file", name)
		}
	default:
		c, err := parseCustom(data)
		if err != nil {
			m.log.Error("custom web certificate is broken; the certificate in use stays", "file", name, "err", err)
			return
		}
		m.custom = c
	}
	m.serve()
}

// customName names the custom source in logs.
func (m *Manager) customName() string {
	if m.cfg.CertFile != "" {
		return m.cfg.CertFile + " + " + m.cfg.KeyFile
	}
	return m.cfg.CustomFile
}

// readCustom returns the custom source's content (certificate file then
// key file for a pair) and a state that changes whenever the content,
// or the error reading it, does. No source, or a missing CustomFile,
// gives nil data.
func (m *Manager) readCustom() (data []byte, state string, err error) {
	switch {
	case m.cfg.CertFile != "":
		cert, err := os.ReadFile(m.cfg.CertFile)
		if err == nil {
			var key []byte
			key, err = os.ReadFile(m.cfg.KeyFile)
			data = append(append(cert, '\n'), key...)
		}
		if err != nil {
			return nil, "error: " + err.Error(), err
		}
	case m.cfg.CustomFile != "":
		data, err = os.ReadFile(m.cfg.CustomFile)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, "", nil
		}
		if err != nil {
			return nil, "error: " + err.Error(), err
		}
	default:
		return nil, "", nil
	}
	sum := sha256.Sum256(data)
	return data, string(sum[:]), nil
}

// parseCustom decodes a custom certificate: PEM certificates in any order
// and an unencrypted private key, which must be the leaf's.
func parseCustom(data []byte) (*tls.Certificate, error) {
	b, err := format.Decode(data, nil)
	if err != nil {
		return nil, err
	}
	switch {
	case len(b.Chain) == 0:
		return nil, errors.New("webtls: no certificate in the file")
	case b.Key == nil:
		return nil, errors.New("webtls: no private key in the file")
	case !b.KeyMatchesLeaf:
		return nil, fmt.Errorf("webtls: the private key is not the key of certificate %q", b.Leaf().Subject)
	}
	c := &tls.Certificate{PrivateKey: b.Key, Leaf: b.Leaf()}
	for _, x := range b.Chain {
		c.Certificate = append(c.Certificate, x.Raw)
	}
	return c, nil
}
