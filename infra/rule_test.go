package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"quamina.net/go/quamina"

	"github.com/bucketguard/bucketguard/events"
)

const (
	selfRole  = "arn:aws:iam::111122223333:role/bucketguard/bucketguard-remediator"
	sweepRole = "arn:aws:iam::111122223333:role/bucketguard/bucketguard-sweep"
	// The functions' own sessions, as Lambda names them.
	selfSession  = "arn:aws:sts::111122223333:assumed-role/bucketguard-remediator/bucketguard-remediate"
	sweepSession = "arn:aws:sts::111122223333:assumed-role/bucketguard-sweep/bucketguard-sweep"
)

// expandOr turns a pattern with a top-level-in-detail "$or" into the
// patterns it is the union of. Quamina has no "$or"; EventBridge defines
// {"$or": [A, B]} as matching when A or B matches, so each branch merged into
// the rest of the pattern is an equivalent pattern, and a matcher holding all
// of them matches exactly the events the rule does.
// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html#eb-filtering-complex-example-or
func expandOr(t *testing.T, pattern map[string]any) []string {
	t.Helper()
	detail := pattern["detail"].(map[string]any)
	branches, ok := detail["$or"].([]any)
	if !ok {
		b, _ := json.Marshal(pattern)
		return []string{string(b)}
	}
	var out []string
	for _, br := range branches {
		d := map[string]any{}
		for k, v := range detail {
			if k != "$or" {
				d[k] = v
			}
		}
		for k, v := range br.(map[string]any) {
			if _, clash := d[k]; clash {
				t.Fatalf("$or branch repeats field %q", k)
			}
			d[k] = v
		}
		p := map[string]any{}
		for k, v := range pattern {
			p[k] = v
		}
		p["detail"] = d
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	return out
}

func rulePattern() map[string]any {
	return map[string]any{
		"source":      []any{"aws.s3"},
		"detail-type": []any{events.DetailType},
		"detail":      RuleDetail(selfSession, sweepSession),
	}
}

// The rule's pattern, run through an EventBridge-compatible matcher against
// every CloudTrail sample: every watched, successful change by someone else
// matches; failed calls, unwatched names and the remediator's own changes
// do not. The same samples drive the parser's tests, so rule and code agree.
func TestRuleMatchesTheSamples(t *testing.T) {
	q, err := quamina.New()
	if err != nil {
		t.Fatal(err)
	}
	patterns := expandOr(t, rulePattern())
	if len(patterns) != 2 {
		t.Fatalf("want the two branches of $or, got %d", len(patterns))
	}
	for _, p := range patterns {
		if err := q.AddPattern("bucketguard", p); err != nil {
			t.Fatalf("quamina rejects %s: %v", p, err)
		}
	}
	files, _ := filepath.Glob("../events/testdata/cloudtrail/*.json")
	if len(files) < 16 {
		t.Fatalf("only %d samples", len(files))
	}
	role, _ := events.ParseRole(selfRole)
	self := events.Pinned([]events.Role{role}, "bucketguard-remediate", "bucketguard-sweep")[0]
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c, err := events.Parse(raw)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		want := c.SkipReason(self) == ""
		got, err := q.MatchesForEvent(raw)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		// The rule cannot tell a TagResource on a bucket from one on an
		// access point (the ARN is in requestParameters); the code skips
		// the latter with no S3 call.
		if len(got) > 0 && !want && strings.Contains(c.SkipReason(self), "not a general purpose bucket") {
			continue
		}
		if (len(got) > 0) != want {
			t.Errorf("%s: rule matches %v, code evaluates %v (%s)", filepath.Base(f), len(got) > 0, want, c.SkipReason(self))
		}
	}
}

// Variants the samples do not cover, built from one sample.
func TestRuleEdgeCases(t *testing.T) {
	q, _ := quamina.New()
	for _, p := range expandOr(t, rulePattern()) {
		if err := q.AddPattern("bucketguard", p); err != nil {
			t.Fatal(err)
		}
	}
	base, err := os.ReadFile("../events/testdata/cloudtrail/PutBucketPolicy.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func(env, detail map[string]any)
		want bool
	}{
		{"IAM user (no session issuer)", func(env, d map[string]any) {}, true},
		{"another role's session", func(env, d map[string]any) {
			d["userIdentity"] = map[string]any{"type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/Admin/x",
				"sessionContext": map[string]any{"sessionIssuer": map[string]any{"arn": "arn:aws:iam::111122223333:role/Admin"}}}
		}, true},
		{"the sweep's session", func(env, d map[string]any) {
			d["userIdentity"] = map[string]any{"type": "AssumedRole", "arn": sweepSession,
				"sessionContext": map[string]any{"sessionIssuer": map[string]any{"arn": sweepRole}}}
		}, false},
		{"bucketguard's own session", func(env, d map[string]any) {
			d["userIdentity"] = map[string]any{"type": "AssumedRole", "arn": selfSession,
				"sessionContext": map[string]any{"sessionIssuer": map[string]any{"arn": selfRole}}}
		}, false},
		{"bucketguard's role, passed to someone else's function", func(env, d map[string]any) {
			d["userIdentity"] = map[string]any{"type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/bucketguard-remediator/attacker-function",
				"sessionContext": map[string]any{"sessionIssuer": map[string]any{"arn": selfRole}}}
		}, true},
		{"AWS service (no userIdentity arn)", func(env, d map[string]any) {
			d["userIdentity"] = map[string]any{"type": "AWSService", "invokedBy": "cloudformation.amazonaws.com"}
		}, true},
		{"failed call", func(env, d map[string]any) { d["errorCode"] = "AccessDenied" }, false},
		{"other event source", func(env, d map[string]any) { d["eventSource"] = "ec2.amazonaws.com" }, false},
		{"API spelling, not CloudTrail's", func(env, d map[string]any) { d["eventName"] = "DeletePublicAccessBlock" }, false},
		{"other detail-type", func(env, d map[string]any) { env["detail-type"] = "AWS Service Event via CloudTrail" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var env map[string]any
			if err := json.Unmarshal(base, &env); err != nil {
				t.Fatal(err)
			}
			tt.edit(env, env["detail"].(map[string]any))
			raw, _ := json.Marshal(env)
			got, err := q.MatchesForEvent(raw)
			if err != nil {
				t.Fatal(err)
			}
			if (len(got) > 0) != tt.want {
				t.Errorf("matches %v, want %v", len(got) > 0, tt.want)
			}
		})
	}
}

// The expansion itself: each branch keeps every other field, and "$or" is gone.
func TestExpandOr(t *testing.T) {
	ps := expandOr(t, rulePattern())
	for _, p := range ps {
		if strings.Contains(p, "$or") || !strings.Contains(p, `"errorCode":[{"exists":false}]`) || !strings.Contains(p, "PutAccountPublicAccessBlock") {
			t.Errorf("branch %s", p)
		}
	}
	if !strings.Contains(ps[0], `"userIdentity":{"arn":[{"exists":false}]}`) || !strings.Contains(ps[1], "anything-but") {
		t.Errorf("branches %v", ps)
	}
}
