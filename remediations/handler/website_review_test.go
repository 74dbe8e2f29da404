package handler_test

import (
	"strings"
	"testing"

	"github.com/bucketguard/bucketguard/remediations/fake"
	"github.com/bucketguard/bucketguard/remediations/op"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

// Found by a hostile review of issue 11: an approved public website whose GetBucketWebsite read fails
// for good (AccessDenied: an SCP, a permissions boundary, a stack whose
// role predates the new action) is treated as "no website": the TLS-only
// Deny is added and the site goes down. Only a website known to be absent
// should get it ("never the cause of an outage").
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

// Found by a hostile review of issue 11: a bucket that is not approved for public read cannot serve a
// website (Block Public Access keeps it private), yet a website
// configuration still exempts it from the TLS-only Deny, silently (no
// finding): anyone who may call PutBucketWebsite opts any bucket out of the
// TLS control, and the sweep never reports it.
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
