package users

import (
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Params are the argon2id cost parameters (RFC 9106). Hashes carry their
// parameters, so changing them affects new hashes only.
type Params struct {
	// Memory is the memory cost in KiB.
	Memory uint32
	// Time is the number of passes over the memory.
	Time uint32
	// Threads is the degree of parallelism.
	Threads uint8
}

// DefaultParams use 64 MiB, two passes and two lanes: about 50 to 100 ms
// per hash on a small server, within the RFC 9106 section 4 guidance for
// memory-constrained settings.
var DefaultParams = Params{Memory: 64 * 1024, Time: 2, Threads: 2}

// Sizes of the salt and of the derived key, in bytes.
const (
	saltLen = 16
	keyLen  = 32
)

// Limits on parameters read from a stored hash, so that a damaged or
// hostile row cannot make verification panic or exhaust memory.
const (
	maxMemory  = 1 << 20 // KiB, 1 GiB
	maxTime    = 16
	minHashLen = 16
	maxHashLen = 128
)

// Password length limits, in characters.
const (
	MinPasswordLen = 12
	MaxPasswordLen = 1024
)

// ErrWeakPassword is wrapped by every password-rule error.
var ErrWeakPassword = errors.New("users: weak password")

// ErrMalformedHash means a stored password hash could not be parsed.
var ErrMalformedHash = errors.New("users: malformed password hash")

// CheckPassword applies the password rules: at least MinPasswordLen and at
// most MaxPasswordLen characters, and not the username in any letter case.
func CheckPassword(username, password string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case n < MinPasswordLen:
		return fmt.Errorf("%w: must be at least %d characters", ErrWeakPassword, MinPasswordLen)
	case n > MaxPasswordLen:
		return fmt.Errorf("%w: must be at most %d characters", ErrWeakPassword, MaxPasswordLen)
	case strings.EqualFold(password, username):
		return fmt.Errorf("%w: must not be the username", ErrWeakPassword)
	}
	return nil
}

// HashPassword derives an argon2id hash of password with a fresh salt read
// from rand and encodes it in the PHC string format:
// $argon2id$v=19$m=65536,t=2,p=2$<salt>$<hash> (unpadded standard base64).
func HashPassword(password string, p Params, rand io.Reader) (string, error) {
	if err := p.check(); err != nil {
		return "", fmt.Errorf("users: %w", err)
	}
	salt := make([]byte, saltLen)
	if _, err := io.ReadFull(rand, salt); err != nil {
		return "", fmt.Errorf("users: salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// VerifyPassword reports whether password matches the encoded hash,
// comparing in constant time. A malformed hash is an error wrapping
// ErrMalformedHash.
func VerifyPassword(encoded, password string) (bool, error) {
	h, err := parseHash(encoded)
	if err != nil {
		return false, err
	}
	key := argon2.IDKey([]byte(password), h.salt, h.params.Time, h.params.Memory, h.params.Threads, uint32(len(h.key)))
	return subtle.ConstantTimeCompare(key, h.key) == 1, nil
}

// hash is a parsed PHC argon2id string.
type hash struct {
	params    Params
	salt, key []byte
}

func parseHash(encoded string) (*hash, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return nil, fmt.Errorf("%w: not an argon2id PHC string", ErrMalformedHash)
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return nil, fmt.Errorf("%w: unsupported version %q", ErrMalformedHash, parts[2])
	}
	p, err := parseParams(parts[3])
	if err != nil {
		return nil, err
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	key, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(key) < minHashLen || len(key) > maxHashLen {
		return nil, fmt.Errorf("%w: bad salt or hash", ErrMalformedHash)
	}
	return &hash{params: p, salt: salt, key: key}, nil
}

// parseParams reads "m=65536,t=2,p=2" and checks the values are usable.
func parseParams(s string) (Params, error) {
	var vals [3]uint64
	for i, name := range []string{"m", "t", "p"} {
		field, rest, _ := strings.Cut(s, ",")
		v, ok := strings.CutPrefix(field, name+"=")
		n, err := strconv.ParseUint(v, 10, 32)
		if !ok || err != nil {
			return Params{}, fmt.Errorf("%w: bad parameter %q", ErrMalformedHash, field)
		}
		vals[i], s = n, rest
	}
	p := Params{Memory: uint32(vals[0]), Time: uint32(vals[1]), Threads: uint8(min(vals[2], 255))}
	if s != "" || vals[2] > 255 {
		return Params{}, fmt.Errorf("%w: bad parameters", ErrMalformedHash)
	}
	if err := p.check(); err != nil {
		return Params{}, fmt.Errorf("%w: %w", ErrMalformedHash, err)
	}
	return p, nil
}

// check reports parameters that argon2 cannot use or that cost too much.
func (p Params) check() error {
	if p.Time < 1 || p.Time > maxTime || p.Threads < 1 || p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory {
		return fmt.Errorf("argon2 parameters m=%d,t=%d,p=%d out of range", p.Memory, p.Time, p.Threads)
	}
	return nil
}
