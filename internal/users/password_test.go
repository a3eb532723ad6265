package users

import (
	"crypto/rand"
	"errors"
	"strings"
	"testing"
)

func TestHashPasswordDefault(t *testing.T) {
	h, err := HashPassword("correct horse battery", DefaultParams, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if want := "$argon2id$v=19$m=65536,t=2,p=2$"; !strings.HasPrefix(h, want) {
		t.Errorf("hash = %q, want prefix %q", h, want)
	}
	for pw, want := range map[string]bool{"correct horse battery": true, "correct horse batterY": false, "": false} {
		ok, err := VerifyPassword(h, pw)
		if err != nil || ok != want {
			t.Errorf("VerifyPassword(%q) = %v, %v; want %v, nil", pw, ok, err, want)
		}
	}
	h2, _ := HashPassword("correct horse battery", DefaultParams, rand.Reader)
	if h2 == h {
		t.Error("two hashes of one password are equal; want different salts")
	}
}

func TestVerifyMalformed(t *testing.T) {
	good, err := HashPassword("correct horse battery", cheap, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$")
	salt, key := parts[4], parts[5]
	for name, h := range map[string]string{
		"empty":         "",
		"truncated":     "$argon2id$v=19$",
		"argon2i":       "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key,
		"old version":   "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key,
		"zero time":     "$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key,
		"zero threads":  "$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key,
		"many threads":  "$argon2id$v=19$m=4096,t=1,p=300$" + salt + "$" + key,
		"tiny memory":   "$argon2id$v=19$m=1,t=1,p=1$" + salt + "$" + key,
		"huge memory":   "$argon2id$v=19$m=4294967295,t=1,p=1$" + salt + "$" + key,
		"huge time":     "$argon2id$v=19$m=64,t=1000000,p=1$" + salt + "$" + key,
		"extra param":   "$argon2id$v=19$m=64,t=1,p=1,x=2$" + salt + "$" + key,
		"param order":   "$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + key,
		"negative":      "$argon2id$v=19$m=-64,t=1,p=1$" + salt + "$" + key,
		"bad salt":      "$argon2id$v=19$m=64,t=1,p=1$!!!$" + key,
		"short salt":    "$argon2id$v=19$m=64,t=1,p=1$AAAA$" + key,
		"short hash":    "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$AAAA",
		"missing hash":  "$argon2id$v=19$m=64,t=1,p=1$" + salt,
		"trailing part": good + "$x",
	} {
		t.Run(name, func(t *testing.T) {
			ok, err := VerifyPassword(h, "correct horse battery")
			if ok || !errors.Is(err, ErrMalformedHash) {
				t.Errorf("VerifyPassword(%q) = %v, %v; want false, ErrMalformedHash", h, ok, err)
			}
		})
	}
}

func TestHashPasswordBadParams(t *testing.T) {
	if _, err := HashPassword("correct horse battery", Params{}, rand.Reader); err == nil {
		t.Error("HashPassword with zero Params succeeded, want an error")
	}
}

func TestCheckPassword(t *testing.T) {
	for _, tc := range []struct {
		user, password string
		ok             bool
	}{
		{"alice", "correct horse battery", true},
		{"alice", "12 chars !!!", true},
		{"alice", "11 chars !!", false},
		{"alice", "", false},
		{"alicealicealice", "AliceAliceAlice", false},
		{"bob", "ééééééééééé", false},
		{"bob", "éééééééééééé", true},
		{"bob", strings.Repeat("x", MaxPasswordLen+1), false},
	} {
		err := CheckPassword(tc.user, tc.password)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrWeakPassword)) {
			t.Errorf("CheckPassword(%q, %q) = %v, want ok %v", tc.user, tc.password, err, tc.ok)
		}
	}
}
