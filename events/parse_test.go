package events_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bucketguard/bucketguard/docs/golden"
	"github.com/bucketguard/bucketguard/events"
)

var update = flag.Bool("update", false, "rewrite golden files")

func samples(t testing.TB) map[string][]byte { return samplesIn(t, "") }

// samplesIn reads the CloudTrail samples of testdata/cloudtrail/<dir>, by
// name.
func samplesIn(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "cloudtrail", dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no CloudTrail samples in %q: %v", dir, err)
	}
	out := make(map[string][]byte, len(files))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".json")] = b
	}
	return out
}

// Every watched name has at least one real-shaped, successful sample, and it
// parses to the right scope.
func TestEveryWatchedNameHasASample(t *testing.T) {
	seen := map[events.Name]bool{}
	for name, raw := range samples(t) {
		c, err := events.Parse(raw)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if c.ErrorCode != "" || !c.Name.IsWatched() {
			continue
		}
		seen[c.Name] = true
		switch sc := c.Name.Scope(); {
		case sc == events.AccountScope && c.Bucket != "":
			t.Errorf("%s: account-level but bucket %q", name, c.Bucket)
		case sc == events.BucketScope && c.Bucket == "" && c.SkipReason() == "":
			t.Errorf("%s: bucket-level but no bucket", name)
		case (sc == events.AccessPointScope || sc == events.ObjectLambdaScope || sc == events.MultiRegionScope) && (c.AccessPoint == nil || c.AccessPoint.Scope != sc):
			t.Errorf("%s: access point %+v, want one of scope %s", name, c.AccessPoint, sc)
		}
		if c.Account != "111122223333" {
			t.Errorf("%s: account %q, want the scrubbed 111122223333", name, c.Account)
		}
	}
	for _, w := range events.Watched() {
		if !seen[w.Name] {
			t.Errorf("no successful sample in testdata/cloudtrail for %s", w.Name)
		}
	}
}

func TestParseGolden(t *testing.T) {
	for name, raw := range samples(t) {
		t.Run(name, func(t *testing.T) {
			c, err := events.Parse(raw)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			got, err := json.MarshalIndent(c, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden.File(t, filepath.Join("testdata", "parsed", name+".golden"), append(got, '\n'), *update)
		})
	}
}

func TestSkipReason(t *testing.T) {
	self, err := events.ParseRole("arn:aws:iam::111122223333:role/bucketguard/bucketguard-remediator")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		sample string
		want   string // substring of the reason; "" means not skipped
	}{
		{"PutBucketPolicy", ""},
		{"PutBucketAcl-emptyname", ""},
		{"PutAccountPublicAccessBlock", ""},
		{"PutBucketPolicy-denied", "AccessDenied"},
		{"PutBucketPolicy-self", "own role"},
		{"PutBucketCors-unwatched", "not watched"},
	}
	all := samples(t)
	for _, tt := range tests {
		t.Run(tt.sample, func(t *testing.T) {
			c, err := events.Parse(all[tt.sample])
			if err != nil {
				t.Fatal(err)
			}
			got := c.SkipReason(self)
			if tt.want == "" && got != "" || tt.want != "" && !strings.Contains(got, tt.want) {
				t.Errorf("SkipReason = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSelfRoleMatching(t *testing.T) {
	tests := []struct {
		name  string
		role  string
		actor events.Actor
		want  bool
	}{
		{"session of role with path", "arn:aws:iam::111122223333:role/bucketguard/bucketguard-remediator",
			events.Actor{Type: "AssumedRole", ARN: "arn:aws:sts::111122223333:assumed-role/bucketguard-remediator/fn"}, true},
		{"issuer ARN", "arn:aws:iam::111122223333:role/bucketguard/bucketguard-remediator",
			events.Actor{Type: "AssumedRole", ARN: "arn:aws:sts::111122223333:assumed-role/x/y", IssuerARN: "arn:aws:iam::111122223333:role/bucketguard/bucketguard-remediator"}, true},
		{"configured as session ARN", "arn:aws:sts::111122223333:assumed-role/bucketguard-remediator/whatever",
			events.Actor{Type: "AssumedRole", ARN: "arn:aws:sts::111122223333:assumed-role/bucketguard-remediator/fn"}, true},
		{"GovCloud partition", "arn:aws-us-gov:iam::111122223333:role/bucketguard-remediator",
			events.Actor{ARN: "arn:aws-us-gov:sts::111122223333:assumed-role/bucketguard-remediator/fn"}, true},
		{"same name, other account", "arn:aws:iam::111122223333:role/bucketguard-remediator",
			events.Actor{ARN: "arn:aws:sts::999999999999:assumed-role/bucketguard-remediator/fn"}, false},
		{"name prefix is not the name", "arn:aws:iam::111122223333:role/bucketguard-remediator",
			events.Actor{ARN: "arn:aws:sts::111122223333:assumed-role/bucketguard-remediator-evil/fn"}, false},
		{"role name without session", "arn:aws:iam::111122223333:role/bucketguard-remediator",
			events.Actor{ARN: "arn:aws:sts::111122223333:assumed-role/bucketguard-remediator/"}, false},
		{"IAM user", "arn:aws:iam::111122223333:role/bucketguard-remediator",
			events.Actor{Type: "IAMUser", ARN: "arn:aws:iam::111122223333:user/bucketguard-remediator"}, false},
		{"no role configured", "", events.Actor{ARN: "arn:aws:sts::111122223333:assumed-role/bucketguard-remediator/fn"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := events.ParseRole(tt.role)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Made(tt.actor); got != tt.want {
				t.Errorf("Made = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseRoleRejects(t *testing.T) {
	for _, s := range []string{"bucketguard", "arn:aws:iam::1111:role/x", "arn:aws:iam::111122223333:user/x",
		"arn:aws:s3:::bucket", "arn:aws:iam::111122223333:role/", "arn:aws:sts::111122223333:assumed-role//s"} {
		if _, err := events.ParseRole(s); err == nil {
			t.Errorf("ParseRole(%q) accepted", s)
		}
	}
}

// mutate applies f to the detail of a copy of the sample and re-encodes it.
func mutate(t *testing.T, raw []byte, f func(env, detail map[string]any)) []byte {
	t.Helper()
	var env map[string]any
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatal(err)
	}
	f(env, env["detail"].(map[string]any))
	b, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseMalformed(t *testing.T) {
	base := samples(t)["PutBucketPolicy"]
	params := func(d map[string]any) map[string]any { return d["requestParameters"].(map[string]any) }
	tests := []struct {
		name string
		raw  []byte
	}{
		{"empty", nil},
		{"not an object", []byte(`["PutBucketPolicy"]`)},
		{"truncated", base[:len(base)/2]},
		{"too large", append(append([]byte(`{"pad":"`), bytes.Repeat([]byte("x"), events.MaxEventBytes)...), []byte(`"}`)...)},
		{"wrong detail-type", mutate(t, base, func(env, d map[string]any) { env["detail-type"] = "Object Created" })},
		{"envelope version 1", mutate(t, base, func(env, d map[string]any) { env["version"] = "1" })},
		{"detail is a string", mutate(t, base, func(env, d map[string]any) { env["detail"] = "{}" })},
		{"eventName a number", mutate(t, base, func(env, d map[string]any) { d["eventName"] = 42 })},
		{"no eventName", mutate(t, base, func(env, d map[string]any) { delete(d, "eventName") })},
		{"eventVersion 2.0", mutate(t, base, func(env, d map[string]any) { d["eventVersion"] = "2.0" })},
		{"no eventVersion", mutate(t, base, func(env, d map[string]any) { delete(d, "eventVersion") })},
		{"bad eventTime", mutate(t, base, func(env, d map[string]any) { d["eventTime"] = "yesterday" })},
		{"no eventID", mutate(t, base, func(env, d map[string]any) { delete(d, "eventID"); delete(env, "id") })},
		{"userIdentity a string", mutate(t, base, func(env, d map[string]any) { d["userIdentity"] = "root" })},
		{"bad region", mutate(t, base, func(env, d map[string]any) { d["awsRegion"] = "mars-1"; delete(env, "region") })},
		{"bad account", mutate(t, base, func(env, d map[string]any) { d["recipientAccountId"] = "12345" })},
		{"requestParameters a list", mutate(t, base, func(env, d map[string]any) { d["requestParameters"] = []any{} })},
		{"bucketName a number", mutate(t, base, func(env, d map[string]any) { params(d)["bucketName"] = 7 })},
		{"unicode bucket name", mutate(t, base, func(env, d map[string]any) { params(d)["bucketName"] = "bücket-prod" })},
		{"bucket name with slash", mutate(t, base, func(env, d map[string]any) { params(d)["bucketName"] = "a/../b" })},
		{"no bucket anywhere", mutate(t, base, func(env, d map[string]any) {
			delete(params(d), "bucketName")
			delete(params(d), "Host")
			delete(d, "resources")
		})},
		{"resource not a bucket ARN", mutate(t, base, func(env, d map[string]any) {
			delete(params(d), "bucketName")
			d["resources"] = []any{map[string]any{"type": "AWS::S3::Bucket", "ARN": "arn:aws:iam::111122223333:root"}}
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := events.Parse(tt.raw)
			if err == nil {
				t.Fatalf("parsed without error: %+v", c)
			}
			if !errors.Is(err, events.ErrMalformed) {
				t.Errorf("error %v does not wrap ErrMalformed", err)
			}
		})
	}
}

func TestParseBareRecordAndFallbacks(t *testing.T) {
	all := samples(t)
	var env map[string]json.RawMessage
	if err := json.Unmarshal(all["DeleteBucketPolicy"], &env); err != nil {
		t.Fatal(err)
	}
	c, err := events.Parse(env["detail"])
	if err != nil {
		t.Fatalf("bare CloudTrail record: %v", err)
	}
	if c.Bucket != "acme-invoices-prod" || c.Name != events.DeleteBucketPolicy {
		t.Errorf("bare record: got %s %s", c.Name, c.Bucket)
	}

	hostOnly := mutate(t, all["DeleteBucketPolicy"], func(env, d map[string]any) {
		delete(d["requestParameters"].(map[string]any), "bucketName")
		delete(d, "resources")
		d["requestParameters"].(map[string]any)["Host"] = "my.dotted.bucket.s3.eu-west-1.amazonaws.com"
	})
	if c, err := events.Parse(hostOnly); err != nil || c.Bucket != "my.dotted.bucket" {
		t.Errorf("bucket from Host: got %q, %v", c.Bucket, err)
	}
	if c, _ := events.Parse(all["PutBucketAcl-emptyname"]); c.Bucket != "acme-public-assets" {
		t.Errorf("bucket from resources: got %q", c.Bucket)
	}
	if c, _ := events.Parse(all["PutBucketTagging-onetag"]); c.RequestTags["owner"] != "web-team" || len(c.RequestTags) != 1 {
		t.Errorf("single tag: got %v", c.RequestTags)
	}
}

func TestWatchedNamesAreCloudTrailSpellings(t *testing.T) {
	names := map[string]bool{}
	for _, n := range events.WatchedNames() {
		if names[n] {
			t.Errorf("%s listed twice", n)
		}
		names[n] = true
	}
	// The API names are not what CloudTrail writes; they must never appear.
	for _, api := range []string{"PutPublicAccessBlock", "DeletePublicAccessBlock", "GetPublicAccessBlock"} {
		if names[api] {
			t.Errorf("%s is an API name; CloudTrail logs it differently", api)
		}
	}
	for _, must := range []string{"DeleteBucketPublicAccessBlock", "PutBucketPublicAccessBlock", "PutAccountPublicAccessBlock", "DeleteAccountPublicAccessBlock"} {
		if !names[must] {
			t.Errorf("%s is not watched", must)
		}
	}
}

// With its sessions pinned to bucketguard's function names, a role's other
// sessions are not bucketguard: a function of anyone's own that was passed
// the role (iam:PassRole) has a session named after itself, and its changes
// are evaluated.
func TestPinnedSessions(t *testing.T) {
	role, err := events.ParseRole("arn:aws:iam::111122223333:role/bucketguard/bucketguard-remediator")
	if err != nil {
		t.Fatal(err)
	}
	pinned := events.Pinned([]events.Role{role}, "BucketGuard-eu-west-1-Remediate", "", "BucketGuard-eu-west-1-Sweep")[0]
	issuer := "arn:aws:iam::111122223333:role/bucketguard/bucketguard-remediator"
	for _, tt := range []struct {
		session string
		want    bool
	}{
		{"BucketGuard-eu-west-1-Remediate", true},
		{"BucketGuard-eu-west-1-Sweep", true},
		{"attacker-function", false},
		{"BucketGuard-eu-west-1-Remediate-x", false},
		{"bucketguard-eu-west-1-remediate", false},
		{"", false},
	} {
		a := events.Actor{Type: "AssumedRole", ARN: "arn:aws:sts::111122223333:assumed-role/bucketguard-remediator/" + tt.session, IssuerARN: issuer}
		if got := pinned.Made(a); got != tt.want {
			t.Errorf("session %q: Made = %v, want %v", tt.session, got, tt.want)
		}
		if !role.Made(a) && tt.session != "" {
			t.Errorf("session %q: the unpinned role no longer matches", tt.session)
		}
	}
	if got := events.Pinned([]events.Role{role}, "", ""); len(got[0].Sessions) != 0 {
		t.Errorf("no names pinned %v", got[0].Sessions)
	}
}
