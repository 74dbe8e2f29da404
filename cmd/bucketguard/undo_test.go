package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/bucketguard/bucketguard/events"
	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/fake"
	"github.com/bucketguard/bucketguard/remediations/incident"
	"github.com/bucketguard/bucketguard/remediations/posture"
	"github.com/bucketguard/bucketguard/remediations/startup"
)

const (
	undoPublicRead  = `{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::acme-site/*"}`
	undoPublicWrite = `{"Sid":"PublicWrite","Effect":"Allow","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::acme-site/*"}`
	undoPartner     = `{"Sid":"Partner","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::acme-site/*"}`
)

// undoWorld is a bucket fixed by an event through the protocol, as the
// remediate function fixes it, with the ledger kept.
func undoWorld(t *testing.T, statements ...string) (*fake.Fake, config.Config) {
	t.Helper()
	f := fake.New()
	f.Put("acme-site", fake.Bucket{Policy: `{"Version":"2012-10-17","Statement":[` + strings.Join(statements, ",") + `]}`,
		Encryption: &posture.Encryption{Algorithm: "AES256"}, Tags: map[string]string{"owner": "web-team"}})
	cfg := config.Default()
	cfg.TopicARN, cfg.OpsTopicARN = "arn:aws:sns:eu-west-1:111122223333:alerts", "arn:aws:sns:eu-west-1:111122223333:ops"
	cfg.LedgerTable = "ledger"
	p := startup.Wire(cfg, startup.Clients{S3: f.S3(), Control: f.Control(), SNS: f.SNS(), Analyzer: f.Analyzer(), Ledger: f.Store()})
	c := &events.Change{EventID: "ev-1", Name: events.PutBucketPolicy, Actor: events.Actor{ARN: "arn:aws:iam::111122223333:user/web"}}
	target := posture.Target{Account: fake.Account, Region: "eu-west-1", Bucket: "acme-site"}
	if _, err := p.Run(context.Background(), incident.Incident{Key: "ev-1", Target: target, Trigger: c, Attempts: 3}, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	if b, _ := f.Bucket("acme-site"); strings.Contains(b.Policy, "PublicRead") {
		t.Fatal("the fix did not go out")
	}
	return f, cfg
}

func runUndo(t *testing.T, f *fake.Fake, cfg config.Config, args ...string) runResult {
	t.Helper()
	var out, errb bytes.Buffer
	build := runCLIDeps(t, f, cfg)
	c := &cli{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, aws: func(ctx context.Context) (*deps, error) {
		d, err := build(ctx)
		if err == nil {
			d.Ledger = f.Store()
		}
		return d, err
	}}
	code := runWith(context.Background(), append([]string{"undo"}, args...), c)
	return runResult{code, out.String(), errb.String()}
}

// undo puts back the policy as it was (less public write: never put
// back) and the Block Public Access that decides it, approves public read
// until the time given in the same step, and tells the owner and the
// operations topic who ran it. The next evaluation keeps the read.
func TestUndoPutsBackPublicReadNeverWrite(t *testing.T) {
	f, cfg := undoWorld(t, undoPublicRead, undoPublicWrite, undoPartner)
	before := len(f.Published())
	r := runUndo(t, f, cfg, "acme-site", "--until", "2026-12-31T00:00:00Z")
	if r.code != 0 {
		t.Fatalf("exit %d: %s %s", r.code, r.stdout, r.stderr)
	}
	b, _ := f.Bucket("acme-site")
	if !strings.Contains(b.Policy, "PublicRead") || !strings.Contains(b.Policy, "Partner") || strings.Contains(b.Policy, "PublicWrite") {
		t.Errorf("policy after the undo: %s", b.Policy)
	}
	if b.BPA == nil || b.BPA.BlockPublicPolicy || b.BPA.RestrictPublicBuckets || !b.BPA.BlockPublicAcls {
		t.Errorf("Block Public Access after the undo: %+v", b.BPA)
	}
	if b.Tags["bucketguard:approved-public"] != "true" || b.Tags["bucketguard:approved-until"] != "2026-12-31T00:00:00Z" || b.Tags["owner"] != "web-team" {
		t.Errorf("tags after the undo: %v", b.Tags)
	}
	told := map[string]int{}
	for _, m := range f.Published()[before:] {
		told[m.TopicARN]++
		if !strings.Contains(m.Message, "user/oncall") {
			t.Errorf("the notice does not name who ran the undo: %s", m.Message)
		}
	}
	if told[cfg.TopicARN] != 1 || told[cfg.OpsTopicARN] != 1 {
		t.Errorf("notices by topic: %v", told)
	}
	// The restored read is approved: evaluated again, it is kept.
	p := startup.Wire(cfg, startup.Clients{S3: f.S3(), Control: f.Control(), SNS: f.SNS(), Analyzer: f.Analyzer(), Ledger: f.Store()})
	if _, err := p.Run(context.Background(), incident.Incident{Key: "ev-2", Target: posture.Target{Account: fake.Account, Region: "eu-west-1", Bucket: "acme-site"},
		Attempts: 1}, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	if b, _ := f.Bucket("acme-site"); !strings.Contains(b.Policy, "PublicRead") {
		t.Errorf("the restored read was fixed again: %s", b.Policy)
	}
}

// undo refuses, writing nothing, when the bucket no longer holds what
// bucketguard wrote, and names what changed; --dry-run and a wrong
// --incident write nothing either.
func TestUndoRefuses(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(f *fake.Fake)
		args   []string
		code   int
		says   string
	}{
		{"policy changed since", func(f *fake.Fake) {
			b, _ := f.Bucket("acme-site")
			b.Policy = `{"Version":"2012-10-17","Statement":[` + undoPartner + `]}`
			f.Put("acme-site", b)
		}, []string{"acme-site", "--until", "2026-12-31T00:00:00Z"}, 1, "the bucket policy changed since bucketguard wrote it"},
		{"dry run", nil, []string{"acme-site", "--until", "2026-12-31T00:00:00Z", "--dry-run"}, 0, "put back the policy as it was"},
		{"another incident", nil, []string{"acme-site", "--until", "2026-12-31T00:00:00Z", "--incident", "ev-0"}, 1, ""},
		{"no expiry", nil, []string{"acme-site"}, 2, ""},
		{"expiry in the past", nil, []string{"acme-site", "--until", "2020-01-01T00:00:00Z"}, 2, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, cfg := undoWorld(t, undoPublicRead, undoPartner)
			if tc.change != nil {
				tc.change(f)
			}
			was, _ := f.Bucket("acme-site")
			writes := f.Writes()
			r := runUndo(t, f, cfg, tc.args...)
			if r.code != tc.code || !strings.Contains(r.stdout+r.stderr, tc.says) {
				t.Fatalf("exit %d (want %d), output %s %s", r.code, tc.code, r.stdout, r.stderr)
			}
			now, _ := f.Bucket("acme-site")
			if f.Writes() != writes || now.Policy != was.Policy {
				t.Errorf("%d writes: nothing may be written", f.Writes()-writes)
			}
		})
	}
}
