package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bucketguard/bucketguard/docs/golden"
	"github.com/bucketguard/bucketguard/events"
	"github.com/bucketguard/bucketguard/remediations"
	"github.com/bucketguard/bucketguard/remediations/acl"
	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/fake"
	"github.com/bucketguard/bucketguard/remediations/op"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

var update = flag.Bool("update", false, "rewrite golden files")

const ct = "../../events/testdata/cloudtrail/"

type runResult struct {
	code           int
	stdout, stderr string
}

func runCLIDeps(t *testing.T, f *fake.Fake, cfg config.Config) func(context.Context) (*deps, error) {
	return func(context.Context) (*deps, error) {
		if f == nil {
			t.Fatal("this command must not need AWS")
		}
		return &deps{Control: f.Control(), List: f.S3(), ForRegion: func(string) remediations.S3Client { return f.S3() },
			SNS: f.SNS(), SQS: f.Queue(), Analyzer: f.Analyzer(), Config: cfg,
			Caller:       func(context.Context) (string, error) { return "arn:aws:iam::111122223333:user/oncall", nil },
			TagsFor:      func(string) TagWriter { return f.S3() },
			Account:      func(context.Context) (string, error) { return fake.Account, nil },
			BucketRegion: func(context.Context, string) (string, error) { return "eu-west-1", nil },
			Region:       "eu-west-1", Now: func() time.Time { return time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC) },
			Log: slog.New(slog.NewTextHandler(io.Discard, nil))}, nil
	}
}

func runCLI(t *testing.T, f *fake.Fake, cfg config.Config, stdin string, args ...string) runResult {
	t.Helper()
	var out, errb bytes.Buffer
	c := &cli{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, aws: runCLIDeps(t, f, cfg)}
	code := runWith(context.Background(), args, c)
	return runResult{code, out.String(), errb.String()}
}

func goldenOut(t *testing.T, name, got string) {
	t.Helper()
	golden.File(t, filepath.Join("testdata", "golden", name), []byte(got), *update)
}

// The stable contract: JSON on stdout and exit 0; exit 2 and a message on
// stderr for invalid input.
func TestContractCommands(t *testing.T) {
	tests := []struct {
		golden string
		args   []string
		stdin  string
	}{
		{"explain-policy-mixed.json", []string{"explain-policy", "testdata/policy-mixed.json"}, ""},
		{"explain-policy-cli-output.json", []string{"explain-policy", "testdata/get-bucket-policy.json"}, ""},
		{"explain-policy-stdin.json", []string{"explain-policy", "-"}, `{"Statement":{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}}`},
		{"explain-policy-access-point.json", []string{"explain-policy", "--access-point", "testdata/access-point-policy.json"}, ""},
		{"explain-policy-access-point-vpc.json", []string{"explain-policy", "--access-point", "--network-origin", "VPC", "testdata/access-point-policy.json"}, ""},
		{"explain-acl-public.json", []string{"explain-acl", "testdata/acl-public.json"}, ""},
		{"parse-event-policy.json", []string{"parse-event", ct + "PutBucketPolicy.json"}, ""},
		{"parse-event-self.json", []string{"parse-event", "--self-role", "arn:aws:iam::111122223333:role/bucketguard/bucketguard-remediator", ct + "PutBucketPolicy-self.json"}, ""},
		{"parse-event-account.json", []string{"parse-event", ct + "PutAccountPublicAccessBlock.json"}, ""},
		{"parse-event-denied.json", []string{"parse-event", ct + "PutBucketPolicy-denied.json"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			r := runCLI(t, nil, config.Default(), tt.stdin, tt.args...)
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
			goldenOut(t, tt.golden, r.stdout)
		})
	}
}

func TestInvalidInputExits2(t *testing.T) {
	tests := [][]string{
		{"explain-policy"},
		{"explain-policy", "testdata/does-not-exist.json"},
		{"explain-policy", "-"}, // empty stdin
		{"explain-acl", "testdata/policy-mixed.json"},
		{"parse-event", "testdata/acl-public.json"},
		{"parse-event", "--self-role", "not-an-arn", ct + "PutBucketPolicy.json"},
		{"parse-event", "--bogus", ct + "PutBucketPolicy.json"},
		{"check", "Not A Bucket"},
		{"replay", "testdata/acl-public.json"},
		{"no-such-command"},
	}
	for _, args := range tests {
		r := runCLI(t, nil, config.Default(), "", args...)
		if r.code != 2 || r.stderr == "" || r.stdout != "" && args[0] != "no-such-command" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, r.code, r.stdout, r.stderr)
		}
	}
	if r := runCLI(t, nil, config.Default(), "{", "explain-policy", "-"); r.code != 2 {
		t.Errorf("truncated policy: exit %d", r.code)
	}
}

func TestHelp(t *testing.T) {
	for _, c := range commands {
		r := runCLI(t, nil, config.Default(), "", c.name, "--help")
		if r.code != 0 || !strings.Contains(r.stdout, "usage: bucketguard "+c.name) {
			t.Errorf("%s --help: exit %d %q", c.name, r.code, r.stdout)
		}
	}
	if r := runCLI(t, nil, config.Default(), "", "--help"); r.code != 0 || !strings.Contains(r.stdout, "explain-policy") {
		t.Errorf("--help: %d", r.code)
	}
}

func publicBucket() fake.Bucket {
	a := fake.PrivateACL()
	a.Grants = append(a.Grants, acl.Grant{Grantee: acl.Grantee{Type: acl.Group, URI: acl.AllUsers}, Permission: "READ"})
	return fake.Bucket{Policy: `{"Version":"2012-10-17","Statement":[{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::acme-invoices-prod/*"}]}`,
		ACL: a, Tags: map[string]string{"owner": "finance"}}
}

func TestCheckWritesNothing(t *testing.T) {
	f := fake.New()
	f.Put("acme-invoices-prod", publicBucket())
	r := runCLI(t, f, config.Default(), "", "check", "acme-invoices-prod")
	if r.code != exitFindings || f.Writes() != 0 {
		t.Fatalf("exit %d, writes %d, stderr %s", r.code, f.Writes(), r.stderr)
	}
	goldenOut(t, "check-public.txt", r.stdout)
	f.Put("acme-clean", fake.Bucket{Policy: `{"Statement":[` + tls("acme-clean") + `]}`, BPA: &posture.AllOn, Encryption: &posture.Encryption{Algorithm: "AES256"}})
	if r := runCLI(t, f, config.Default(), "", "check", "acme-clean"); r.code != 0 || !strings.Contains(r.stdout, "clean") {
		t.Errorf("clean bucket: exit %d %q", r.code, r.stdout)
	}
}

func tls(b string) string {
	return `{"Sid":"T","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::` + b + `","arn:aws:s3:::` + b + `/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}`
}

func TestRemediate(t *testing.T) {
	f := fake.New()
	f.Put("acme-invoices-prod", publicBucket())
	if r := runCLI(t, f, config.Default(), "", "remediate", "--dry-run", "acme-invoices-prod"); r.code != 0 || f.Writes() != 0 || !strings.Contains(r.stdout, "WOULD DO") {
		t.Fatalf("dry run: exit %d, writes %d\n%s", r.code, f.Writes(), r.stdout)
	}
	cfg := config.Default()
	cfg.TopicARN = "arn:aws:sns:eu-west-1:111122223333:bucketguard-alerts"
	r := runCLI(t, f, cfg, "", "remediate", "--json", "acme-invoices-prod")
	if r.code != 0 || f.Writes() == 0 || len(f.Published()) != 1 || !strings.Contains(r.stdout, `"status": "remediated"`) || !strings.Contains(r.stdout, `"message_id"`) {
		t.Fatalf("remediate: exit %d, writes %d, published %d\n%s%s", r.code, f.Writes(), len(f.Published()), r.stdout, r.stderr)
	}
}

func TestReplayIsTheLambdaPath(t *testing.T) {
	f := fake.New()
	f.Put("acme-invoices-prod", publicBucket())
	if r := runCLI(t, f, config.Default(), "", "replay", "--dry-run", ct+"PutBucketPolicy.json"); r.code != 0 || f.Writes() != 0 {
		t.Fatalf("dry run: exit %d writes %d %s", r.code, f.Writes(), r.stderr)
	}
	r := runCLI(t, f, config.Default(), "", "replay", ct+"PutBucketPolicy.json")
	if r.code != 0 || f.Writes() == 0 {
		t.Fatalf("replay: exit %d writes %d %s", r.code, f.Writes(), r.stderr)
	}
	goldenOut(t, "replay-policy.txt", r.stdout)
	if r := runCLI(t, f, config.Default(), "", "replay", ct+"PutBucketPolicy-denied.json"); r.code != 0 || !strings.HasPrefix(r.stdout, "skipped: call failed") {
		t.Errorf("failed call: exit %d %q", r.code, r.stdout)
	}
}

// replay --function skips only the remediate function's own sessions (and
// the sweep's), as the deployed function does: bucketguard's role used by
// another function is evaluated; without it, every session of the role is
// skipped.
func TestReplayPinsTheSelfSessions(t *testing.T) {
	self, err := events.ParseRoles("arn:aws:iam::111122223333:role/bucketguard/bucketguard-remediator")
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.SelfRoles = self
	own := ct + "PutBucketPolicy-self.json" // session bucketguard-remediate
	other := filepath.Join(t.TempDir(), "other.json")
	raw, err := os.ReadFile(own)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(other, []byte(strings.ReplaceAll(string(raw), "assumed-role/bucketguard-remediator/bucketguard-remediate", "assumed-role/bucketguard-remediator/someone-elses-function")), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args    []string
		file    string
		skipped bool
	}{
		{nil, own, true},
		{nil, other, true},
		{[]string{"--function", "bucketguard-remediate"}, own, true},
		{[]string{"--function", "bucketguard-remediate"}, other, false},
	} {
		f := fake.New()
		f.Put("acme-invoices-prod", publicBucket())
		args := append(append([]string{"replay", "--dry-run"}, tt.args...), tt.file)
		r := runCLI(t, f, cfg, "", args...)
		if got := strings.HasPrefix(r.stdout, "skipped: change made by bucketguard"); got != tt.skipped || r.code != 0 {
			t.Errorf("%v %s: exit %d, skipped %v, want %v\n%s%s", tt.args, filepath.Base(tt.file), r.code, got, tt.skipped, r.stdout, r.stderr)
		}
	}
}

// S3 does not follow a request sent to another region's endpoint, so every
// command must read a bucket through the client of the bucket's region, not
// the SDK's default region (eu-west-1 here).
func TestCommandsUseTheBucketsRegion(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string // the region the engine's client must be for
	}{
		{"check", []string{"check", "acme-invoices-prod"}, "ap-southeast-2"},
		{"remediate", []string{"remediate", "--dry-run", "acme-invoices-prod"}, "ap-southeast-2"},
		{"replay (the event's region)", []string{"replay", "--dry-run", ct + "PutBucketPolicy.json"}, "eu-west-1"},
		{"scan (the page's region)", []string{"scan", "--region", "us-east-1"}, "us-east-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := fake.New()
			f.Put("acme-invoices-prod", fake.Bucket{Region: "us-east-1", Policy: publicBucket().Policy})
			var regions []string
			base := runCLIDeps(t, f, config.Default())
			c := &cli{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, aws: func(ctx context.Context) (*deps, error) {
				d, err := base(ctx)
				d.BucketRegion = func(context.Context, string) (string, error) { return "ap-southeast-2", nil }
				d.ForRegion = func(r string) remediations.S3Client {
					regions = append(regions, r)
					return f.S3()
				}
				return d, err
			}}
			if code := runWith(context.Background(), tc.args, c); code != 0 && code != exitFindings {
				t.Fatalf("exit %d", code)
			}
			if len(regions) == 0 {
				t.Fatal("no S3 client was asked for")
			}
			for _, r := range regions {
				if r != tc.want {
					t.Errorf("client for region %q, want %q (all: %v)", r, tc.want, regions)
				}
			}
		})
	}
}

// explain-policy --aws asks IAM Access Analyzer about the same document and
// prints both verdicts side by side; a check that cannot be had is printed
// and fails (exit 1).
func TestExplainPolicyAskAWS(t *testing.T) {
	f := fake.New()
	r := runCLI(t, f, config.Default(), "", "explain-policy", "--aws", "testdata/policy-mixed.json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	goldenOut(t, "explain-policy-aws.json", r.stdout)
	f.Verdict = func(string, string) []string { return nil } // AWS says not public: they disagree
	r = runCLI(t, f, config.Default(), "", "explain-policy", "--aws", "testdata/policy-mixed.json")
	if r.code != 0 || !strings.Contains(r.stdout, `"agree": false`) {
		t.Errorf("exit %d, stdout %s", r.code, r.stdout)
	}
	f.Verdict = nil
	f.Fault = fake.FailOp(op.CheckNoPublicAccess, fake.APIError("AccessDeniedException", "not authorized"))
	r = runCLI(t, f, config.Default(), "", "explain-policy", "--access-point", "--aws", "testdata/access-point-policy.json")
	if r.code != 1 || !strings.Contains(r.stdout, `"unavailable": "AccessDeniedException: not authorized"`) {
		t.Errorf("exit %d, stdout %s", r.code, r.stdout)
	}
}

func TestExplainPolicyFlagsAreChecked(t *testing.T) {
	for _, args := range [][]string{
		{"explain-policy", "--network-origin", "VPC", "testdata/policy-mixed.json"},
		{"explain-policy", "--access-point", "--network-origin", "Intranet", "testdata/policy-mixed.json"},
	} {
		if r := runCLI(t, nil, config.Default(), "", args...); r.code != 2 {
			t.Errorf("%v: exit %d, want 2", args, r.code)
		}
	}
}
