package handler_test

import (
	"strings"
	"testing"

	"github.com/bucketguard/bucketguard/remediations/fake"
	"github.com/bucketguard/bucketguard/remediations/op"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

// An approved public website whose GetBucketWebsite read fails for good
// (AccessDenied: an SCP, a permissions boundary, a stack whose role
// predates the action) gets no TLS-only Deny: only a website known to be
// absent gets it ("never the cause of an outage").
func TestUnreadableWebsiteGetsNoTLSDeny(t *testing.T) {
	r := newRig(t)
	b := "acme-invoices-prod"
	r.f.Put(b, fake.Bucket{
		BPA:     &posture.BPA{BlockPublicAcls: true, IgnorePublicAcls: true},
		Website: &posture.Website{IndexDocument: "index.html"},
		Tags:    map[string]string{"bucketguard:approved-public": "true", "owner": "web-team"},
		Policy:  `{"Version":"2012-10-17","Statement":[{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + b + `/*"}]}`,
	})
	r.f.Fault = fake.FailOp(op.GetBucketWebsite, fake.APIError("AccessDenied", "denied by SCP"))
	if err := r.invoke(t, sample(t, "PutBucketPolicy")); err != nil {
		t.Fatal(err)
	}
	got, _ := r.f.Bucket(b)
	if strings.Contains(got.Policy, "SecureTransport") {
		t.Errorf("website bucket whose website read failed got the TLS-only Deny; the site is down:\n%s", got.Policy)
	}
}

// A bucket not approved for public read cannot serve a website (Block
// public Access keeps it private), so a website configuration does not
// exempt it from the TLS-only Deny, and the website is a finding:
// putBucketWebsite opts no bucket out of the TLS control.
func TestUnapprovedWebsiteKeepsTLS(t *testing.T) {
	r := newRig(t)
	b := "acme-invoices-prod"
	r.f.Put(b, fake.Bucket{
		BPA:        &posture.BPA{BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true},
		Encryption: &posture.Encryption{Algorithm: "AES256"},
		Website:    &posture.Website{RedirectAllTo: "example.com"},
		Tags:       map[string]string{"owner": "finance"},
		Policy:     `{"Version":"2012-10-17","Statement":[{"Sid":"Partner","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::` + b + `/*"}]}`,
	})
	if err := r.invoke(t, sample(t, "PutBucketPolicy")); err != nil {
		t.Fatal(err)
	}
	got, _ := r.f.Bucket(b)
	if !strings.Contains(got.Policy, "SecureTransport") && len(r.f.Published()) == 0 {
		t.Error("unapproved, private bucket with a (redirect-only) website config: no TLS-only Deny and no alert")
	}
}
