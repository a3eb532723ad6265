package keys

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func newTestSealer(t *testing.T) *Sealer {
	t.Helper()
	s, err := NewSealer(nil, bytes.Repeat([]byte{7}, MasterKeySize))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSealOpen(t *testing.T) {
	s := newTestSealer(t)
	secret := []byte("private key material")
	sealed, err := s.Seal(secret, []byte("ctx-a"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, secret) {
		t.Fatal("sealed blob contains the plaintext")
	}
	got, err := s.Open(sealed, []byte("ctx-a"))
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("Open = %q, %v; want %q", got, err, secret)
	}
	again, _ := s.Seal(secret, []byte("ctx-a"))
	if bytes.Equal(again, sealed) {
		t.Error("two seals of the same data are identical; want fresh data key and nonce")
	}
}

func TestOpenRejects(t *testing.T) {
	s := newTestSealer(t)
	sealed, err := s.Seal([]byte("secret"), []byte("ctx"))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewSealer(nil, bytes.Repeat([]byte{9}, MasterKeySize))
	flipped := bytes.Clone(sealed)
	flipped[len(flipped)-1] ^= 1
	wrapFlip := bytes.Clone(sealed)
	wrapFlip[12] ^= 1
	tests := []struct {
		name    string
		s       *Sealer
		blob    []byte
		context string
		want    error
	}{
		{"other context", s, sealed, "ctx2", ErrCorrupt},
		{"tampered data", s, flipped, "ctx", ErrCorrupt},
		{"tampered wrapped key", s, wrapFlip, "ctx", ErrCorrupt},
		{"truncated", s, sealed[:20], "ctx", ErrCorrupt},
		{"empty", s, nil, "ctx", ErrCorrupt},
		{"unknown master key", other, sealed, "ctx", ErrUnknownMasterKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.s.Open(tt.blob, []byte(tt.context))
			if !errors.Is(err, tt.want) {
				t.Fatalf("Open error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestRewrap(t *testing.T) {
	oldKey := bytes.Repeat([]byte{1}, MasterKeySize)
	newKey := bytes.Repeat([]byte{2}, MasterKeySize)
	old, _ := NewSealer(nil, oldKey)
	sealed, _ := old.Seal([]byte("secret"), []byte("c"))
	ring, err := NewSealer(nil, newKey, oldKey)
	if err != nil {
		t.Fatal(err)
	}
	rewrapped, err := ring.Rewrap(sealed)
	if err != nil {
		t.Fatal(err)
	}
	onlyNew, _ := NewSealer(nil, newKey)
	if got, err := onlyNew.Open(rewrapped, []byte("c")); err != nil || string(got) != "secret" {
		t.Fatalf("after rewrap, new key alone opens %q, %v", got, err)
	}
	if _, err := old.Open(rewrapped, []byte("c")); !errors.Is(err, ErrUnknownMasterKey) {
		t.Fatalf("old key opens rewrapped blob: err = %v", err)
	}
	id, _ := SealedKeyID(rewrapped)
	if id != onlyNew.KeyID() {
		t.Errorf("SealedKeyID = %s, want %s", id, onlyNew.KeyID())
	}
	same, _ := ring.Rewrap(rewrapped)
	if !bytes.Equal(same, rewrapped) {
		t.Error("rewrap of a blob already under the primary key changed it")
	}
}

func TestPrivateKeyRoundTrip(t *testing.T) {
	s := newTestSealer(t)
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rec, err := SealPrivateKey(s, priv, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if rec.Algorithm != "ecdsa" || rec.Bits != 256 || len(rec.SPKISHA256) != 64 {
		t.Fatalf("record = %+v", rec)
	}
	got, err := OpenPrivateKey(s, rec)
	if err != nil {
		t.Fatal(err)
	}
	if !priv.Equal(got) {
		t.Fatal("unsealed key differs from the original")
	}
	rec.SPKISHA256 = strings.Repeat("0", 64)
	if _, err := OpenPrivateKey(s, rec); err == nil {
		t.Fatal("a sealed key moved to another record opened without error")
	}
}

func TestMasterKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "master.key")
	s1, err := LoadSealer(path, "")
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("master key file mode = %04o, want 0600", fi.Mode().Perm())
	}
	s2, err := LoadSealer(path, "")
	if err != nil {
		t.Fatal(err)
	}
	if s1.KeyID() != s2.KeyID() {
		t.Fatal("reloading the master key file gave another key")
	}
	os.Chmod(path, 0o644)
	if _, err := LoadSealer(path, ""); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("world-readable master key accepted: err = %v", err)
	}
}

func TestMasterKeyFileConcurrentCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "master.key")
	ids := make([]string, 8)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := LoadSealer(path, "")
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = s.KeyID()
		}()
	}
	wg.Wait()
	for _, id := range ids[1:] {
		if id != ids[0] {
			t.Fatalf("concurrent first starts created different master keys: %v", ids)
		}
	}
}

func TestMasterKeyEnv(t *testing.T) {
	if _, err := LoadSealer("/nonexistent/x", "not base64!"); err == nil {
		t.Fatal("bad CERTKEEPER_MASTER_KEY accepted")
	}
	s, err := LoadSealer("/nonexistent/x", "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=")
	if err != nil {
		t.Fatal(err)
	}
	if s.KeyID() != newTestSealer(t).KeyID() {
		t.Error("env master key not used")
	}
}

func TestRekeyFlow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "master.key")
	s, err := LoadSealer(path, "")
	if err != nil {
		t.Fatal(err)
	}
	sealed, _ := s.Seal([]byte("k"), nil)
	ring, err := BeginRekey(path)
	if err != nil {
		t.Fatal(err)
	}
	if !Pending(path) {
		t.Fatal("no pending key after BeginRekey")
	}
	// An interrupted re-key: a restart must open old and new blobs alike.
	restarted, err := LoadSealer(path, "")
	if err != nil {
		t.Fatal(err)
	}
	if restarted.KeyID() != ring.KeyID() {
		t.Fatal("restart during re-key does not seal under the pending key")
	}
	if _, err := restarted.Open(sealed, nil); err != nil {
		t.Fatalf("restart during re-key cannot open old blobs: %v", err)
	}
	resumed, err := BeginRekey(path)
	if err != nil || resumed.KeyID() != ring.KeyID() {
		t.Fatalf("resumed re-key chose another key (err %v)", err)
	}
	rewrapped, err := ring.Rewrap(sealed)
	if err != nil {
		t.Fatal(err)
	}
	if err := CommitRekey(path); err != nil {
		t.Fatal(err)
	}
	after, err := LoadSealer(path, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := after.Open(sealed, nil); !errors.Is(err, ErrUnknownMasterKey) {
		t.Fatalf("old blob still opens after commit: %v", err)
	}
	if got, err := after.Open(rewrapped, nil); err != nil || string(got) != "k" {
		t.Fatalf("rewrapped blob = %q, %v", got, err)
	}
}

func TestUnlock(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "master.key")
	// Nothing sealed, not creating: no file, and a Sealer that refuses
	// to seal.
	ro, err := Unlock(path, "", nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ro.Seal([]byte("x"), nil); !errors.Is(err, ErrNoMasterKey) {
		t.Errorf("Seal without a master key = %v, want ErrNoMasterKey", err)
	}
	if _, err := os.Stat(path); err == nil {
		t.Fatal("Unlock without create wrote a master key file")
	}
	// Nothing sealed, creating: the file is made.
	s, err := Unlock(path, "", nil, true)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := s.Seal([]byte("secret"), []byte("ctx"))
	if err != nil {
		t.Fatal(err)
	}
	samples := [][]byte{sealed}
	if _, err := Unlock(path, "", samples, false); err != nil {
		t.Errorf("Unlock with the right key: %v", err)
	}
	other := filepath.Join(dir, "other.key")
	for _, create := range []bool{false, true} {
		if _, err := Unlock(other, "", samples, create); !errors.Is(err, ErrNoMasterKey) {
			t.Errorf("Unlock(missing file, sealed secrets, create %v) = %v, want ErrNoMasterKey", create, err)
		}
	}
	if _, err := os.Stat(other); err == nil {
		t.Error("a master key was created for an inventory holding sealed secrets")
	}
	if _, err := LoadSealer(other, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := Unlock(other, "", samples, true); !errors.Is(err, ErrWrongMasterKey) {
		t.Errorf("Unlock with another key file = %v, want ErrWrongMasterKey", err)
	}
	env := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, MasterKeySize))
	if _, err := Unlock(path, env, samples, true); !errors.Is(err, ErrWrongMasterKey) {
		t.Errorf("Unlock with another CERTKEEPER_MASTER_KEY = %v, want ErrWrongMasterKey", err)
	}
}
