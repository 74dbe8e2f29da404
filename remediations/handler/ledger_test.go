package handler_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/bucketguard/bucketguard/remediations/alert"
	"github.com/bucketguard/bucketguard/remediations/fake"
	"github.com/bucketguard/bucketguard/remediations/ledger"
	"github.com/bucketguard/bucketguard/remediations/op"
	"github.com/bucketguard/bucketguard/remediations/plan"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

// withLedger wires the ledger as the stack does (startup.Parts): approvals,
// journals and incidents in one table, and the alert claims.
func (r rig) withLedger() rig {
	store := &ledger.Store{DB: r.f.Ledger(), Table: "bucketguard-alerts-sent"}
	r.h.Alerts.Ledger, r.h.Alerts.LedgerTable, r.h.Alerts.Incidents = r.f.Ledger(), store.Table, store
	r.h.Engine.Approvals, r.h.Engine.Journal = store, store
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

// Issue 11.2: an attempt stopped between two writes (the Block Public Access
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
	r.h.Engine.Config.EventAttempts = 2
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
	r.h.Engine.Config.CallTimeout = 20 * time.Millisecond
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
	r.h.Alerts.Now = func() time.Time { return time.Now().Add(time.Hour) } // Lambda retries later
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
