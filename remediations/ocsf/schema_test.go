package ocsf_test

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// The OCSF schema of one version, in the source form of the schema
// repository gathered into one file (testdata/schema/SOURCES.md): classes
// and objects name what they extend and the attributes they add or
// change; the dictionary gives every attribute its type and enum. The
// files a class names under `$include` are kept beside it.
type bundle struct {
	Version    string         `json:"version"`
	Events     map[string]def `json:"events"`
	Objects    map[string]def `json:"objects"`
	Dictionary struct {
		Attributes map[string]attr `json:"attributes"`
		Types      struct {
			Attributes map[string]dataType `json:"attributes"`
		} `json:"types"`
	} `json:"dictionary"`
	Categories struct {
		Attributes map[string]struct {
			UID     int    `json:"uid"`
			Caption string `json:"caption"`
		} `json:"attributes"`
	} `json:"categories_meta"`

	dir string
}

type def struct {
	UID         int                        `json:"uid"`
	Caption     string                     `json:"caption"`
	Category    string                     `json:"category"`
	Extends     string                     `json:"extends"`
	Meta        string                     `json:"meta"`
	Name        string                     `json:"name"`
	Profiles    []string                   `json:"profiles"`
	Attributes  map[string]json.RawMessage `json:"attributes"`
	Constraints struct {
		AtLeastOne []string `json:"at_least_one"`
		JustOne    []string `json:"just_one"`
	} `json:"constraints"`
}

type attr struct {
	Requirement string `json:"requirement"`
	Type        string `json:"type"`
	IsArray     bool   `json:"is_array"`
	Sibling     string `json:"sibling"`
	Enum        map[string]struct {
		Caption string `json:"caption"`
	} `json:"enum"`
}

type dataType struct {
	Type   string    `json:"type"`
	Regex  string    `json:"regex"`
	MaxLen int       `json:"max_len"`
	Range  []float64 `json:"range"`
}

// resolved is a class or an object with everything it inherits and
// includes: its attributes (dictionary, then base to derived, the derived
// winning, enums merged) and its constraints.
type resolved struct {
	name       string
	caption    string
	profiles   []string // the profiles the definition and its bases allow
	attrs      map[string]attr
	atLeastOne []string
	justOne    []string
}

func loadBundle(t *testing.T, dir string) *bundle {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "ocsf-1.1.0.json"))
	if err != nil {
		t.Fatal(err)
	}
	b := &bundle{dir: dir}
	if err := json.Unmarshal(raw, b); err != nil {
		t.Fatalf("schema: %v", err)
	}
	return b
}

// resolve merges the definition named with what it extends and includes.
// Profile files are merged only for the profiles the finding declares.
func (b *bundle) resolve(kind, name string, profiles []string) (resolved, error) {
	table := b.Objects
	if kind == "event" {
		table = b.Events
	}
	var chain []def
	for n := name; n != "" && n != "object"; {
		d, ok := table[n]
		if !ok {
			return resolved{}, fmt.Errorf("no %s %q in OCSF %s", kind, n, b.Version)
		}
		chain = append(chain, d)
		n = d.Extends
	}
	r := resolved{name: name, attrs: map[string]attr{}}
	if len(chain) > 0 {
		r.caption = chain[0].Caption
	}
	for i := len(chain) - 1; i >= 0; i-- {
		d := chain[i]
		r.profiles = append(r.profiles, d.Profiles...)
		if inc, ok := d.Attributes["$include"]; ok {
			var paths []string
			if err := json.Unmarshal(inc, &paths); err != nil {
				return resolved{}, fmt.Errorf("%s: $include: %w", d.Name, err)
			}
			for _, p := range paths {
				if err := b.include(&r, p, profiles); err != nil {
					return resolved{}, err
				}
			}
		}
		if err := b.merge(&r, d.Attributes); err != nil {
			return resolved{}, fmt.Errorf("%s: %w", d.Name, err)
		}
		if c := d.Constraints.AtLeastOne; len(c) > 0 {
			r.atLeastOne = c
		}
		if c := d.Constraints.JustOne; len(c) > 0 {
			r.justOne = c
		}
	}
	if kind == "event" {
		b.classify(&r, chain[0])
	}
	return r, nil
}

// classify gives the class's classification its values, as the schema
// compiler does in place of the include's placeholders: the category, the
// class (the category's uid × 1000 plus its own) and one type per
// activity (class_uid × 100 plus activity_id, named "Class: Activity").
func (b *bundle) classify(r *resolved, ev def) {
	type caption = struct {
		Caption string `json:"caption"`
	}
	cat := b.Categories.Attributes[ev.Category]
	class := cat.UID*1000 + ev.UID
	set := func(k string, enum map[string]caption) {
		a := r.attrs[k]
		a.Enum = enum
		r.attrs[k] = a
	}
	set("category_uid", map[string]caption{strconv.Itoa(cat.UID): {cat.Caption}})
	set("class_uid", map[string]caption{strconv.Itoa(class): {ev.Caption}})
	types := map[string]caption{}
	for id, act := range r.attrs["activity_id"].Enum {
		n, _ := strconv.Atoi(id)
		types[strconv.Itoa(class*100+n)] = caption{ev.Caption + ": " + act.Caption}
	}
	set("type_uid", types)
}

// include merges an included file: an include always, a profile only when
// declared. A missing include is an error; a profile not declared and not
// kept is skipped.
func (b *bundle) include(r *resolved, path string, profiles []string) error {
	profile := strings.HasPrefix(path, "profiles/")
	if profile && !slices.Contains(profiles, strings.TrimSuffix(filepath.Base(path), ".json")) {
		return nil
	}
	raw, err := os.ReadFile(filepath.Join(b.dir, path))
	if err != nil {
		return fmt.Errorf("include %s: %w", path, err)
	}
	var d def
	if err := json.Unmarshal(raw, &d); err != nil {
		return fmt.Errorf("include %s: %w", path, err)
	}
	return b.merge(r, d.Attributes)
}

func (b *bundle) merge(r *resolved, attrs map[string]json.RawMessage) error {
	for k, raw := range attrs {
		if strings.HasPrefix(k, "$") {
			continue
		}
		base, ok := r.attrs[k]
		if !ok {
			d, known := b.Dictionary.Attributes[k]
			if !known {
				return fmt.Errorf("attribute %s is not in the dictionary", k)
			}
			base = d
			base.Enum = maps.Clone(d.Enum)
		}
		var over attr
		if err := json.Unmarshal(raw, &over); err != nil {
			return fmt.Errorf("attribute %s: %w", k, err)
		}
		if over.Requirement != "" {
			base.Requirement = over.Requirement
		}
		if over.Type != "" {
			base.Type = over.Type
		}
		if len(over.Enum) > 0 {
			if base.Enum == nil {
				base.Enum = over.Enum
			} else {
				maps.Copy(base.Enum, over.Enum)
			}
		}
		r.attrs[k] = base
	}
	return nil
}

// validate checks one value of the definition: every required attribute
// present, the constraints held, no attribute the definition does not
// have, each value of its attribute's type and enum, and each enum's
// caption beside it where the sibling is given.
func (b *bundle) validate(path string, r resolved, v map[string]any, profiles []string) []string {
	var errs []string
	bad := func(format string, a ...any) { errs = append(errs, path+": "+fmt.Sprintf(format, a...)) }
	for _, k := range slices.Sorted(maps.Keys(r.attrs)) {
		if _, ok := v[k]; !ok && r.attrs[k].Requirement == "required" {
			bad("required attribute %s missing (%s)", k, r.name)
		}
	}
	if c := r.atLeastOne; len(c) > 0 && !slices.ContainsFunc(c, func(k string) bool { _, ok := v[k]; return ok }) {
		bad("none of %v (%s)", c, r.name)
	}
	if c := r.justOne; len(c) > 0 {
		n := 0
		for _, k := range c {
			if _, ok := v[k]; ok {
				n++
			}
		}
		if n != 1 {
			bad("%d of %v, not just one (%s)", n, c, r.name)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(v)) {
		a, ok := r.attrs[k]
		if !ok {
			bad("attribute %s is not defined by %s in OCSF %s", k, r.name, b.Version)
			continue
		}
		sub := strings.TrimPrefix(path+"."+k, ".")
		vals := []any{v[k]}
		if a.IsArray {
			arr, isArr := v[k].([]any)
			if !isArr {
				bad("%s is %T, not an array", k, v[k])
				continue
			}
			vals = arr
		}
		for _, x := range vals {
			errs = append(errs, b.value(sub, a, x, profiles)...)
		}
		if len(a.Enum) > 0 && a.Sibling != "" && !a.IsArray {
			n, _ := v[k].(float64)
			want, hasSibling := v[a.Sibling]
			switch caption := a.Enum[strconv.Itoa(int(n))].Caption; {
			case n == 99 && !hasSibling:
				bad("%s is 99 (Other) without %s, which must then say what", k, a.Sibling)
			case hasSibling && n != 99 && want != caption:
				bad("%s %v is %q, but %s says %q", k, n, caption, a.Sibling, want)
			}
		}
	}
	return errs
}

// value checks one value against its attribute: a scalar of the data type
// (through the types' chain, with its regex) and enum, or an object.
func (b *bundle) value(path string, a attr, x any, profiles []string) []string {
	bad := func(format string, args ...any) []string { return []string{path + ": " + fmt.Sprintf(format, args...)} }
	if !strings.HasSuffix(a.Type, "_t") {
		obj, ok := x.(map[string]any)
		if !ok {
			return bad("%T, not an object (%s)", x, a.Type)
		}
		if a.Type == "object" { // unmapped and the like: any object
			return nil
		}
		r, err := b.resolve("object", a.Type, profiles)
		if err != nil {
			return bad("%v", err)
		}
		return b.validate(path, r, obj, profiles)
	}
	t, regex, maxLen, bounds := a.Type, "", 0, []float64(nil)
	for {
		dt, ok := b.Dictionary.Types.Attributes[t]
		if !ok {
			return bad("unknown data type %s", t)
		}
		// The most derived type's bounds hold (resource_uid_t's 64 over
		// string_t's 65,535).
		regex = cmp.Or(regex, dt.Regex)
		maxLen = cmp.Or(maxLen, dt.MaxLen)
		if bounds == nil {
			bounds = dt.Range
		}
		if dt.Type == "" {
			break
		}
		t = dt.Type
	}
	switch t {
	case "string_t":
		s, ok := x.(string)
		if !ok {
			return bad("%T, not a string (%s)", x, a.Type)
		}
		if regex != "" && !regexp.MustCompile(regex).MatchString(s) {
			return bad("%q does not match %s", s, a.Type)
		}
		if n := utf8.RuneCountInString(s); maxLen > 0 && n > maxLen {
			return bad("%d characters, over %s's %d", n, a.Type, maxLen)
		}
	case "integer_t", "long_t", "port_t":
		n, ok := x.(float64)
		if !ok || n != math.Trunc(n) {
			return bad("%v, not an integer (%s)", x, a.Type)
		}
		if len(bounds) == 2 && (n < bounds[0] || n > bounds[1]) {
			return bad("%v is outside %s's range %v", n, a.Type, bounds)
		}
		if len(a.Enum) > 0 {
			if _, ok := a.Enum[strconv.Itoa(int(n))]; !ok {
				return bad("%v is not one of the enum's values %v", n, slices.Sorted(maps.Keys(a.Enum)))
			}
		}
	case "float_t":
		if _, ok := x.(float64); !ok {
			return bad("%T, not a number", x)
		}
	case "boolean_t":
		if _, ok := x.(bool); !ok {
			return bad("%T, not a boolean", x)
		}
	case "json_t":
	default:
		return bad("no check for data type %s", t)
	}
	return nil
}
