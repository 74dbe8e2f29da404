package main

import (
	"bytes"
	"context"
	"encoding/json"

	"github.com/bucketguard/bucketguard/remediations/acl"
	"github.com/bucketguard/bucketguard/remediations/policy"
)

type statementJSON struct {
	Index  int    `json:"index"`
	Sid    string `json:"sid"`
	Public bool   `json:"public"`
	Reason string `json:"reason"`
}

type policyJSON struct {
	Public      bool            `json:"public"`
	PublicRead  bool            `json:"public_read"`
	PublicWrite bool            `json:"public_write"`
	Statements  []statementJSON `json:"statements"`
}

func explainPolicy(_ context.Context, c *cli, args []string) error {
	args, err := flags("explain-policy", args, nil)
	if err != nil {
		return err
	}
	b, err := input(c, args, "policy")
	if err != nil {
		return err
	}
	d, err := policy.Parse(unwrapPolicy(b))
	if err != nil {
		return invalid("%v", err)
	}
	r := policy.Judge(d)
	out := policyJSON{Public: r.Public, PublicRead: r.PublicRead, PublicWrite: r.PublicWrite, Statements: []statementJSON{}}
	for _, s := range r.Statements {
		out.Statements = append(out.Statements, statementJSON{Index: s.Index, Sid: s.Sid, Public: s.Public, Reason: s.Reason})
	}
	return printJSON(c.stdout, out)
}

// unwrapPolicy also accepts `aws s3api get-bucket-policy` output, whose
// Policy member holds the document as a string.
func unwrapPolicy(b []byte) []byte {
	var wrapped struct {
		Policy    *string         `json:"Policy"`
		Statement json.RawMessage `json:"Statement"`
	}
	if json.Unmarshal(b, &wrapped) == nil && wrapped.Policy != nil && wrapped.Statement == nil {
		return []byte(*wrapped.Policy)
	}
	return b
}

type aclJSON struct {
	Public       bool  `json:"public"`
	PublicGrants []int `json:"public_grants"`
	KeptGrants   []int `json:"kept_grants"`
}

func explainACL(_ context.Context, c *cli, args []string) error {
	args, err := flags("explain-acl", args, nil)
	if err != nil {
		return err
	}
	b, err := input(c, args, "ACL")
	if err != nil {
		return err
	}
	a, err := acl.Parse(b)
	if err != nil {
		return invalid("%v", err)
	}
	r := acl.Judge(a)
	return printJSON(c.stdout, aclJSON{Public: r.Public, PublicGrants: r.PublicGrants, KeptGrants: r.KeptGrants})
}

func marshalIndent(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}
