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

// layoutFileJSON is the layout file format (docs/kit.md).
type layoutFileJSON struct {
	Layouts []struct {
		Name  string `json:"name"`
		Files []struct {
			Path     string   `json:"path"`
			Content  Content  `json:"content"`
			Encoding Encoding `json:"encoding"`
			Mode     string   `json:"mode"`
		} `json:"files"`
	} `json:"layouts"`
}

// ParseLayouts reads user-defined layouts from a layout file (JSON, see
// docs/kit.md) and validates them. Names must not repeat one another or a
// built-in layout. Errors are one line.
func ParseLayouts(data []byte) ([]Layout, error) {
	var doc layoutFileJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("kit: layout file: %s", jsonError(err))
	}
	if dec.Decode(&struct{}{}) != io.EOF {
		return nil, errors.New("kit: layout file: extra data after the JSON object")
	}
	if len(doc.Layouts) == 0 {
		return nil, errors.New(`kit: layout file: no layouts (want {"layouts": [...]})`)
	}
	var out []Layout
	for _, jl := range doc.Layouts {
		l := Layout{Name: jl.Name}
		for _, jf := range jl.Files {
			mode, err := parseMode(jf.Mode)
			if err != nil {
				return nil, fmt.Errorf("kit: layout %s: file %q: %w", jl.Name, jf.Path, err)
			}
			l.Files = append(l.Files, File{Path: jf.Path, Content: jf.Content, Encoding: jf.Encoding, Mode: mode})
		}
		if err := l.Validate(); err != nil {
			return nil, err
		}
		if slices.ContainsFunc(append(Builtin(), out...), func(o Layout) bool { return o.Name == l.Name }) {
			return nil, fmt.Errorf("kit: layout file: layout name %q is already taken", l.Name)
		}
		out = append(out, l)
	}
	return out, nil
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
