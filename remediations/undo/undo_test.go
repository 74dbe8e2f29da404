package undo_test

import (
	"strings"
	"testing"
	"time"

	"github.com/bucketguard/bucketguard/remediations/plan"
	"github.com/bucketguard/bucketguard/remediations/posture"
	"github.com/bucketguard/bucketguard/remediations/undo"
)

const written = `{"Statement":[{"Sid":"T","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`

func input(before string, now posture.Fact[string]) undo.Input {
	on := posture.AllOn
	return undo.Input{
		Record: undo.Record{Incident: "ev", Actions: []plan.Action{
			{Name: plan.RemovePublicPolicyStatements, Setting: "policy", Before: before, After: written},
			{Name: plan.BlockPublicAccess, Setting: "bpa", Before: "(not configured: all four off)", After: plan.DescribeBPA(on)},
			{Name: plan.RemovePublicACLGrants, Setting: "acl", Before: "owner, AllUsers READ", After: "owner only"},
		}},
		Now: posture.Posture{Policy: now, BucketBPA: posture.Fact[posture.BPA]{State: posture.Set, Value: on},
			Tags: posture.Fact[map[string]string]{State: posture.Set, Value: map[string]string{"owner": "web"}}},
		Until: time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC), ApprovalTag: "approved", ApprovalUntilTag: "until",
	}
}

func TestUndoPlan(t *testing.T) {
	set := func(s string) posture.Fact[string] { return posture.Fact[string]{State: posture.Set, Value: s} }
	for _, tc := range []struct {
		name    string
		before  string
		now     posture.Fact[string]
		refused string
		policy  string // "" none, "delete", or a substring of the policy put back
	}{
		{"public read put back", `{"Statement":[{"Sid":"R","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`, set(written), "", `"R"`},
		{"only public write before: deleted", `{"Statement":[{"Sid":"W","Effect":"Allow","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::b/*"}]}`, set(written), "", "delete"},
		{"no policy before: deleted", "(no policy)", set(written), "", "delete"},
		{"re-spaced by S3, still the same", `{"Statement":[]}`, set(strings.ReplaceAll(written, ",", ", ")), "", `"Statement"`},
		{"changed since", `{"Statement":[]}`, set(`{"Statement":[]}`), "changed since", ""},
		{"shortened record", `{"Statement":[]}... [journal: 10 of 99 bytes kept]`, set(written), "shortened", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := undo.New(input(tc.before, tc.now))
			if tc.refused != "" {
				if !strings.Contains(strings.Join(p.Refused, ";"), tc.refused) || len(p.Steps) != 0 {
					t.Fatalf("refused %q, steps %+v", p.Refused, p.Steps)
				}
				return
			}
			if len(p.Refused) > 0 || len(p.Steps) != 2 || p.Steps[0].BPA == nil {
				t.Fatalf("plan %+v", p)
			}
			if bpa := *p.Steps[0].BPA; bpa.BlockPublicPolicy || bpa.RestrictPublicBuckets || !bpa.BlockPublicAcls || !bpa.IgnorePublicAcls {
				t.Errorf("Block Public Access put back: %+v", bpa)
			}
			st := p.Steps[1]
			switch {
			case tc.policy == "delete" && !st.DeletePolicy, tc.policy != "delete" && !strings.Contains(st.Policy, tc.policy):
				t.Errorf("policy step %+v", st)
			}
			if p.Tags["approved"] != "true" || p.Tags["until"] != "2026-12-31T00:00:00Z" || p.Tags["owner"] != "web" {
				t.Errorf("tags %v", p.Tags)
			}
			if !strings.Contains(strings.Join(p.Left, ";"), "ACL") {
				t.Errorf("left %q", p.Left)
			}
		})
	}
}

func TestParseBPAReadsBackDescribeBPA(t *testing.T) {
	for _, b := range []posture.BPA{{}, posture.AllOn, {BlockPublicAcls: true, RestrictPublicBuckets: true}} {
		if got, ok := plan.ParseBPA(plan.DescribeBPA(b)); !ok || got != b {
			t.Errorf("%+v: read back %+v, %v", b, got, ok)
		}
	}
	if _, ok := plan.ParseBPA("(unknown)"); ok {
		t.Error("an unknown setting read back")
	}
}
