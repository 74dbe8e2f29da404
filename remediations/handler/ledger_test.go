package handler_test

import (
	"testing"

	"github.com/bucketguard/bucketguard/remediations/fake"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

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
	r := newRig(t)
	r.h.Alerts.Ledger, r.h.Alerts.LedgerTable = r.f.Ledger(), "bucketguard-alerts-sent"
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
	r := newRig(t)
	r.h.Alerts.Ledger, r.h.Alerts.LedgerTable = r.f.Ledger(), "t"
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
	r := newRig(t)
	r.h.Alerts.Ledger, r.h.Alerts.LedgerTable = r.f.Ledger(), "t"
	r.f.Put("acme-website", approvedBucket())
	r.f.Fault = fake.FailOp("dynamodb:PutItem", fake.APIError("ResourceNotFoundException", "no table"))
	if err := r.invoke(t, sample(t, "PutBucketTagging")); err != nil {
		t.Fatal(err)
	}
	if n := len(r.f.Published()); n != 1 {
		t.Errorf("%d alerts with the ledger down, want 1 (a duplicate beats a loss)", n)
	}
}
