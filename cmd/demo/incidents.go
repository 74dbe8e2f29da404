package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/bucketguard/bucketguard/remediations/acl"
	"github.com/bucketguard/bucketguard/remediations/emulator"
	"github.com/bucketguard/bucketguard/remediations/policy"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

// incident is one bucket, the state a real incident leaves it in, the
// CloudTrail event that reports it, and the state it must end in.
type incident struct {
	bucket string
	owner  string
	story  string
	event  string
	actor  string
	params map[string]any
	setup  func(ctx context.Context, s emulator.Scene, b string) error
	expect func(after posture.Posture) []string
	alert  bool
}

var (
	approvedTags = map[string]string{"bucketguard:approved-public": "true", "bucketguard:approved-until": "2099-12-31T00:00:00Z", "owner": "web-team"}
	allOn        = posture.AllOn
)

var incidents = []incident{
	{
		bucket: "acme-invoices", owner: "finance", event: "PutBucketPolicy", actor: "alice",
		story: "a policy opening reads to everyone, beside a partner account's legitimate statement",
		setup: func(ctx context.Context, s emulator.Scene, b string) error {
			return errs(s.Baseline(ctx, b, "finance"), s.BPA(ctx, b, nil),
				s.Policy(ctx, b, emulator.PolicyDoc(emulator.PartnerStatement(b), emulator.PublicReadStatement(b))))
		},
		expect: func(p posture.Posture) []string {
			return append(notPublic(p, false), keeps(p, emulator.PartnerStatement(p.Bucket))...)
		},
		alert: true,
	},
	{
		bucket: "acme-public-assets", owner: "web-team", event: "PutBucketAcl", actor: "carol",
		story: "a public-read ACL beside the log delivery group's grant",
		setup: func(ctx context.Context, s emulator.Scene, b string) error {
			return errs(s.Baseline(ctx, b, "web-team"), s.BPA(ctx, b, nil), s.PublicACL(ctx, b))
		},
		expect: func(p posture.Posture) []string {
			probs := notPublic(p, false)
			if !strings.Contains(aclSummary(p), "LogDelivery") {
				probs = append(probs, "the LogDelivery grant was lost")
			}
			return probs
		},
		alert: true,
	},
	{
		bucket: "acme-analytics", owner: "data-team", event: "DeleteBucketPublicAccessBlock", actor: "dave",
		story: "Block Public Access deleted",
		setup: func(ctx context.Context, s emulator.Scene, b string) error {
			return errs(s.Baseline(ctx, b, "data-team"), s.BPA(ctx, b, nil))
		},
		expect: func(p posture.Posture) []string { return notPublic(p, false) },
		alert:  true,
	},
	{
		bucket: "acme-ledger", owner: "finance", event: "DeleteBucketEncryption", actor: "erin",
		story: "default encryption deleted",
		setup: func(ctx context.Context, s emulator.Scene, b string) error {
			return errs(s.Baseline(ctx, b, "finance"), s.Encryption(ctx, b, "", ""))
		},
		expect: func(p posture.Posture) []string { return notPublic(p, false) },
		alert:  true,
	},
	{
		bucket: "acme-website", owner: "web-team", event: "PutBucketPolicy", actor: "frank",
		story: "an approved public website that also got a public write statement",
		setup: func(ctx context.Context, s emulator.Scene, b string) error {
			return errs(s.Baseline(ctx, b, ""), s.Tags(ctx, b, approvedTags),
				s.BPA(ctx, b, &posture.BPA{BlockPublicAcls: true, IgnorePublicAcls: true}),
				s.Website(ctx, b, "index.html"),
				s.Policy(ctx, b, emulator.PolicyDoc(emulator.PublicReadStatement(b), emulator.PublicWriteStatement(b))))
		},
		expect: func(p posture.Posture) []string {
			return append(notPublic(p, true), keeps(p, emulator.PublicReadStatement(p.Bucket))...)
		},
		alert: true,
	},
	{
		bucket: "acme-reports", owner: "data-team", event: "PutBucketTagging", actor: "grace",
		story:  "a clean bucket whose tags changed",
		params: map[string]any{"Tagging": map[string]any{"TagSet": map[string]any{"Tag": map[string]any{"Key": "owner", "Value": "data-team"}}}},
		setup:  func(ctx context.Context, s emulator.Scene, b string) error { return s.Baseline(ctx, b, "data-team") },
		expect: func(p posture.Posture) []string { return notPublic(p, false) },
		alert:  false,
	},
}

func errs(all ...error) error {
	for _, err := range all {
		if err != nil {
			return err
		}
	}
	return nil
}

// notPublic checks the end state: Block Public Access on (the ACL settings
// only, for an approved bucket), no public ACL grant, no public policy
// statement (but public read, when approved), TLS-only, default encryption.
func notPublic(p posture.Posture, approved bool) []string {
	var probs []string
	want := allOn
	if approved {
		want = posture.BPA{BlockPublicAcls: true, IgnorePublicAcls: true}
	}
	if p.BucketBPA.State != posture.Set || p.BucketBPA.Value != want {
		probs = append(probs, "Block Public Access is "+bpaSummary(p))
	}
	if p.ACL.State == posture.Set && acl.Judge(p.ACL.Value).Public {
		probs = append(probs, "the ACL is still public")
	}
	d, err := policy.Parse([]byte(p.Policy.Value))
	switch {
	case err != nil:
		probs = append(probs, "the policy is unreadable")
	case policy.Judge(d).PublicWrite || (policy.Judge(d).Public && !approved):
		probs = append(probs, "the policy is still public")
	case p.Website.State == posture.Set && d.RequiresTLS(p.Partition(), p.Bucket):
		probs = append(probs, "a TLS-only Deny refuses the website (HTTP only)")
	case p.Website.State != posture.Set && !d.RequiresTLS(p.Partition(), p.Bucket):
		probs = append(probs, "TLS is not required")
	}
	if p.Encryption.State != posture.Set {
		probs = append(probs, "no default encryption")
	}
	return probs
}

func keeps(p posture.Posture, stmt string) []string {
	want, _ := policy.Canonical([]byte(stmt))
	if d, err := policy.Parse([]byte(p.Policy.Value)); err == nil {
		for _, s := range d.Statements {
			if c, _ := policy.Canonical(s.Raw); c == want {
				return nil
			}
		}
	}
	return []string{fmt.Sprintf("a legitimate statement was lost: %s", stmt)}
}
