package kit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strconv"
	"strings"
)

// layoutJSON is one layout of a layout file (docs/kit.md). The commands
// and instructions are what a deployment preset adds to a layout; kits
// ignore them, so one file serves `kit create --layout-file` and
// `preset add --file` alike.
type layoutJSON struct {
	Name          string          `json:"name"`
	Files         json.RawMessage `json:"files"`
	TestCommand   string          `json:"test_command,omitempty"`
	ReloadCommand string          `json:"reload_command,omitempty"`
	Instructions  string          `json:"instructions,omitempty"`
}

// fileJSON is one file of a layout.
type fileJSON struct {
	Path     string   `json:"path"`
	Content  Content  `json:"content"`
	Encoding Encoding `json:"encoding"`
	Mode     string   `json:"mode"`
}

// LayoutDef is a layout as a layout file defines it, with the commands
// and install steps a deployment preset keeps beside it.
type LayoutDef struct {
	Layout
	TestCommand, ReloadCommand, Instructions string
	// Files is the layout's "files" array as written.
	Files json.RawMessage
}

// ParseLayouts reads user-defined layouts from a layout file (JSON, see
// docs/kit.md) and validates them. Names must not repeat one another or a
// built-in layout. Errors are one line.
func ParseLayouts(data []byte) ([]Layout, error) {
	defs, err := ParseLayoutFile(data)
	if err != nil {
		return nil, err
	}
	out := make([]Layout, len(defs))
	for i, d := range defs {
		out[i] = d.Layout
	}
	return out, nil
}

// ParseLayoutFile reads a layout file: {"layouts": [LAYOUT, ...]}, or one
// LAYOUT object alone, where LAYOUT is {"name", "files", and optionally
// "test_command", "reload_command", "instructions"}. Every layout is
// validated; names must not repeat one another or a built-in layout.
func ParseLayoutFile(data []byte) ([]LayoutDef, error) {
	list, err := decodeLayoutFile(data)
	if err != nil {
		return nil, err
	}
	var out []LayoutDef
	for _, jl := range list {
		d, err := jl.def()
		if err != nil {
			return nil, err
		}
		if slices.ContainsFunc(Builtin(), func(o Layout) bool { return o.Name == d.Name }) ||
			slices.ContainsFunc(out, func(o LayoutDef) bool { return o.Name == d.Name }) {
			return nil, fmt.Errorf("kit: layout file: layout name %q is already taken", d.Name)
		}
		out = append(out, d)
	}
	return out, nil
}

// decodeLayoutFile decodes either shape of a layout file, refusing
// unknown fields and trailing data.
func decodeLayoutFile(data []byte) ([]layoutJSON, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("kit: layout file: %s", jsonError(err))
	}
	var doc struct {
		Layouts []layoutJSON `json:"layouts"`
	}
	target := any(&doc)
	if _, many := probe["layouts"]; !many {
		doc.Layouts = make([]layoutJSON, 1)
		target = &doc.Layouts[0]
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(target); err != nil {
		return nil, fmt.Errorf("kit: layout file: %s", jsonError(err))
	}
	if dec.Decode(&struct{}{}) != io.EOF {
		return nil, errors.New("kit: layout file: extra data after the JSON object")
	}
	if len(doc.Layouts) == 0 {
		return nil, errors.New(`kit: layout file: no layouts (want {"layouts": [...]} or one {"name": ..., "files": [...]})`)
	}
	return doc.Layouts, nil
}

// def validates one decoded layout.
func (jl layoutJSON) def() (LayoutDef, error) {
	var files []fileJSON
	dec := json.NewDecoder(bytes.NewReader(jl.Files))
	dec.DisallowUnknownFields()
	if len(jl.Files) > 0 {
		if err := dec.Decode(&files); err != nil {
			return LayoutDef{}, fmt.Errorf("kit: layout %s: files: %s", jl.Name, jsonError(err))
		}
	}
	l := Layout{Name: jl.Name}
	for _, jf := range files {
		mode, err := parseMode(jf.Mode)
		if err != nil {
			return LayoutDef{}, fmt.Errorf("kit: layout %s: file %q: %w", jl.Name, jf.Path, err)
		}
		l.Files = append(l.Files, File{Path: jf.Path, Content: jf.Content, Encoding: jf.Encoding, Mode: mode})
	}
	if err := l.Validate(); err != nil {
		return LayoutDef{}, err
	}
	return LayoutDef{Layout: l, TestCommand: jl.TestCommand, ReloadCommand: jl.ReloadCommand,
		Instructions: jl.Instructions, Files: jl.Files}, nil
}

// parseMode reads an octal mode written as a string ("0600", "600",
// "0o600"); "" means the default.
func parseMode(s string) (fs.FileMode, error) {
	if s == "" {
		return 0, nil
	}
	t := strings.TrimPrefix(strings.TrimPrefix(s, "0o"), "0O")
	n, err := strconv.ParseUint(t, 8, 32)
	if err != nil || n == 0 || n > 0o777 {
		return 0, fmt.Errorf("mode %q: write an octal permission such as \"0644\" or \"0600\"", s)
	}
	return fs.FileMode(n), nil
}

// jsonError turns a decoding error into plain words.
func jsonError(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("not valid JSON at byte %d: %v", syn.Offset, err)
	case errors.As(err, &typ):
		f := typ.Field[strings.LastIndex(typ.Field, ".")+1:]
		return fmt.Sprintf("field %q must be a %s, not a %s", f, typ.Type, typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "not valid JSON: it ends too early"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// Find returns the layout called name among layouts, with a one-line error
// listing the names when there is none.
func Find(layouts []Layout, name string) (Layout, error) {
	for _, l := range layouts {
		if l.Name == name {
			return l, nil
		}
	}
	names := make([]string, len(layouts))
	for i, l := range layouts {
		names[i] = l.Name
	}
	return Layout{}, fmt.Errorf("kit: unknown layout %q (known: %s; define more with --layout-file)", name, strings.Join(names, ", "))
}
