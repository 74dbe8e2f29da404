package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Version is the policy language version bucketguard writes in a new policy.
const Version = "2012-10-17"

// TLSSid is the Sid of the statement bucketguard adds to deny plain HTTP.
const TLSSid = "BucketGuardDenyInsecureTransport"

// Rewrite returns the policy without the statements whose indexes are in
// drop, with add appended, and every other member and statement exactly as
// it was. It reports empty when no statement would be left: S3 takes an
// empty policy to mean "delete it", and so does bucketguard.
func (d *Document) Rewrite(drop map[int]bool, add ...json.RawMessage) (out []byte, empty bool) {
	var keep []json.RawMessage
	for _, s := range d.Statements {
		if !drop[s.Index] {
			keep = append(keep, s.Raw)
		}
	}
	keep = append(keep, add...)
	if len(keep) == 0 {
		return nil, true
	}
	var b bytes.Buffer
	b.WriteByte('{')
	wrote := false
	for i, m := range d.members {
		if i > 0 {
			b.WriteByte(',')
		}
		name, _ := json.Marshal(m.name)
		b.Write(name)
		b.WriteByte(':')
		if i == d.stmtMember {
			writeList(&b, keep)
			wrote = true
			continue
		}
		b.Write(m.value)
	}
	if !wrote {
		if len(d.members) > 0 {
			b.WriteByte(',')
		}
		if !d.has("Version") {
			fmt.Fprintf(&b, `"Version":%q,`, Version)
		}
		b.WriteString(`"Statement":`)
		writeList(&b, keep)
	}
	b.WriteByte('}')
	return b.Bytes(), false
}

func (d *Document) has(name string) bool {
	for _, m := range d.members {
		if m.name == name {
			return true
		}
	}
	return false
}

func writeList(b *bytes.Buffer, items []json.RawMessage) {
	b.WriteByte('[')
	for i, it := range items {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(it)
	}
	b.WriteByte(']')
}

// Partition returns the AWS partition of a region.
func Partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	case strings.HasPrefix(region, "us-iso-"):
		return "aws-iso"
	case strings.HasPrefix(region, "us-isob-"):
		return "aws-iso-b"
	case strings.HasPrefix(region, "eusc-"):
		return "aws-eusc"
	}
	return "aws"
}

// BucketARN returns the ARN of a bucket.
func BucketARN(partition, bucket string) string {
	return fmt.Sprintf("arn:%s:s3:::%s", partition, bucket)
}

// DenyInsecureTransport returns the statement that denies every S3 action on
// the bucket and its objects to requests not made over TLS, as AWS recommends.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html
func DenyInsecureTransport(partition, bucket, sid string) json.RawMessage {
	arn := BucketARN(partition, bucket)
	stmt := struct {
		Sid       string                       `json:"Sid"`
		Effect    string                       `json:"Effect"`
		Principal string                       `json:"Principal"`
		Action    string                       `json:"Action"`
		Resource  []string                     `json:"Resource"`
		Condition map[string]map[string]string `json:"Condition"`
	}{sid, "Deny", "*", "s3:*", []string{arn, arn + "/*"},
		map[string]map[string]string{"Bool": {"aws:SecureTransport": "false"}}}
	b, _ := json.Marshal(stmt) // cannot fail: plain strings
	return b
}

// FreeSid returns base, or base with a number, so that it is unused: S3
// rejects a policy whose Sids repeat.
func (d *Document) FreeSid(base string) string {
	used := map[string]bool{}
	for _, s := range d.Statements {
		used[s.Sid] = true
	}
	sid := base
	for n := 2; used[sid]; n++ {
		sid = fmt.Sprintf("%s%d", base, n)
	}
	return sid
}

// RequiresTLS reports whether some statement already denies all S3 actions on
// the bucket and its objects when aws:SecureTransport is false.
func (d *Document) RequiresTLS(partition, bucket string) bool {
	for _, s := range d.Statements {
		if s.deniesInsecureTransport(partition, bucket) {
			return true
		}
	}
	return false
}

func (s Statement) deniesInsecureTransport(partition, bucket string) bool {
	if !strings.EqualFold(s.Effect, "Deny") || s.NotPrincipal != nil || s.HasNotAction || len(s.NotResource) > 0 {
		return false
	}
	if s.Principal == nil || !s.Principal.everyone() {
		return false
	}
	allActions := false
	for _, a := range s.Action {
		if a == "*" || strings.EqualFold(a, "s3:*") {
			allActions = true
		}
	}
	if !allActions {
		return false
	}
	arn := BucketARN(partition, bucket)
	if !anyMatch(s.Resource, arn) || !anyMatch(s.Resource, arn+"/*") {
		return false
	}
	if len(s.Conditions) != 1 {
		return false
	}
	c := s.Conditions[0]
	return (c.Operator == "Bool" || c.Operator == "BoolIfExists") &&
		strings.EqualFold(c.Key, "aws:SecureTransport") &&
		len(c.Values) == 1 && strings.EqualFold(c.Values[0], "false")
}

func (p *Principal) everyone() bool {
	if p.Star {
		return true
	}
	for _, v := range p.Values["AWS"] {
		if v == "*" {
			return true
		}
	}
	return false
}

func anyMatch(patterns []string, arn string) bool {
	for _, p := range patterns {
		if globMatch(arn, p) {
			return true
		}
	}
	return false
}

// Canonical returns a policy or statement in a canonical form (compact, keys
// sorted) to compare two documents by meaning rather than by spacing.
func Canonical(raw []byte) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return string(b), nil
}
