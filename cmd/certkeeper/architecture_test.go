package main

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// modulePath is the import path of certkeeper's module.
const modulePath = "github.com/certkeeper/certkeeper/"

// archRow matches a package row of docs/architecture.md's tables:
// | `internal/ca` | job | imports |.
var archRow = regexp.MustCompile("^\\| `((?:internal|cmd|client)[^`]*)` \\|.*\\| ([^|]*) \\|$")

// TestArchitectureMap: docs/architecture.md names every package of the
// module, and each row's imports column is what the package's code (not
// its tests) imports from certkeeper, so the map cannot drift from the
// code.
func TestArchitectureMap(t *testing.T) {
	root := filepath.Join("..", "..")
	doc, err := os.ReadFile(filepath.Join(root, "docs", "architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string][]string{}
	for _, line := range strings.Split(string(doc), "\n") {
		if m := archRow.FindStringSubmatch(line); m != nil {
			documented[m[1]] = splitImports(m[2])
		}
	}
	code := modulePackages(t, root)
	for pkg, imports := range code {
		want, ok := documented[pkg]
		if !ok {
			t.Errorf("docs/architecture.md has no row for %s (imports: %s)", pkg, strings.Join(imports, ", "))
			continue
		}
		if !slices.Equal(want, imports) {
			t.Errorf("docs/architecture.md: %s imports %q, its code imports %q", pkg, want, imports)
		}
	}
	for pkg := range documented {
		if _, ok := code[pkg]; !ok {
			t.Errorf("docs/architecture.md has a row for %s, which is not a package", pkg)
		}
	}
}

// splitImports reads an imports column: names separated by commas, or a
// dash for none.
func splitImports(col string) []string {
	var out []string
	for _, f := range strings.Split(col, ",") {
		if f = strings.TrimSpace(f); f != "" && f != "—" {
			out = append(out, f)
		}
	}
	slices.Sort(out)
	return out
}

// modulePackages maps each package directory of the module (relative,
// slash-separated) to the certkeeper packages its non-test files import,
// named as the architecture page names them (internal/ dropped).
func modulePackages(t *testing.T, root string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "docs") && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, err := filepath.Rel(root, filepath.Dir(path))
		if err != nil {
			return err
		}
		pkg := filepath.ToSlash(rel)
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		seen := out[pkg]
		if seen == nil {
			seen = []string{}
		}
		for _, im := range f.Imports {
			p := strings.Trim(im.Path.Value, `"`)
			if name, ok := strings.CutPrefix(p, modulePath); ok {
				seen = append(seen, strings.TrimPrefix(name, "internal/"))
			}
		}
		out[pkg] = seen
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for pkg, imports := range out {
		slices.Sort(imports)
		out[pkg] = slices.Compact(imports)
		if len(out[pkg]) == 0 {
			out[pkg] = nil
		}
	}
	return out
}
