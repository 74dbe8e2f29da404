package handler_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/bucketguard/bucketguard/remediations"
	"github.com/bucketguard/bucketguard/remediations/alert"
	"github.com/bucketguard/bucketguard/remediations/fake"
	"github.com/bucketguard/bucketguard/remediations/op"
	"github.com/bucketguard/bucketguard/remediations/plan"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

// withLedger wires the ledger as start-up does: approvals, incidents and
// sent marks in one table.
func (r rig) withLedger() rig {
	r.wire(r.f.Store())
	return r
}

func approvedBucket() fake.Bucket {
	b := "acme-website"
	return fake.Bucket{
		BPA:        &posture.BPA{BlockPublicAcls: true, IgnorePublicAcls: true},
		Encryption: &posture.Encryption{Algorithm: "AES256"},
		Tags:       map[string]string{"bucketguard:approved-public": "true", "owner": "web-team"},
		Policy: `{"Statement":[{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + b + `/*"},` +
			`{"Sid":"T","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::` + b + `","arn:aws:s3:::` + b + `/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`,
	}
}

// An alert that changes nothing (here the approval notice) finds the same
// state when redelivered; the ledger is what stops the second alert.
func TestRedeliveredEventAlertsOnce(t *testing.T) {
	r := newRig(t).withLedger()
	r.f.Put("acme-website", approvedBucket())
	for range 3 {
		if err := r.invoke(t, sample(t, "PutBucketTagging")); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(r.f.Published()); n != 1 {
		t.Errorf("%d alerts for one event delivered three times", n)
	}
	// A different event with the same finding is news: it alerts.
	if err := r.invoke(t, sample(t, "PutBucketTagging-onetag")); err != nil {
		t.Fatal(err)
	}
	if n := len(r.f.Published()); n != 1 {
		// PutBucketTagging-onetag sets only the owner tag: no approval notice.
		t.Errorf("%d alerts after an unrelated tag change", n)
	}
}

func TestLedgerReleasedWhenTheAlertWentNowhere(t *testing.T) {
	r := newRig(t).withLedger()
	r.f.Put("acme-website", approvedBucket())
	r.f.Fault = fake.FailOp("sns:Publish", fake.APIError("InternalError", "down"))
	if err := r.invoke(t, sample(t, "PutBucketTagging")); err == nil {
		t.Fatal("undelivered alert did not fail the invocation")
	}
	r.f.Fault = nil
	if err := r.invoke(t, sample(t, "PutBucketTagging")); err != nil {
		t.Fatal(err)
	}
	if n := len(r.f.Published()); n != 1 {
		t.Errorf("retry published %d alerts, want 1", n)
	}
}

func TestLedgerDownStillAlerts(t *testing.T) {
	r := newRig(t).withLedger()
	r.f.Put("acme-website", approvedBucket())
	r.f.Fault = fake.FailOp("dynamodb:PutItem", fake.APIError("ResourceNotFoundException", "no table"))
	if err := r.invoke(t, sample(t, "PutBucketTagging")); err != nil {
		t.Fatal(err)
	}
	if n := len(r.f.Published()); n != 1 {
		t.Errorf("%d alerts with the ledger down, want 1 (a duplicate beats a loss)", n)
	}
}

// incidentBucket is public read beside a partner statement, with Block
// Public Access deleted: a policy write, then Block Public Access.
func incidentBucket() fake.Bucket {
	b := "acme-invoices-prod"
	return fake.Bucket{Encryption: &posture.Encryption{Algorithm: "AES256"}, Tags: map[string]string{"owner": "finance"},
		Policy: `{"Version":"2012-10-17","Statement":[{"Sid":"Partner","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::` + b + `/*"},` +
			`{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + b + `/*"},` +
			`{"Sid":"T","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::` + b + `","arn:aws:s3:::` + b + `/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`}
}

// toldOnce checks that, over all the alerts published, the public statement
// and the policy as it was before the fix were told exactly once.
func toldOnce(t *testing.T, r rig) alert.Document {
	t.Helper()
	var docs []alert.Document
	for _, m := range r.f.Published() {
		var d alert.Document
		if err := json.Unmarshal([]byte(alertJSON(t, m)), &d); err != nil {
			t.Fatal(err)
		}
		docs = append(docs, d)
	}
	found, before := 0, 0
	var last alert.Document
	for _, d := range docs {
		for _, f := range d.Findings {
			if f.ID == plan.PublicPolicyStatement {
				found++
				last = d
			}
		}
		for _, a := range d.Actions {
			if a.Name == plan.RemovePublicPolicyStatements && strings.Contains(a.Before, `"PublicRead"`) {
				before++
			}
		}
	}
	if found != 1 || before != 1 {
		t.Fatalf("over %d alerts the public statement was told %d times and the policy before the fix %d times; want once each", len(docs), found, before)
	}
	return last
}

// An attempt stopped between two writes (the Block Public Access
// write fails as if it hung to the deadline) leaves its journal; it stays
// quiet, and the retry tells the whole incident once: the public statement
// it no longer sees, the policy as it was, the fix the first attempt made.
func TestJournalTellsTheIncidentOnceAcrossARetry(t *testing.T) {
	r := newRig(t).withLedger()
	r.f.Put("acme-invoices-prod", incidentBucket())
	r.f.Fault = fake.FailOp(op.PutPublicAccessBlock, fake.HTTPError(503))
	raw := sample(t, "PutBucketPolicy")
	if err := r.invoke(t, raw); err == nil {
		t.Fatal("the first attempt must fail, for Lambda to retry it")
	}
	if n := len(r.f.Published()); n != 0 {
		t.Fatalf("the first attempt published %d alerts; its journal leaves the story to the retry", n)
	}
	r.f.Fault = nil
	if err := r.invoke(t, raw); err != nil {
		t.Fatal(err)
	}
	d := toldOnce(t, r)
	if d.Status != "remediated" {
		t.Errorf("status %s", d.Status)
	}
	var earlier bool
	for _, a := range d.Actions {
		earlier = earlier || (a.Name == plan.RemovePublicPolicyStatements && strings.Contains(a.Detail, "earlier attempt"))
	}
	if !earlier {
		t.Errorf("actions %+v: the fix made by the first attempt is not told", d.Actions)
	}
	// A redelivery of the same event tells nothing more.
	if err := r.invoke(t, raw); err != nil {
		t.Fatal(err)
	}
	toldOnce(t, r)
}

// The last attempt Lambda makes always tells what it has.
func TestLastAttemptTells(t *testing.T) {
	r := newRig(t).withLedger()
	r.h.Incidents.Engine.Config.EventAttempts = 2
	r.f.Put("acme-invoices-prod", incidentBucket())
	r.f.Fault = fake.FailOp(op.PutPublicAccessBlock, fake.HTTPError(503))
	raw := sample(t, "PutBucketPolicy")
	_ = r.invoke(t, raw)
	if err := r.invoke(t, raw); err == nil {
		t.Fatal("the second attempt fails too")
	}
	d := toldOnce(t, r)
	if d.Status != "partial" {
		t.Errorf("status %s", d.Status)
	}
}

// An attempt that dies after its last write (nothing after it reaches AWS)
// leaves its journal: the retry, a minute later, finds a clean bucket and
// still tells the incident, once.
func TestJournalSurvivesADeathAfterTheLastWrite(t *testing.T) {
	r := newRig(t).withLedger()
	r.h.Incidents.Engine.Config.CallTimeout = 20 * time.Millisecond
	r.f.Put("acme-invoices-prod", incidentBucket())
	var dead atomic.Bool
	r.f.Fault = func(o op.Operation, _ string, _ int) error {
		if dead.Load() {
			return context.Canceled
		}
		if o == op.PutPublicAccessBlock {
			dead.Store(true) // the last write lands; then the process dies
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := lambda.NewHandler(r.h.Handle).Invoke(ctx, sample(t, "PutBucketPolicy")); err == nil || len(r.f.Published()) != 0 {
		t.Fatalf("err %v, %d published: the dead attempt tells nothing", err, len(r.f.Published()))
	}
	r.f.Fault = nil
	r.h.Incidents.Now = func() time.Time { return time.Now().Add(time.Hour) } // Lambda retries later
	if err := r.invoke(t, sample(t, "PutBucketPolicy")); err != nil {
		t.Fatal(err)
	}
	d := toldOnce(t, r)
	if d.Status != "remediated" {
		t.Errorf("status %s", d.Status)
	}
}

// alertJSON is the JSON document of a published message (the "default" of
// the structured message).
func alertJSON(t *testing.T, m fake.Published) string {
	t.Helper()
	var s map[string]string
	if err := json.Unmarshal([]byte(m.Message), &s); err != nil {
		t.Fatal(err)
	}
	return s["default"]
}

// A bucket with 120 access points, each with eight public statements whose
// Sids are about 1.5 KB, makes a journal far over its record's size: it is
// shortened (least important first), still kept, and an attempt that dies
// after its last write leaves enough for the retry to name the bucket's
// public statement and its policy as it was.
func TestHugeJournalSurvivesADeathAfterTheLastWrite(t *testing.T) {
	r := newRig(t).withLedger()
	r.h.Incidents.Engine.Config.CallTimeout = 20 * time.Millisecond
	b := "acme-invoices-prod"
	r.f.Put(b, incidentBucket())
	sid := strings.Repeat("S", 1500)
	for i := range 120 {
		name := fmt.Sprintf("ap-%03d", i)
		arn := "arn:aws:s3:eu-west-1:111122223333:accesspoint/" + name
		var stmts []string
		for k := range 8 {
			stmts = append(stmts, fmt.Sprintf(`{"Sid":"%s%d","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"%s/object/*"}`, sid, k, arn))
		}
		r.f.PutAccessPoint(name, fake.AccessPoint{Bucket: b, Policy: `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`})
	}
	var dead atomic.Bool
	r.f.Fault = func(o op.Operation, _ string, _ int) error {
		if dead.Load() {
			return context.Canceled
		}
		if o == op.PutPublicAccessBlock {
			dead.Store(true) // the last bucket write lands; then the process dies
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := lambda.NewHandler(r.h.Handle).Invoke(ctx, sample(t, "PutBucketPolicy")); err == nil || len(r.f.Published()) != 0 {
		t.Fatalf("err %v, %d published: the dead attempt tells nothing", err, len(r.f.Published()))
	}
	j, err := remediations.ParseJournal(r.f.Journal("1f2e3d4c-5b6a-7988-0000-000000005ccd"))
	if err != nil || len(j.Cut) == 0 || len(j.Findings) == 0 {
		t.Fatalf("journal kept: %d findings, cut %q, err %v", len(j.Findings), j.Cut, err)
	}
	r.f.Fault = nil
	r.h.Incidents.Now = func() time.Time { return time.Now().Add(time.Hour) } // Lambda retries later
	if err := r.invoke(t, sample(t, "PutBucketPolicy")); err != nil {
		t.Fatal(err)
	}
	d := toldOnce(t, r)
	if !strings.Contains(strings.Join(d.Notes, " "), "journal was shortened") {
		t.Errorf("the alert does not say the journal was shortened: %q", d.Notes)
	}
}
