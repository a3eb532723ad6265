package kit

import (
	"crypto"
	"crypto/x509"
	"fmt"
	"strings"
)

// checkFiles checks that the layout's other files (web-server.pem,
// web-ca.cer, ...) hold the same certificate, key and root as the files
// the side is judged by: a stale copy is served by whatever reads it.
func checkFiles(r *Report, s *Side) {
	if len(s.Others) == 0 {
		return
	}
	var problems, good []string
	for _, o := range s.Others {
		if p := otherProblem(s, o); p != "" {
			problems = append(problems, p)
		} else {
			good = append(good, o.File.Path)
		}
	}
	if len(problems) > 0 {
		r.add(CheckFiles, s.Label, Fail, "%s", strings.Join(problems, "; "))
		return
	}
	msg := fmt.Sprintf("%s agree with %s, %s and %s", strings.Join(good, ", "), s.CertFile, s.KeyFile, s.TrustFile)
	if len(s.Missing) > 0 {
		msg += fmt.Sprintf(" (not present: %s)", strings.Join(s.Missing, ", "))
	}
	r.add(CheckFiles, s.Label, Pass, "%s", msg)
}

// otherProblem says what is wrong with o, or "".
func otherProblem(s *Side, o OtherFile) string {
	if o.Err != nil {
		return o.Err.Error()
	}
	b, path := o.Bundle, o.File.Path
	switch o.File.Content {
	case ContentCACert, ContentChain, ContentCACertDER:
		if got := rootOf(append(b.Chain, b.Others...)); got == nil || !got.Equal(rootOf(s.Trust)) {
			return fmt.Sprintf("%s holds another root (%s) than %s (%s): whoever uses it trusts another CA", path, name(got), s.TrustFile, name(rootOf(s.Trust)))
		}
	case ContentCert, ContentFullchain:
		return leafProblem(s, path, b.Leaf())
	case ContentKey:
		return keyProblem(s, path, b.Key)
	case ContentCombined:
		if p := leafProblem(s, path, b.Leaf()); p != "" {
			return p
		}
		return keyProblem(s, path, b.Key)
	}
	return ""
}

func leafProblem(s *Side, path string, c *x509.Certificate) string {
	if c == nil || !c.Equal(s.Leaf) {
		return fmt.Sprintf("%s holds another certificate (%s) than %s (%s): whatever serves it serves an old or foreign certificate", path, name(c), s.CertFile, name(s.Leaf))
	}
	return ""
}

func keyProblem(s *Side, path string, k crypto.Signer) string {
	pub, ok := s.Leaf.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	if k == nil || !ok || !pub.Equal(k.Public()) {
		return fmt.Sprintf("%s holds no key or a key that does not belong to %s", path, s.CertFile)
	}
	return ""
}
