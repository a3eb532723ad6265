// Package mirror keeps the copies of one concept in step. A concept such
// as a deploy target exists as a domain type, a service input and view,
// wire types, a web form and command-line flags; nothing in the compiler
// says that they agree. Tests in the packages that own each copy list its
// field names as a Layer and hand them to Concept.Check, which compares
// them with the other copies and with the concept's one table of
// exceptions (Rule), and says precisely which copy lacks which field.
//
// Only tests use this package; it is never on a request path.
package mirror

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"
)

// Layer is one copy of a concept: its field names and where to change
// it.
type Layer struct {
	// Name names the copy in messages and in rules ("client.TargetInput",
	// "web form"); it must be one of the concept's Layers.
	Name string
	// Fields are the copy's field names, in any spelling Key folds:
	// "ReloadTimeout", "reload_timeout", "reload-timeout" and
	// "ssh.host_key" (a nested field) all work.
	Fields []string
	// Where says what to edit when the copy lacks a field ("client.Target
	// in client/deploy.go and targetOut in internal/api/deploy.go").
	Where string
}

// Rule records a field that is not simply in every copy under the same
// name. A field without a rule must be in every copy.
type Rule struct {
	// Field is the field's name on the wire (its JSON name, dotted for a
	// nested field) or, for a field that never reaches the wire, its Go
	// name.
	Field string
	// In lists the layers that have the field; nil means every layer.
	In []string
	// As gives the field's name in the layers that call it otherwise
	// (layer name to field name). Several fields may share one name in a
	// layer: one flag may set two fields.
	As map[string]string
	// Why says why, for the reader who adds the next field.
	Why string
}

// Concept is a thing mirrored across layers, with its rules.
type Concept struct {
	// Name is the concept ("target").
	Name string
	// Layers names every copy of the concept; a test checks the ones it
	// can see.
	Layers []string
	// Rules is the concept's one exception table.
	Rules []Rule
	// Table says where Rules are written, for messages ("mirror.Target
	// in internal/mirror/target.go").
	Table string
}

// Check compares the given layers with each other and with c's rules and
// returns one message per disagreement, sorted; none means they agree.
// Layers not given are not checked, so each package's test checks the
// copies it owns against the ones it can import.
func (c Concept) Check(layers ...Layer) []string {
	var msgs []string
	for _, l := range layers {
		if !slices.Contains(c.Layers, l.Name) {
			msgs = append(msgs, fmt.Sprintf("%s: layer %q is not one of the concept's layers %q", c.Name, l.Name, c.Layers))
		}
	}
	msgs = append(msgs, c.checkRules()...)
	have := make([]map[string]string, len(layers)) // per layer: field key to its own spelling
	seen := map[string]string{}                    // field key to a spelling for messages
	for i, l := range layers {
		have[i] = c.keys(l)
		for k, name := range have[i] {
			if _, ok := seen[k]; !ok {
				seen[k] = name
			}
		}
	}
	for k, name := range seen {
		r := c.rule(k)
		if r != nil {
			name = r.Field
		}
		for i, l := range layers {
			_, has := have[i][k]
			want := r == nil || r.In == nil || slices.Contains(r.In, l.Name)
			switch {
			case want && !has:
				msgs = append(msgs, fmt.Sprintf("%s: %s has no field %s (there is %s): add it to %s, "+
					"or give it a rule, with the reason, in %s", c.Name, l.Name, name, holders(layers, have, k), l.Where, c.Table))
			case !want && has:
				msgs = append(msgs, fmt.Sprintf("%s: %s has field %s, which the %s concept's rules place only in %q: "+
					"add %s to that rule's In in %s, or remove the field", c.Name, l.Name, have[i][k], c.Name, r.In, l.Name, c.Table))
			}
		}
	}
	msgs = append(msgs, c.staleRules(layers, seen)...)
	slices.Sort(msgs)
	return msgs
}

// staleRules reports the rules for a field that none of the given
// layers has, though the rule places it in one of them.
func (c Concept) staleRules(layers []Layer, seen map[string]string) []string {
	var msgs []string
	for _, r := range c.Rules {
		if _, ok := seen[Key(r.Field)]; ok {
			continue
		}
		for _, l := range layers {
			if r.In == nil || slices.Contains(r.In, l.Name) {
				msgs = append(msgs, fmt.Sprintf("%s: %s has no field %s, which has a rule in %s: "+
					"remove the rule, or add the field", c.Name, l.Name, r.Field, c.Table))
			}
		}
	}
	return msgs
}

// checkRules reports rules that name unknown layers or repeat a field.
func (c Concept) checkRules() []string {
	var msgs []string
	fields := map[string]bool{}
	for _, r := range c.Rules {
		if fields[Key(r.Field)] {
			msgs = append(msgs, fmt.Sprintf("%s: two rules for field %s", c.Name, r.Field))
		}
		fields[Key(r.Field)] = true
		if r.Why == "" {
			msgs = append(msgs, fmt.Sprintf("%s: the rule for field %s gives no reason", c.Name, r.Field))
		}
		for _, l := range r.In {
			if !slices.Contains(c.Layers, l) {
				msgs = append(msgs, fmt.Sprintf("%s: the rule for field %s names unknown layer %q", c.Name, r.Field, l))
			}
		}
		for l := range r.As {
			if !slices.Contains(c.Layers, l) {
				msgs = append(msgs, fmt.Sprintf("%s: the rule for field %s names unknown layer %q", c.Name, r.Field, l))
			}
		}
	}
	return msgs
}

// keys maps each of l's fields to the concept's field key: the key of
// the rule that renames it in l, else its own key.
func (c Concept) keys(l Layer) map[string]string {
	out := map[string]string{}
	for _, f := range l.Fields {
		renamed := false
		for _, r := range c.Rules {
			if as, ok := r.As[l.Name]; ok && Key(as) == Key(f) {
				out[Key(r.Field)], renamed = f, true
			}
		}
		if !renamed {
			out[Key(f)] = f
		}
	}
	return out
}

// rule returns the rule for the field with key k, or nil.
func (c Concept) rule(k string) *Rule {
	for i := range c.Rules {
		if Key(c.Rules[i].Field) == k {
			return &c.Rules[i]
		}
	}
	return nil
}

// holders names the layers that have the field with key k.
func holders(layers []Layer, have []map[string]string, k string) string {
	var names []string
	for i, l := range layers {
		if name, ok := have[i][k]; ok {
			names = append(names, name+" in "+l.Name)
		}
	}
	return strings.Join(names, ", ")
}

// Key folds a field name for comparison: lower case, without "_", "-"
// and ".". So Go's "SPKISHA256", JSON's "spki_sha256", a flag's
// "spki-sha256" and a form's "spki_sha256" are one field, and so are the
// nested "ssh.host" and the form's "ssh_host".
func Key(name string) string {
	return strings.Map(func(r rune) rune {
		if r == '_' || r == '-' || r == '.' {
			return -1
		}
		return r
	}, strings.ToLower(name))
}

// Fields lists the exported fields of the struct type t (or of what t
// points to): a field's JSON name when it has one, else its Go name.
// Embedded structs are flattened; fields tagged json:"-" are left out.
// A field whose type is a struct of this module (or a pointer to one)
// is listed as its own fields, prefixed by its name and a dot
// ("ssh.host_key"); other structs, such as time.Time, are one field.
func Fields(t reflect.Type) []string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, ok := jsonName(f)
		if !f.IsExported() || !ok {
			continue
		}
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if !nested(ft) {
			out = append(out, name)
			continue
		}
		prefix := name + "."
		if f.Anonymous {
			prefix = ""
		}
		for _, sub := range Fields(ft) {
			out = append(out, prefix+sub)
		}
	}
	return out
}

// Collapse replaces the fields under each prefix (a nested struct that
// Fields lists field by field) by the prefix alone, for a rule that
// covers the struct as a whole.
func Collapse(fields []string, prefixes ...string) []string {
	var out []string
	for _, f := range fields {
		for _, p := range prefixes {
			if strings.HasPrefix(f, p+".") {
				f = p
			}
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// Of is Fields of T.
func Of[T any]() []string { return Fields(reflect.TypeFor[T]()) }

// jsonName is f's JSON name, or its Go name without a tag; false for
// json:"-".
func jsonName(f reflect.StructField) (string, bool) {
	tag, ok := f.Tag.Lookup("json")
	if !ok {
		return f.Name, true
	}
	name, _, _ := strings.Cut(tag, ",")
	switch name {
	case "-":
		return "", false
	case "":
		return f.Name, true
	}
	return name, true
}

// nested reports whether fields of type t are listed field by field: a
// struct declared in this module.
func nested(t reflect.Type) bool {
	return t.Kind() == reflect.Struct && strings.HasPrefix(t.PkgPath(), "github.com/certkeeper/certkeeper/")
}

// Fill sets every exported field of the struct ptr points to, nested
// structs, pointers and slices included, to a value that is not zero:
// true, 1, "1", a time in 2001, a minute, one-element slices and maps. A test fills a value,
// converts it, and asks Zero which fields the conversion dropped.
func Fill(ptr any) {
	fill(reflect.ValueOf(ptr).Elem())
}

func fill(v reflect.Value) {
	if v.Type() == reflect.TypeFor[time.Duration]() {
		v.SetInt(int64(time.Minute)) // whole seconds survive a conversion
		return
	}
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(1)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1)
	case reflect.String:
		v.SetString("1")
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem())
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0))
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k)
		fill(e)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i))
			}
		}
	}
}

// Zero lists the fields of the struct v (or of what v points to) that
// are zero, by the names Fields gives; a nil pointer to a nested struct
// is listed by the pointer's name.
func Zero(v any) []string {
	return zero(reflect.ValueOf(v), "")
}

func zero(v reflect.Value, prefix string) []string {
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	var out []string
	for i := range v.NumField() {
		f := v.Type().Field(i)
		name, ok := jsonName(f)
		if !f.IsExported() || !ok {
			continue
		}
		fv := v.Field(i)
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case fv.IsZero():
			out = append(out, prefix+name)
		case nested(ft) && f.Anonymous:
			out = append(out, zero(fv, prefix)...)
		case nested(ft):
			out = append(out, zero(fv, prefix+name+".")...)
		}
	}
	return out
}
