package main

import (
	"encoding/json"
	"fmt"
	"path"
	"strconv"
	"strings"
	"testing"
)

// A CloudWatch Logs JSON filter pattern, as the metric filters use them:
// { SELECTOR OP VALUE [&& | || ...] } with parentheses, $.a.b selectors, =
// and != on quoted strings (with * wildcards) or numbers.
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
// Written for the tests: it evaluates the very strings the stack deploys.
type cwFilter struct {
	toks []string
	pos  int
}

func parseFilter(pattern string) (*cwFilter, error) {
	p := strings.TrimSpace(pattern)
	if !strings.HasPrefix(p, "{") || !strings.HasSuffix(p, "}") {
		return nil, fmt.Errorf("%q is not a JSON filter pattern", pattern)
	}
	toks, err := lexFilter(p[1 : len(p)-1])
	if err != nil {
		return nil, err
	}
	return &cwFilter{toks: toks}, nil
}

func lexFilter(s string) ([]string, error) {
	var toks []string
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == ' ' || c == '\t':
			i++
		case c == '(' || c == ')':
			toks = append(toks, string(c))
			i++
		case strings.HasPrefix(s[i:], "&&") || strings.HasPrefix(s[i:], "||") || strings.HasPrefix(s[i:], "!="):
			toks = append(toks, s[i:i+2])
			i += 2
		case c == '=':
			toks = append(toks, "=")
			i++
		case c == '"':
			j := i + 1
			for j < len(s) && (s[j] != '"' || s[j-1] == '\\') {
				j++
			}
			if j == len(s) {
				return nil, fmt.Errorf("unterminated string in %q", s)
			}
			toks = append(toks, s[i:j+1])
			i = j + 1
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t()=!&|", rune(s[j])) {
				j++
			}
			if j == i {
				return nil, fmt.Errorf("unexpected %q in %q", s[i:], s)
			}
			toks = append(toks, s[i:j])
			i = j
		}
	}
	return toks, nil
}

// match reports whether the JSON log line matches.
func (f *cwFilter) match(line map[string]any) (bool, error) {
	f.pos = 0
	ok, err := f.or(line)
	if err == nil && f.pos != len(f.toks) {
		err = fmt.Errorf("trailing %v", f.toks[f.pos:])
	}
	return ok, err
}

func (f *cwFilter) next() string {
	if f.pos >= len(f.toks) {
		return ""
	}
	t := f.toks[f.pos]
	f.pos++
	return t
}

func (f *cwFilter) peek() string {
	if f.pos >= len(f.toks) {
		return ""
	}
	return f.toks[f.pos]
}

func (f *cwFilter) or(line map[string]any) (bool, error) {
	v, err := f.and(line)
	for err == nil && f.peek() == "||" {
		f.next()
		var w bool
		w, err = f.and(line)
		v = v || w
	}
	return v, err
}

func (f *cwFilter) and(line map[string]any) (bool, error) {
	v, err := f.term(line)
	for err == nil && f.peek() == "&&" {
		f.next()
		var w bool
		w, err = f.term(line)
		v = v && w
	}
	return v, err
}

func (f *cwFilter) term(line map[string]any) (bool, error) {
	if f.peek() == "(" {
		f.next()
		v, err := f.or(line)
		if err == nil && f.next() != ")" {
			err = fmt.Errorf("missing )")
		}
		return v, err
	}
	sel, op, val := f.next(), f.next(), f.next()
	if !strings.HasPrefix(sel, "$.") || (op != "=" && op != "!=") || val == "" {
		return false, fmt.Errorf("bad comparison %q %q %q", sel, op, val)
	}
	got, present := selectField(line, sel)
	var eq bool
	switch {
	case strings.HasPrefix(val, `"`):
		want, err := strconv.Unquote(val)
		if err != nil {
			return false, err
		}
		s, isStr := got.(string)
		eq = present && isStr && globMatch(want, s)
	default:
		n, err := strconv.ParseFloat(val, 64)
		if err != nil {
			return false, err
		}
		x, isNum := got.(float64)
		eq = present && isNum && x == n
	}
	if op == "!=" {
		return present && !eq, nil
	}
	return eq, nil
}

func globMatch(pattern, s string) bool {
	ok, err := path.Match(strings.ReplaceAll(pattern, "/", "\x00"), strings.ReplaceAll(s, "/", "\x00"))
	return err == nil && ok
}

// selectField follows $.a.b into the line.
func selectField(line map[string]any, sel string) (any, bool) {
	var cur any = line
	for _, part := range strings.Split(strings.TrimPrefix(sel, "$."), ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func TestFilterGrammar(t *testing.T) {
	line := map[string]any{"msg": "alert", "kind": "bucket", "delivery": "undelivered", "n": float64(2), "a": map[string]any{"b": "x/y"}}
	for _, tc := range []struct {
		pattern string
		want    bool
	}{
		{`{ $.msg = "alert" }`, true},
		{`{ $.msg = "alert" && $.delivery = "undelivered" }`, true},
		{`{ $.msg = "alert" && $.delivery = "published" }`, false},
		{`{ $.msg = "skip" || ($.kind = "bucket" && $.n = 2) }`, true},
		{`{ $.msg != "alert" }`, false},
		{`{ $.missing != "x" }`, false},
		{`{ $.a.b = "x/*" }`, true},
		{`{ $.msg = "al*" }`, true},
	} {
		f, err := parseFilter(tc.pattern)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := f.match(line); err != nil || got != tc.want {
			t.Errorf("%s: %v %v, want %v", tc.pattern, got, err, tc.want)
		}
	}
}

// jsonLines splits a JSON log into its lines, decoded.
func jsonLines(t *testing.T, log string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(log), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not JSON: %s", l)
		}
		out = append(out, m)
	}
	return out
}
