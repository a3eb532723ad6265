package format

import (
	"errors"
	"fmt"
)

// Limits of berScanner; real PKCS#7 and PKCS#12 files stay far below.
const (
	maxBERDepth    = 48
	maxBERElements = 1 << 20
)

// errBERLimit marks failures that must stop the scan even inside an
// OCTET STRING that is only tentatively parsed.
var errBERLimit = errors.New("limit exceeded")

// berScanner walks BER-encoded data (X.690 §8) before it is given to a
// recursive third-party parser: every length must fit in the bytes that
// hold it, nesting and element count are bounded, so the parser's work
// and memory stay proportional to the input.
//
// With kdf set it also looks inside OCTET STRINGs that hold DER (PKCS#12
// wraps its contents that way, RFC 7292 §4.1) and checks every
// SEQUENCE { OCTET STRING, INTEGER, ... }: that is the shape of PKCS#12
// PBE parameters and MacData (RFC 7292 §4, Appendix C) and PBKDF2
// parameters (RFC 8018 A.2), where the INTEGER is an iteration count.
type berScanner struct {
	kdf      bool
	elements int
}

// scan checks that data starts with one well-formed element.
func (s *berScanner) scan(data []byte) error {
	_, err := s.element(data, 0)
	return err
}

// element checks one TLV at the start of data and returns its length.
func (s *berScanner) element(data []byte, depth int) (int, error) {
	s.elements++
	if depth > maxBERDepth || s.elements > maxBERElements {
		return 0, fmt.Errorf("asn.1 nesting or element count: %w", errBERLimit)
	}
	hdr, length, indefinite, err := berHeader(data)
	if err != nil {
		return 0, err
	}
	constructed := data[0]&0x20 != 0
	if indefinite {
		if !constructed {
			return 0, errors.New("indefinite length on a primitive element")
		}
		n, err := s.children(data[hdr:], depth+1, true)
		return hdr + n, err
	}
	content := data[hdr : hdr+length]
	switch {
	case constructed:
		if _, err := s.children(content, depth+1, false); err != nil {
			return 0, err
		}
		if s.kdf && data[0] == 0x30 {
			if err := checkIterations(content); err != nil {
				return 0, err
			}
		}
	case s.kdf && data[0] == 0x04 && len(content) > 1 && content[0] == 0x30:
		// The OCTET STRING may or may not hold DER: only limits count.
		if _, err := s.element(content, depth+1); errors.Is(err, errBERLimit) {
			return 0, err
		}
	}
	return hdr + length, nil
}

// children checks the elements of a constructed value. For the
// indefinite form it stops after the end-of-contents octets.
func (s *berScanner) children(data []byte, depth int, indefinite bool) (int, error) {
	off := 0
	for {
		if indefinite && len(data)-off >= 2 && data[off] == 0 && data[off+1] == 0 {
			return off + 2, nil
		}
		if off == len(data) {
			if indefinite {
				return 0, errors.New("missing end-of-contents")
			}
			return off, nil
		}
		n, err := s.element(data[off:], depth)
		if err != nil {
			return 0, err
		}
		off += n
	}
}

// berHeader reads identifier and length octets (X.690 §8.1.2, §8.1.3).
func berHeader(data []byte) (hdr, length int, indefinite bool, err error) {
	i := 1
	if len(data) < 2 {
		return 0, 0, false, errors.New("truncated asn.1 element")
	}
	if data[0]&0x1f == 0x1f { // high tag number form
		for ; i < len(data) && data[i]&0x80 != 0; i++ {
			if i > 4 {
				return 0, 0, false, errors.New("asn.1 tag too long")
			}
		}
		i++
	}
	if i >= len(data) {
		return 0, 0, false, errors.New("truncated asn.1 element")
	}
	l := data[i]
	i++
	switch {
	case l < 0x80:
		length = int(l)
	case l == 0x80:
		return i, 0, true, nil
	default:
		n := int(l & 0x7f)
		if n > 4 || len(data)-i < n {
			return 0, 0, false, errors.New("bad asn.1 length")
		}
		for _, c := range data[i : i+n] {
			length = length<<8 | int(c)
		}
		i += n
	}
	if length > len(data)-i {
		return 0, 0, false, errors.New("asn.1 length exceeds the data")
	}
	return i, length, false, nil
}

// checkIterations inspects the content of a SEQUENCE that starts with an
// OCTET STRING (a salt) followed by an INTEGER (an iteration count).
func checkIterations(seq []byte) error {
	if len(seq) < 2 || seq[0] != 0x04 {
		return nil
	}
	hdr, length, _, err := berHeader(seq)
	if err != nil {
		return nil
	}
	rest := seq[hdr+length:]
	if len(rest) < 3 || rest[0] != 0x02 || rest[1] > 0x7f || int(rest[1]) > len(rest)-2 {
		return nil
	}
	v := rest[2 : 2+int(rest[1])]
	if len(v) > 4 || (len(v) == 4 && v[0] > 0) {
		return fmt.Errorf("kdf iteration count too large: %w", errBERLimit)
	}
	n := 0
	for _, c := range v {
		n = n<<8 | int(c)
	}
	if n > maxKDFIterations {
		return fmt.Errorf("kdf iteration count %d exceeds %d: %w", n, maxKDFIterations, errBERLimit)
	}
	return nil
}
