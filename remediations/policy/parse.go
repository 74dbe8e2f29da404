// Package policy reads S3 bucket policies, judges each statement by AWS's
// documented meaning of "public", and rewrites a policy without chosen
// statements while keeping every other statement byte for byte.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html#access-control-block-public-access-policy-status
package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// ErrInvalid marks a document that cannot be read as a bucket policy.
var ErrInvalid = errors.New("invalid policy")

// MaxBytes is the size limit S3 puts on a bucket policy.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-policies.html
const MaxBytes = 20 * 1024

// Document is a parsed bucket policy. It remembers its top-level members in
// order and each statement's exact bytes, so that a rewrite touches nothing it
// was not asked to.
type Document struct {
	Statements []Statement
	members    []member
	stmtMember int // index of "Statement" in members, -1 when absent
}

type member struct {
	name  string
	value json.RawMessage
}

// Statement is one statement of a policy.
type Statement struct {
	Index        int             // 0-based, in document order
	Raw          json.RawMessage // exactly as it appeared
	Sid          string
	Effect       string
	Principal    *Principal // nil when absent
	NotPrincipal *Principal // nil when absent
	Action       []string
	NotAction    []string
	HasNotAction bool
	Resource     []string
	NotResource  []string
	Conditions   []Condition
	// accessPoint applies the access point rules of "public" (see
	// Document.ForAccessPoint).
	accessPoint bool
}

// Principal is a Principal or NotPrincipal element. Star is the bare string
// "*"; Values holds the typed form: {"AWS": [...], "Service": [...], ...}.
type Principal struct {
	Star   bool
	Values map[string][]string
}

// Condition is one operator/key pair of a Condition block, with its values
// as strings (booleans and numbers in their JSON spelling).
type Condition struct {
	Operator string
	Key      string
	Values   []string
}

// Parse reads a bucket policy document.
func Parse(b []byte) (*Document, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("%w: the policy is not a JSON object", ErrInvalid)
	}
	doc := &Document{stmtMember: -1}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		name, _ := tok.(string)
		if seen[name] {
			return nil, fmt.Errorf("%w: member %q appears twice", ErrInvalid, name)
		}
		seen[name] = true
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("%w: member %q: %v", ErrInvalid, name, err)
		}
		if name == "Statement" {
			doc.stmtMember = len(doc.members)
		}
		doc.members = append(doc.members, member{name: name, value: v})
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the policy object", ErrInvalid)
	}
	if doc.stmtMember < 0 {
		return doc, nil
	}
	raws, err := statementList(doc.members[doc.stmtMember].value)
	if err != nil {
		return nil, err
	}
	for i, raw := range raws {
		s, err := parseStatement(raw)
		if err != nil {
			return nil, fmt.Errorf("%w: statement %d: %v", ErrInvalid, i, err)
		}
		s.Index = i
		doc.Statements = append(doc.Statements, s)
	}
	return doc, nil
}

// statementList accepts a single statement object or a list of them.
func statementList(v json.RawMessage) ([]json.RawMessage, error) {
	v = bytes.TrimSpace(v)
	switch {
	case len(v) > 0 && v[0] == '{':
		return []json.RawMessage{v}, nil
	case len(v) > 0 && v[0] == '[':
		var list []json.RawMessage
		if err := json.Unmarshal(v, &list); err != nil {
			return nil, fmt.Errorf("%w: Statement: %v", ErrInvalid, err)
		}
		for i, s := range list {
			s = bytes.TrimSpace(s)
			if len(s) == 0 || s[0] != '{' {
				return nil, fmt.Errorf("%w: statement %d is not an object", ErrInvalid, i)
			}
			list[i] = s
		}
		return list, nil
	}
	return nil, fmt.Errorf("%w: Statement is neither an object nor a list", ErrInvalid)
}

func parseStatement(raw json.RawMessage) (Statement, error) {
	s := Statement{Raw: raw}
	var m map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return s, err
	}
	var err error
	if v, ok := m["Sid"]; ok {
		if s.Sid, err = str(v); err != nil {
			return s, fmt.Errorf("Sid: %w", err)
		}
	}
	if v, ok := m["Effect"]; ok {
		if s.Effect, err = str(v); err != nil {
			return s, fmt.Errorf("Effect: %w", err)
		}
	}
	if v, ok := m["Principal"]; ok {
		if s.Principal, err = parsePrincipal(v); err != nil {
			return s, fmt.Errorf("Principal: %w", err)
		}
	}
	if v, ok := m["NotPrincipal"]; ok {
		if s.NotPrincipal, err = parsePrincipal(v); err != nil {
			return s, fmt.Errorf("NotPrincipal: %w", err)
		}
	}
	for _, f := range []struct {
		name string
		dst  *[]string
	}{{"Action", &s.Action}, {"NotAction", &s.NotAction}, {"Resource", &s.Resource}, {"NotResource", &s.NotResource}} {
		if v, ok := m[f.name]; ok {
			if *f.dst, err = strList(v); err != nil {
				return s, fmt.Errorf("%s: %w", f.name, err)
			}
		}
	}
	_, s.HasNotAction = m["NotAction"]
	if v, ok := m["Condition"]; ok {
		if s.Conditions, err = parseConditions(v); err != nil {
			return s, fmt.Errorf("Condition: %w", err)
		}
	}
	return s, nil
}

func parsePrincipal(v json.RawMessage) (*Principal, error) {
	v = bytes.TrimSpace(v)
	if len(v) > 0 && v[0] == '"' {
		s, err := str(v)
		if err != nil {
			return nil, err
		}
		if s == "*" {
			return &Principal{Star: true}, nil
		}
		// Only "*" is valid as a bare string; read anything else as an AWS
		// principal so it is still judged.
		return &Principal{Values: map[string][]string{"AWS": {s}}}, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(v, &m); err != nil {
		return nil, errors.New("neither \"*\" nor an object")
	}
	p := &Principal{Values: map[string][]string{}}
	for k, raw := range m {
		list, err := strList(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		p.Values[k] = list
	}
	return p, nil
}

func parseConditions(v json.RawMessage) ([]Condition, error) {
	var ops map[string]json.RawMessage
	if err := json.Unmarshal(v, &ops); err != nil {
		return nil, errors.New("not an object")
	}
	var out []Condition
	for op, raw := range ops {
		var keys map[string]json.RawMessage
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&keys); err != nil {
			return nil, fmt.Errorf("%s: not an object", op)
		}
		for k, vals := range keys {
			list, err := scalarList(vals)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", op, k, err)
			}
			out = append(out, Condition{Operator: op, Key: k, Values: list})
		}
	}
	sortConditions(out)
	return out, nil
}

func str(v json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", errors.New("not a string")
	}
	return s, nil
}

func strList(v json.RawMessage) ([]string, error) {
	v = bytes.TrimSpace(v)
	if len(v) > 0 && v[0] == '"' {
		s, err := str(v)
		return []string{s}, err
	}
	var list []string
	if err := json.Unmarshal(v, &list); err != nil {
		return nil, errors.New("not a string or a list of strings")
	}
	return list, nil
}

// scalarList reads a condition value: a scalar or a list of scalars.
func scalarList(v json.RawMessage) ([]string, error) {
	v = bytes.TrimSpace(v)
	if len(v) > 0 && v[0] == '[' {
		var list []json.RawMessage
		if err := json.Unmarshal(v, &list); err != nil {
			return nil, err
		}
		out := make([]string, 0, len(list))
		for _, item := range list {
			s, err := scalar(item)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	}
	s, err := scalar(v)
	if err != nil {
		return nil, err
	}
	return []string{s}, nil
}

func scalar(v json.RawMessage) (string, error) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return "", errors.New("empty value")
	}
	switch v[0] {
	case '"':
		return str(v)
	case 't', 'f':
		b, err := strconv.ParseBool(string(v))
		if err != nil {
			return "", errors.New("not a scalar")
		}
		return strconv.FormatBool(b), nil
	case '{', '[', 'n':
		return "", errors.New("not a string, number or boolean")
	}
	if _, err := strconv.ParseFloat(string(v), 64); err != nil {
		return "", errors.New("not a scalar")
	}
	return string(v), nil
}
