package archive

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/certkeeper/certkeeper/internal/deploy/engine"
	"golang.org/x/crypto/argon2"
)

// An encrypted one-click package is, byte for byte:
//
//	CERTKEEPER-PACKAGE 1\n
//	{"version":1,"kdf":"argon2id","time":3,"memory":65536,"threads":4,"salt":"..."}\n
//	nonce (12 bytes) || AES-256-GCM ciphertext and tag of the Package JSON
//
// The key is argon2id (RFC 9106) of the password with the header's
// parameters. The whole header (magic line and JSON line) is the GCM
// additional data, so any change to it, to the nonce or to the ciphertext
// fails authentication.

const (
	packageMagic   = "CERTKEEPER-PACKAGE 1\n"
	packageVersion = 1
	// MinPassword is the shortest password a package is sealed
	// with, in characters.
	MinPassword = 12
	// MaxSize bounds a package file.
	MaxSize = 16 << 20
	// maxPackageHeader bounds the JSON header line.
	maxPackageHeader = 1024
	nonceSize        = 12
)

// KDF parameter bounds Open (and Seal) accept, so that a crafted file cannot
// make it allocate gigabytes or compute for minutes.
const (
	maxKDFTime    = 10
	maxKDFMemory  = 256 << 10 // KiB: 256 MiB
	minKDFMemory  = 8         // KiB: argon2's minimum per thread is 8
	maxKDFThreads = 16
	minSaltSize   = 16
	maxSaltSize   = 64
)

// ErrWrongPassword: the package does not open with that password (or was altered).
var ErrWrongPassword = errors.New("deploy: package: wrong password or damaged file")

// Package is what a one-click package holds: the job `certkeeper install`
// runs, and what to show the person running it.
type Package struct {
	Created time.Time `json:"created"`
	// Target and Preset name where and how the certificate is installed.
	Target string `json:"target"`
	Preset string `json:"preset"`
	// Certificate names the certificate (its common name or label).
	Certificate string `json:"certificate"`
	// Instructions are the preset's install steps, shown before install.
	Instructions string     `json:"instructions,omitempty"`
	Job          engine.Job `json:"job"`
}

// KDF are the argon2id parameters (RFC 9106) Seal derives a package's
// key with. The zero value, and each zero field, means RFC 9106, section
// 7.4, second recommended option: t=3, m=64 MiB, p=4, with a 16-byte
// salt. Open reads the parameters from the package, within bounds.
type KDF struct {
	// Time is the number of passes; 0 means 3.
	Time uint32
	// Memory is in KiB; 0 means 64 MiB.
	Memory uint32
	// Threads is the parallelism; 0 means 4.
	Threads uint8
	// SaltSize is in bytes; 0 means 16.
	SaltSize int
}

// withDefaults fills k's zero fields.
func (k KDF) withDefaults() KDF {
	if k.Time == 0 {
		k.Time = 3
	}
	if k.Memory == 0 {
		k.Memory = 64 << 10
	}
	if k.Threads == 0 {
		k.Threads = 4
	}
	if k.SaltSize == 0 {
		k.SaltSize = 16
	}
	return k
}

// packageHeader is the JSON line after the magic.
type packageHeader struct {
	Version int    `json:"version"`
	KDF     string `json:"kdf"`
	Time    uint32 `json:"time"`
	Memory  uint32 `json:"memory"`
	Threads uint8  `json:"threads"`
	Salt    []byte `json:"salt"`
}

// Seal encrypts p under password, which must have at least MinPassword
// characters, with a key derived with kdf (zero fields mean the
// defaults). Parameters Open would refuse are refused here too.
func Seal(p *Package, password string, kdf KDF) ([]byte, error) {
	if utf8.RuneCountInString(password) < MinPassword {
		return nil, fmt.Errorf("deploy: package: the password must have at least %d characters", MinPassword)
	}
	payload, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("deploy: package: %w", err)
	}
	kdf = kdf.withDefaults()
	h := packageHeader{Version: packageVersion, KDF: "argon2id", Time: kdf.Time, Memory: kdf.Memory,
		Threads: kdf.Threads, Salt: make([]byte, max(kdf.SaltSize, 0))}
	if err := h.check(); err != nil {
		return nil, err
	}
	nonce := make([]byte, nonceSize)
	if _, err := rand.Read(h.Salt); err != nil {
		return nil, fmt.Errorf("deploy: package: %w", err)
	}
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("deploy: package: %w", err)
	}
	header, err := encodeHeader(h)
	if err != nil {
		return nil, err
	}
	aead := packageAEAD(h, password)
	out := append(append(header, nonce...), aead.Seal(nil, nonce, payload, header)...)
	return out, nil
}

func encodeHeader(h packageHeader) ([]byte, error) {
	line, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("deploy: package: %w", err)
	}
	return append(append([]byte(packageMagic), line...), '\n'), nil
}

// packageAEAD derives the key from password and returns AES-256-GCM.
func packageAEAD(h packageHeader, password string) cipher.AEAD {
	key := argon2.IDKey([]byte(password), h.Salt, h.Time, h.Memory, h.Threads, 32)
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err) // a 32-byte key is always valid
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err) // AES has a 16-byte block
	}
	return aead
}

// Open checks a package's header, derives the key and decrypts.
// A file that is not a package, of an unknown version, or whose KDF
// parameters are out of bounds is refused before any key is derived. A
// wrong password, or any altered byte the header checks let through,
// gives ErrWrongPassword.
func Open(data []byte, password string) (*Package, error) {
	h, header, body, err := splitPackage(data)
	if err != nil {
		return nil, err
	}
	if utf8.RuneCountInString(password) < MinPassword {
		return nil, ErrWrongPassword
	}
	payload, err := packageAEAD(h, password).Open(nil, body[:nonceSize], body[nonceSize:], header)
	if err != nil {
		return nil, ErrWrongPassword
	}
	var p Package
	if err := json.Unmarshal(payload, &p); err != nil {
		return nil, fmt.Errorf("deploy: package: content: %s", engine.OneLine(err.Error()))
	}
	return &p, nil
}

// splitPackage parses and checks the header and returns it with its bytes
// and the body (nonce and ciphertext) after it.
func splitPackage(data []byte) (packageHeader, []byte, []byte, error) {
	var h packageHeader
	if len(data) > MaxSize {
		return h, nil, nil, fmt.Errorf("deploy: package: file of %d bytes exceeds the limit of %d", len(data), MaxSize)
	}
	rest, ok := bytes.CutPrefix(data, []byte(packageMagic))
	if !ok {
		return h, nil, nil, errors.New("deploy: package: not a certkeeper package (or of an unknown version)")
	}
	n := bytes.IndexByte(rest[:min(len(rest), maxPackageHeader+1)], '\n')
	if n < 0 {
		return h, nil, nil, errors.New("deploy: package: header line missing or too long")
	}
	line, body := rest[:n], rest[n+1:]
	if err := decodeHeader(line, &h); err != nil {
		return h, nil, nil, err
	}
	if len(body) < nonceSize+16 {
		return h, nil, nil, errors.New("deploy: package: file is truncated")
	}
	return h, data[:len(packageMagic)+len(line)+1], body, nil
}

func decodeHeader(line []byte, h *packageHeader) error {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(h); err != nil || dec.More() {
		return errors.New("deploy: package: header is not valid")
	}
	return h.check()
}

// check refuses unknown versions and KDF parameters that would cost too
// much (or that argon2 cannot take).
func (h packageHeader) check() error {
	switch {
	case h.Version != packageVersion:
		return fmt.Errorf("deploy: package: unknown version %d", h.Version)
	case h.KDF != "argon2id":
		return fmt.Errorf("deploy: package: unknown key derivation %q", clipText(h.KDF))
	case h.Time < 1 || h.Time > maxKDFTime:
		return fmt.Errorf("deploy: package: KDF time %d is outside 1 to %d", h.Time, maxKDFTime)
	case h.Threads < 1 || h.Threads > maxKDFThreads:
		return fmt.Errorf("deploy: package: KDF threads %d is outside 1 to %d", h.Threads, maxKDFThreads)
	case h.Memory < minKDFMemory*uint32(h.Threads) || h.Memory > maxKDFMemory:
		return fmt.Errorf("deploy: package: KDF memory %d KiB is outside %d to %d KiB", h.Memory, minKDFMemory*uint32(h.Threads), maxKDFMemory)
	case len(h.Salt) < minSaltSize || len(h.Salt) > maxSaltSize:
		return fmt.Errorf("deploy: package: KDF salt of %d bytes is outside %d to %d", len(h.Salt), minSaltSize, maxSaltSize)
	}
	return nil
}

// clipText shortens s for an error message.
func clipText(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
