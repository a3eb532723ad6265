package engine

import (
	"path"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseManifestRefuses(t *testing.T) {
	tests := []struct{ name, data, want string }{
		{"not json", `nope`, "manifest"},
		{"version", `{"version":2,"written":["a"]}`, "version"},
		{"empty", `{"version":1,"written":[]}`, "no written"},
		{"dot dot", `{"version":1,"written":["a/../../b"]}`, `".."`},
		{"absolute", `{"version":1,"written":["/etc/shadow"]}`, "absolute"},
		{"backslash", `{"version":1,"written":["..\\x"]}`, "backslash"},
		{"unclean", `{"version":1,"written":["./a"]}`, "not clean"},
		{"backup", `{"version":1,"written":[".certkeeper-backup/x/manifest.json"]}`, "backup"},
		{"created not written", `{"version":1,"written":["a"],"created":["/etc/passwd"]}`, "not among"},
		{"duplicate", `{"version":1,"written":["a","a"]}`, "twice"},
		{"unknown field", `{"version":1,"written":["a"],"exec":"rm -rf /"}`, "unknown field"},
		{"trailing", `{"version":1,"written":["a"]} {}`, "after"},
		{"too large", `{"version":1,"written":["a"],"label":"` + strings.Repeat("x", maxManifestSize) + `"}`, "larger"},
		{"too many", `{"version":1,"written":["` + strings.Repeat(`a","`, maxManifestPaths) + `b"]}`, "more than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := parseManifest([]byte(tt.data)); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("parseManifest: %v, want an error with %q", err, tt.want)
			}
		})
	}
}

func FuzzManifest(f *testing.F) {
	good := &manifest{Version: 1, Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Label: "web",
		Written: []string{"fullchain.pem", "keys/privkey.pem"}, Created: []string{"keys/privkey.pem"}}
	data, err := good.marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`{"version":1,"written":["a/../b"]}`))
	f.Add([]byte(`{"version":1,"written":["a"],"created":["a"]}`))
	f.Add([]byte(`{"version":1,"written":[".certkeeper-backup"]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parseManifest(data)
		if err != nil {
			return
		}
		const dir = "/srv/certs"
		for _, p := range append(slices.Clone(m.Written), m.Created...) {
			full := path.Join(dir, p)
			if !strings.HasPrefix(full, dir+"/") || strings.HasPrefix(full, path.Join(dir, backupRoot)+"/") ||
				full == path.Join(dir, backupRoot) {
				t.Fatalf("path %q leaves the directory or enters the backups: %s", p, full)
			}
		}
		again, err := m.marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := parseManifest(again); err != nil {
			t.Fatalf("a parsed manifest does not parse again: %v\n%s", err, again)
		}
	})
}
