// Package acl judges S3 bucket ACLs by AWS's meaning of "public": a grant to
// the predefined AllUsers or AuthenticatedUsers group is public; grants to
// the LogDelivery group, to canonical users and to e-mail addresses are not.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html#public-acls
package acl

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ErrInvalid marks a document that cannot be read as an ACL.
var ErrInvalid = errors.New("invalid ACL")

// The predefined groups.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html#specifying-grantee-predefined-groups
const (
	AllUsers           = "http://acs.amazonaws.com/groups/global/AllUsers"
	AuthenticatedUsers = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
	LogDelivery        = "http://acs.amazonaws.com/groups/s3/LogDelivery"
)

// Grantee types as S3 names them.
const (
	CanonicalUser         = "CanonicalUser"
	Group                 = "Group"
	AmazonCustomerByEmail = "AmazonCustomerByEmail"
)

// Owner is the bucket owner.
type Owner struct {
	ID          string `json:"ID,omitempty"`
	DisplayName string `json:"DisplayName,omitempty"`
}

// Grantee is who a grant is for.
type Grantee struct {
	Type         string `json:"Type"`
	ID           string `json:"ID,omitempty"`
	URI          string `json:"URI,omitempty"`
	EmailAddress string `json:"EmailAddress,omitempty"`
	DisplayName  string `json:"DisplayName,omitempty"`
}

// Grant is one grant of an ACL.
type Grant struct {
	Grantee    Grantee `json:"Grantee"`
	Permission string  `json:"Permission"`
}

// ACL is a bucket ACL in the shape `aws s3api get-bucket-acl` prints.
type ACL struct {
	Owner  Owner   `json:"Owner"`
	Grants []Grant `json:"Grants"`
}

// Verdict is the judgement of one grant.
type Verdict struct {
	Public bool
	Read   bool
	Write  bool
	Reason string
}

// Report is the judgement of a whole ACL.
type Report struct {
	Public       bool
	PublicRead   bool
	PublicWrite  bool
	PublicGrants []int // indexes into Grants
	KeptGrants   []int
	Grants       []Verdict
}

// group returns the canonical form of a predefined group URI, or "". S3
// writes the http form; compare leniently so a variant never slips by.
func group(uri string) string {
	u := strings.TrimSuffix(strings.TrimSpace(uri), "/")
	u = strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "http://")
	for _, g := range []string{AllUsers, AuthenticatedUsers, LogDelivery} {
		if strings.EqualFold(u, strings.TrimPrefix(g, "http://")) {
			return g
		}
	}
	return ""
}

// Judge judges one grant.
func (g Grant) Judge() Verdict {
	switch group(g.Grantee.URI) {
	case AllUsers:
		return publicGrant(g.Permission, "AllUsers (anyone on the internet)")
	case AuthenticatedUsers:
		return publicGrant(g.Permission, "AuthenticatedUsers (anyone with an AWS account)")
	case LogDelivery:
		return Verdict{Reason: "the LogDelivery group writes server access logs; not public"}
	}
	switch {
	case g.Grantee.URI != "":
		return Verdict{Reason: fmt.Sprintf("group %s is not a public group", g.Grantee.URI)}
	case g.Grantee.EmailAddress != "":
		return Verdict{Reason: "a grant to one AWS account by e-mail; not public"}
	}
	return Verdict{Reason: "a grant to one canonical user; not public"}
}

// publicGrant classifies a permission. READ lists objects and READ_ACP reads
// the ACL; WRITE creates, overwrites and deletes objects; WRITE_ACP changes
// the ACL; FULL_CONTROL is all four.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html#permissions
func publicGrant(perm, who string) Verdict {
	v := Verdict{Public: true}
	switch strings.ToUpper(perm) {
	case "READ", "READ_ACP":
		v.Read = true
	case "WRITE", "WRITE_ACP":
		v.Write = true
	default: // FULL_CONTROL, or anything unknown: assume the worst
		v.Read, v.Write = true, true
	}
	v.Reason = fmt.Sprintf("%s to %s is public", strings.ToUpper(perm), who)
	return v
}

// Judge judges every grant.
func Judge(a ACL) Report {
	r := Report{PublicGrants: []int{}, KeptGrants: []int{}}
	for i, g := range a.Grants {
		v := g.Judge()
		r.Grants = append(r.Grants, v)
		if v.Public {
			r.Public = true
			r.PublicRead = r.PublicRead || v.Read
			r.PublicWrite = r.PublicWrite || v.Write
			r.PublicGrants = append(r.PublicGrants, i)
		} else {
			r.KeptGrants = append(r.KeptGrants, i)
		}
	}
	return r
}

// WithoutPublic returns the ACL with its public grants removed and the owner
// and every other grant exactly as they were.
func WithoutPublic(a ACL) ACL {
	out := ACL{Owner: a.Owner, Grants: []Grant{}}
	for _, g := range a.Grants {
		if !g.Judge().Public {
			out.Grants = append(out.Grants, g)
		}
	}
	return out
}

// Parse reads an ACL as `aws s3api get-bucket-acl` prints it.
func Parse(b []byte) (ACL, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return ACL{}, fmt.Errorf("%w: not a JSON object", ErrInvalid)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	var raw struct {
		Owner  *Owner  `json:"Owner"`
		Grants []Grant `json:"Grants"`
	}
	if err := dec.Decode(&raw); err != nil {
		return ACL{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if dec.More() {
		return ACL{}, fmt.Errorf("%w: data after the ACL object", ErrInvalid)
	}
	if raw.Grants == nil {
		return ACL{}, fmt.Errorf("%w: no Grants list", ErrInvalid)
	}
	for i, g := range raw.Grants {
		if g.Permission == "" {
			return ACL{}, fmt.Errorf("%w: grant %d has no Permission", ErrInvalid, i)
		}
		if g.Grantee.ID == "" && g.Grantee.URI == "" && g.Grantee.EmailAddress == "" {
			return ACL{}, fmt.Errorf("%w: grant %d has no grantee", ErrInvalid, i)
		}
	}
	a := ACL{Grants: raw.Grants}
	if raw.Owner != nil {
		a.Owner = *raw.Owner
	}
	return a, nil
}

// OnlyOwner reports whether every grant is to the owner: the only ACL S3
// accepts on a bucket whose ownership is BucketOwnerEnforced.
func OnlyOwner(a ACL) bool {
	for _, g := range a.Grants {
		if g.Grantee.ID == "" || g.Grantee.ID != a.Owner.ID {
			return false
		}
	}
	return true
}
