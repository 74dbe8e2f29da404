package alert_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bucketguard/bucketguard/docs/golden"
	"github.com/bucketguard/bucketguard/events"
	"github.com/bucketguard/bucketguard/remediations"
	"github.com/bucketguard/bucketguard/remediations/acl"
	"github.com/bucketguard/bucketguard/remediations/alert"
	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/fake"
	"github.com/bucketguard/bucketguard/remediations/op"
	"github.com/bucketguard/bucketguard/remediations/plan"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

var update = flag.Bool("update", false, "rewrite golden files")

var now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

const (
	cross  = `{"Sid":"CrossAccountRead","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::acme-data/*"}`
	public = `{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::acme-data/*"}`
	write  = `{"Sid":"PublicWrite","Effect":"Allow","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::acme-data/*"}`
)

func change() *events.Change {
	return &events.Change{EventID: "1f2e3d4c-5b6a-7988-0000-0000000032c1", Name: events.PutBucketPolicy, Source: events.EventSource,
		Time: time.Date(2026, 11, 23, 11, 59, 58, 0, time.UTC), Region: "eu-west-1", Account: fake.Account, Bucket: "acme-data",
		Actor:    events.Actor{Type: "IAMUser", ARN: "arn:aws:iam::111122223333:user/alice"},
		SourceIP: "203.0.113.24", UserAgent: "aws-cli/2.22.4"}
}

func result(t *testing.T, b fake.Bucket, mutate func(*config.Config)) remediations.Result {
	t.Helper()
	f := fake.New()
	f.Put("acme-data", b)
	cfg := config.Default()
	if mutate != nil {
		mutate(&cfg)
	}
	e := &remediations.Engine{S3: f.S3(), Control: f.Control(), Config: cfg, Now: func() time.Time { return now }}
	res, err := e.Evaluate(context.Background(), posture.Target{Account: fake.Account, Region: "eu-west-1", Bucket: "acme-data"}, change(),
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func goldenFile(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.File(t, filepath.Join("testdata", name), got, *update)
}

func TestRenderGolden(t *testing.T) {
	cases := map[string]struct {
		b   fake.Bucket
		cfg func(*config.Config)
	}{
		"public-policy": {fake.Bucket{Policy: `{"Version":"2012-10-17","Statement":[` + cross + `,` + public + `]}`, Tags: map[string]string{"owner": "data-team"}}, nil},
		"approved-with-public-write": {fake.Bucket{Policy: `{"Version":"2012-10-17","Statement":[` + public + `,` + write + `]}`,
			Tags: map[string]string{"bucketguard:approved-public": "true", "bucketguard:approved-until": "2027-03-31T00:00:00Z", "owner": "web-team"},
			ACL:  aclPlus(acl.Grant{Grantee: acl.Grantee{Type: acl.Group, URI: acl.AllUsers}, Permission: "READ"})}, nil},
		"notify": {fake.Bucket{Policy: `{"Version":"2012-10-17","Statement":[` + write + `]}`}, func(c *config.Config) { c.Mode = config.Notify }},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			m := alert.Render(result(t, tc.b, tc.cfg))
			goldenFile(t, name+".txt", []byte("Subject: "+m.Subject+"\n\n"+m.Text))
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, m.JSON, "", "  "); err != nil {
				t.Fatal(err)
			}
			goldenFile(t, name+".json", append(pretty.Bytes(), '\n'))
		})
	}
}

func aclPlus(g ...acl.Grant) acl.ACL {
	a := fake.PrivateACL()
	a.Grants = append(a.Grants, g...)
	return a
}

func TestMessageShape(t *testing.T) {
	res := result(t, fake.Bucket{Policy: `{"Version":"2012-10-17","Statement":[` + public + `]}`}, nil)
	m := alert.Render(res)
	in := m.Envelope().Input("arn:aws:sns:eu-west-1:111122223333:bucketguard-alerts")
	if *in.MessageStructure != "json" {
		t.Errorf("MessageStructure %q", *in.MessageStructure)
	}
	var body map[string]string
	if err := json.Unmarshal([]byte(*in.Message), &body); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(body["email"], "WHAT BUCKETGUARD DID") {
		t.Errorf("email body: %s", body["email"])
	}
	var d alert.Document
	if err := json.Unmarshal([]byte(body["default"]), &d); err != nil || d.Schema != alert.Schema || d.Bucket != "acme-data" {
		t.Errorf("default body is not the document: %v %+v", err, d)
	}
	want := map[string]string{"bucket": "acme-data", "account": fake.Account, "region": "eu-west-1", "severity": "high",
		"status": "remediated", "owner": alert.Unassigned, "mode": "enforce", "event_name": "PutBucketPolicy"}
	for k, v := range want {
		if got := *in.MessageAttributes[k].StringValue; got != v {
			t.Errorf("attribute %s = %q, want %q", k, got, v)
		}
	}
	if len(in.MessageAttributes) > 10 {
		t.Errorf("%d attributes; SNS allows 10", len(in.MessageAttributes))
	}
}

func TestSubjectLimits(t *testing.T) {
	long := strings.Repeat("a", 255) // a legacy us-east-1 bucket name
	res := remediations.Result{Target: posture.Target{Account: fake.Account, Region: "us-east-1", Bucket: long},
		Severity: plan.Critical, Status: contract.Remediated, Mode: config.Enforce,
		Findings: []plan.Finding{{ID: "policy-public-statement", Severity: plan.Critical, Summary: "x\ny"}}}
	s := alert.Render(res).Subject
	if len(s) >= 100 || strings.ContainsAny(s, "\r\n") {
		t.Errorf("subject %d chars: %q", len(s), s)
	}
	for _, r := range s {
		if r < 0x20 || r > 0x7e {
			t.Errorf("subject has non-ASCII %q", r)
		}
	}
}

func TestHugeDocumentsAreTruncatedToFit(t *testing.T) {
	big := strings.Repeat(`{"Sid":"S","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"s3:GetObject","Resource":"*"},`, 4000)
	res := remediations.Result{Target: posture.Target{Account: fake.Account, Region: "eu-west-1", Bucket: "acme-data"},
		Severity: plan.High, Status: contract.Remediated, Mode: config.Enforce,
		Findings: []plan.Finding{{ID: "policy-public-statement", Severity: plan.High, Summary: "public"}},
		Actions:  []remediations.ActionResult{{Action: plan.Action{Name: plan.RemovePublicPolicyStatements, Before: big, After: big}, Outcome: remediations.Verified}}}
	m := alert.Render(res)
	in := m.Envelope().Input("arn:aws:sns:eu-west-1:111122223333:t")
	size := len(*in.Message)
	for k, v := range in.MessageAttributes {
		size += len(k) + len(*v.StringValue)
	}
	if size > alert.MaxMessage {
		t.Fatalf("message is %d bytes, over SNS's %d", size, alert.MaxMessage)
	}
	if !m.Document.Truncated || !strings.Contains(m.Text, "SHORTENED") || !strings.Contains(m.Document.Actions[0].Before, "[truncated:") {
		t.Error("truncation is not said")
	}
	// A normal 20 KB policy before and after fits untouched.
	small := strings.Repeat("x", 20*1024)
	res.Actions[0].Before, res.Actions[0].After = small, small
	if m := alert.Render(res); m.Document.Truncated {
		t.Error("a 20 KB policy was truncated")
	}
}

func TestPublish(t *testing.T) {
	f := fake.New()
	m := alert.Render(result(t, fake.Bucket{Policy: `{"Version":"2012-10-17","Statement":[` + public + `]}`}, nil))
	id, err := alert.Publish(context.Background(), f.SNS(), "arn:aws:sns:eu-west-1:111122223333:t", m.Envelope())
	if err != nil || id == "" || len(f.Published()) != 1 {
		t.Fatalf("publish: %q %v %d", id, err, len(f.Published()))
	}
	f.Fault = func(op.Operation, string, int) error { return fake.APIError("InternalError", "boom") }
	if _, err := alert.Publish(context.Background(), f.SNS(), "arn:aws:sns:eu-west-1:111122223333:t", m.Envelope()); err == nil || !strings.Contains(err.Error(), "publish alert") {
		t.Errorf("publish error %v", err)
	}
}
