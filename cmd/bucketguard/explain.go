package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"

	"github.com/bucketguard/bucketguard/remediations/acl"
	"github.com/bucketguard/bucketguard/remediations/analyzer"
	"github.com/bucketguard/bucketguard/remediations/policy"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

type statementJSON struct {
	Index  int    `json:"index"`
	Sid    string `json:"sid"`
	Public bool   `json:"public"`
	Reason string `json:"reason"`
}

type policyJSON struct {
	// AccessPoint and NetworkOrigin say how the document was judged: as an
	// access point's policy (with its network origin), or a bucket's.
	AccessPoint   bool            `json:"access_point,omitempty"`
	NetworkOrigin string          `json:"network_origin,omitempty"`
	Public        bool            `json:"public"`
	PublicRead    bool            `json:"public_read"`
	PublicWrite   bool            `json:"public_write"`
	Statements    []statementJSON `json:"statements"`
	// AWS is IAM Access Analyzer's verdict on the same document, with --aws;
	// Agree says whether the two verdicts agree.
	AWS   *analyzer.Verdict `json:"aws,omitempty"`
	Agree *bool             `json:"agree,omitempty"`
}

// internet is the network origin of an access point reachable from the
// internet.
const internet = "Internet"

func explainPolicy(ctx context.Context, c *cli, args []string) error {
	var accessPoint, askAWS bool
	var origin string
	args, err := flags("explain-policy", args, func(fs *flag.FlagSet) {
		fs.BoolVar(&accessPoint, "access-point", false, "judge the document as an access point's policy")
		fs.StringVar(&origin, "network-origin", internet, "the access point's network origin: Internet or VPC")
		fs.BoolVar(&askAWS, "aws", false, "ask IAM Access Analyzer (CheckNoPublicAccess) too, and print both verdicts")
	})
	if err != nil {
		return err
	}
	if origin != internet && origin != posture.VPC {
		return invalid("--network-origin %q: want Internet or VPC", origin)
	}
	if origin != internet && !accessPoint {
		return invalid("--network-origin applies to --access-point only")
	}
	b, err := input(c, args, "policy")
	if err != nil {
		return err
	}
	raw := unwrapPolicy(b)
	d, err := policy.Parse(raw)
	if err != nil {
		return invalid("%v", err)
	}
	out := judgePolicy(d, accessPoint, origin)
	if !askAWS {
		return printJSON(c.stdout, out)
	}
	deps, err := c.aws(ctx)
	if err != nil {
		return err
	}
	rt := analyzer.Bucket
	if accessPoint {
		rt = analyzer.AccessPoint
	}
	v := analyzer.Check(ctx, deps.Analyzer, string(raw), rt)
	out.AWS = &v
	if v.Checked() {
		agree := v.Public == out.Public
		out.Agree = &agree
	}
	if err := printJSON(c.stdout, out); err != nil {
		return err
	}
	if !v.Checked() {
		return fmt.Errorf("IAM Access Analyzer could not judge the policy: %s", v.Unavailable)
	}
	return nil
}

// judgePolicy is bucketguard's verdict: as a bucket policy, or as an access
// point's by the access point rules the engine uses (a VPC origin is never
// public; s3:DataAccessPointArn and s3:DataAccessPointAccount do not pin).
func judgePolicy(d *policy.Document, accessPoint bool, origin string) policyJSON {
	out := policyJSON{Statements: []statementJSON{}}
	if accessPoint {
		out.AccessPoint, out.NetworkOrigin = true, origin
		d = d.ForAccessPoint()
	}
	r := policy.Judge(d)
	vpc := accessPoint && origin == posture.VPC
	if !vpc {
		out.Public, out.PublicRead, out.PublicWrite = r.Public, r.PublicRead, r.PublicWrite
	}
	for _, s := range r.Statements {
		st := statementJSON{Index: s.Index, Sid: s.Sid, Public: s.Public && !vpc, Reason: s.Reason}
		if vpc {
			st.Reason = "an access point with a VPC network origin is never public, whatever its policy says"
		}
		out.Statements = append(out.Statements, st)
	}
	return out
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
