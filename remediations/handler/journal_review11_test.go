package handler_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/bucketguard/bucketguard/remediations/alert"
	"github.com/bucketguard/bucketguard/remediations/fake"
	"github.com/bucketguard/bucketguard/remediations/op"
)

func docsOf(t *testing.T, r rig) []alert.Document {
	t.Helper()
	var docs []alert.Document
	for _, m := range r.f.Published() {
		var d alert.Document
		if err := json.Unmarshal([]byte(alertJSON(t, m)), &d); err != nil {
			t.Fatal(err)
		}
		docs = append(docs, d)
	}
	return docs
}

// Review 11: attempt 1 journals and its first write fails (nothing is
// written). Attempt 2 cannot read the posture (a transient error). The merge
// labels every journaled action "written by an earlier attempt; found in
// place by this one" (Verified) although nothing was written or read, so the
// alert says "remediated" while the bucket is still public, and Told drops
// the journal.
func TestMergeClaimsRemediatedWhenNothingWasWritten_review11(t *testing.T) {
	r := newRig(t).withLedger()
	r.f.Put("acme-invoices-prod", incidentBucket())
	raw := sample(t, "PutBucketPolicy")
	r.f.Fault = fake.FailOp(op.PutBucketPolicy, fake.HTTPError(503))
	if err := r.invoke(t, raw); err == nil {
		t.Fatal("attempt 1 must fail")
	}
	r.f.Fault = fake.FailOp(op.GetBucketPolicy, fake.HTTPError(503))
	_ = r.invoke(t, raw)
	for _, d := range docsOf(t, r) {
		if d.Status == "remediated" {
			b, _ := r.f.Bucket("acme-invoices-prod")
			t.Errorf("alert says %q with actions %+v, but no write was made; the policy is still %s", d.Status, d.Actions, b.Policy)
		}
	}
}

// Review 11: the Told record is written beside the publish and removes the
// journal. A process killed during the publish (SNS slow, the deadline
// reached; Untell never runs) leaves "told" recorded and no journal: the
// retry finds a clean bucket and nobody is ever told.
func TestKilledDuringPublishLosesTheIncident_review11(t *testing.T) {
	r := newRig(t).withLedger()
	r.f.Put("acme-invoices-prod", incidentBucket())
	raw := sample(t, "PutBucketPolicy")
	dead := false
	r.f.Fault = func(o op.Operation, _ string, _ int) error {
		if dead {
			return context.Canceled
		}
		if o == op.Publish {
			dead = true // the process dies while SNS is answering
			return context.DeadlineExceeded
		}
		return nil
	}
	_ = r.invoke(t, raw)
	if n := len(r.f.Published()); n != 0 {
		t.Fatalf("%d published", n)
	}
	r.f.Fault = nil
	r.h.Alerts.Now = func() time.Time { return time.Now().Add(time.Hour) }
	if err := r.invoke(t, raw); err != nil {
		t.Fatal(err)
	}
	if n := len(r.f.Published()); n != 1 {
		t.Errorf("the retry published %d alerts: the incident (public statement, policy before) is lost", n)
	}
}

// Review 11: the claim fails (DynamoDB throttles it) on the retry of an
// attempt that journaled and wrote the policy; the retry goes ahead "as the
// holder, with no journal", tells only what is left (Block Public Access
// off), and its Told deletes the first attempt's journal: the public
// statement and the policy before the fix are never told.
func TestClaimFailureDropsTheJournal_review11(t *testing.T) {
	r := newRig(t).withLedger()
	r.f.Put("acme-invoices-prod", incidentBucket())
	raw := sample(t, "PutBucketPolicy")
	r.f.Fault = fake.FailOp(op.PutPublicAccessBlock, fake.HTTPError(503))
	if err := r.invoke(t, raw); err == nil {
		t.Fatal("attempt 1 must fail")
	}
	first := true
	r.f.Fault = func(o op.Operation, _ string, _ int) error {
		if o == op.UpdateItem && first {
			first = false
			return fake.APIError("ProvisionedThroughputExceededException", "throttled")
		}
		return nil
	}
	if err := r.invoke(t, raw); err != nil {
		t.Fatal(err)
	}
	if n := len(r.f.Published()); n != 1 {
		t.Fatalf("%d published", n)
	}
	toldOnce(t, r)
}

// Review 11: a redelivery of the same event runs while the first delivery
// is between its read and its write (EventBridge and Lambda's async queue
// are both at-least-once). The lease does not gate the writes: the
// redelivery writes the fix, then finds it is not the holder and stays
// quiet; the holder's pre-write re-read sees the fix as a "concurrent
// change", re-plans from the fixed bucket, finds nothing, and tells
// nothing. Its own journal is never merged. The incident is lost.
func TestConcurrentRedeliveryLosesTheIncident_review11(t *testing.T) {
	r := newRig(t).withLedger()
	r.f.Put("acme-invoices-prod", incidentBucket())
	raw := sample(t, "PutBucketPolicy")
	var once sync.Once
	r.f.Fault = func(o op.Operation, _ string, attempt int) error {
		if o == op.GetBucketPolicy && attempt == 2 { // the holder's pre-write re-read
			once.Do(func() {
				time.Sleep(50 * time.Millisecond) // the holder's claim has landed
				if _, err := r.h.Process(context.Background(), raw); err != nil {
					t.Errorf("redelivery: %v", err)
				}
			})
		}
		return nil
	}
	if err := r.invoke(t, raw); err != nil {
		t.Fatal(err)
	}
	if n := len(r.f.Published()); n != 1 {
		t.Fatalf("%d alerts for one incident; logs:\n%s", n, r.logs.String())
	}
	for _, d := range docsOf(t, r) {
		t.Logf("told: status %s, findings %v", d.Status, func() (ids []string) {
			for _, f := range d.Findings {
				ids = append(ids, string(f.ID))
			}
			return
		}())
	}
	toldOnce(t, r)
}
