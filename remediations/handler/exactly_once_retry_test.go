package handler_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"sync/atomic"
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

// Attempt 1 journals and its first write fails (nothing is written);
// attempt 2 cannot read the posture (a transient error). A journaled action
// is called verified only when an attempt read the bucket and found it in
// place: here the alert waits for an attempt that can tell the truth.
func TestMergeDoesNotClaimWhatWasNotWritten(t *testing.T) {
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

// The told record is written only after delivery: a process killed during
// the publish (SNS slow, the deadline reached) leaves the journal, and the
// retry, finding a clean bucket, still tells the incident.
func TestKilledDuringPublishTellsOnRetry(t *testing.T) {
	r := newRig(t).withLedger()
	r.f.Put("acme-invoices-prod", incidentBucket())
	raw := sample(t, "PutBucketPolicy")
	var dead atomic.Bool
	r.f.Fault = func(o op.Operation, _ string, _ int) error {
		if dead.Load() {
			return context.Canceled
		}
		if o == op.Publish {
			time.Sleep(50 * time.Millisecond) // SNS is slow; Told, sent beside it, lands
			dead.Store(true)                  // then the process dies
			return context.DeadlineExceeded
		}
		return nil
	}
	_ = r.invoke(t, raw)
	if n := len(r.f.Published()); n != 0 {
		t.Fatalf("%d published", n)
	}
	r.f.Fault = nil
	r.h.Incidents.Now = func() time.Time { return time.Now().Add(time.Hour) }
	if err := r.invoke(t, raw); err != nil {
		t.Fatal(err)
	}
	if n := len(r.f.Published()); n != 1 {
		t.Errorf("the retry published %d alerts: the incident (public statement, policy before) is lost", n)
	}
}

// When the claim fails (DynamoDB throttles it) on the retry of an attempt
// that journaled and wrote the policy, the record is read instead: the
// journal is merged, and the public statement and the policy before the
// fix are told.
func TestClaimFailureKeepsTheJournal(t *testing.T) {
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

// A redelivery of the same event that runs while the first delivery is
// between its read and its write (EventBridge and Lambda's async queue are
// both at-least-once) writes nothing: the lease gates the writes, and the
// holder tells the incident once.
func TestConcurrentRedeliveryTellsOnce(t *testing.T) {
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

// The last attempt tells, also when its claim fails: "last" is counted
// from the record read in the claim's place.
func TestLastAttemptWithFailedClaimTells(t *testing.T) {
	r := newRig(t).withLedger()
	r.h.Incidents.Engine.Config.EventAttempts = 2
	r.f.Put("acme-invoices-prod", incidentBucket())
	raw := sample(t, "PutBucketPolicy")
	r.f.Fault = fake.FailOp(op.PutPublicAccessBlock, fake.HTTPError(503))
	_ = r.invoke(t, raw)
	first := true
	r.f.Fault = func(o op.Operation, _ string, _ int) error {
		switch {
		case o == op.UpdateItem && first:
			first = false
			return fake.APIError("ProvisionedThroughputExceededException", "throttled")
		case o == op.PutPublicAccessBlock:
			return fake.HTTPError(503)
		}
		return nil
	}
	_ = r.invoke(t, raw) // Lambda's last attempt
	if n := len(r.f.Published()); n == 0 {
		t.Error("no alert after the last attempt: the incident is lost")
	}
}

// The journal follows the plan made again: the owner adds NewPartner
// between the read and the write, the first attempt writes a policy that
// keeps it, then stops (Block Public Access 503). The retry's alert shows
// the policy with NewPartner as the before-state, and the concurrent
// change.
func TestJournalFollowsTheReplan(t *testing.T) {
	r := newRig(t).withLedger()
	b := "acme-invoices-prod"
	orig := incidentBucket()
	r.f.Put(b, orig)
	raw := sample(t, "PutBucketPolicy")
	newPartner := `{"Sid":"NewPartner","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::777788889999:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::` + b + `/*"}`
	r.f.Fault = func(o op.Operation, _ string, attempt int) error {
		switch {
		case o == op.GetBucketPolicy && attempt == 2:
			nb := orig
			nb.Policy = strings.Replace(orig.Policy, `"Statement":[`, `"Statement":[`+newPartner+`,`, 1)
			r.f.Put(b, nb)
		case o == op.PutPublicAccessBlock:
			return fake.HTTPError(503)
		}
		return nil
	}
	if err := r.invoke(t, raw); err == nil {
		t.Fatal("attempt 1 must fail")
	}
	if got, _ := r.f.Bucket(b); !strings.Contains(got.Policy, "NewPartner") {
		t.Fatal("NewPartner was overwritten by attempt 1")
	}
	r.f.Fault = nil
	if err := r.invoke(t, raw); err != nil {
		t.Fatal(err)
	}
	for _, d := range docsOf(t, r) {
		var seen bool
		for _, f := range d.Findings {
			seen = seen || f.ID == "concurrent-change"
		}
		for _, a := range d.Actions {
			if a.Name == "remove-public-policy-statements" && (!strings.Contains(a.Before, "NewPartner") || !strings.Contains(a.After, "NewPartner")) {
				t.Errorf("told before/after without NewPartner (detail %q): the policy that was there and the one written are misreported", a.Detail)
			}
		}
		if !seen {
			t.Error("the concurrent change attempt 1 saw is not told")
		}
	}
}

// Without the pre-write re-read (here a 503 on GetBucketPolicy while the
// owner adds NewPartner), the policy is not written blind: the attempt is
// retried, and NewPartner survives.
func TestFailedRereadDoesNotWriteBlind(t *testing.T) {
	r := newRig(t).withLedger()
	b := "acme-invoices-prod"
	orig := incidentBucket()
	r.f.Put(b, orig)
	newPartner := `{"Sid":"NewPartner","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::777788889999:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::` + b + `/*"}`
	r.f.Fault = func(o op.Operation, _ string, attempt int) error {
		if o == op.GetBucketPolicy && attempt == 2 {
			nb := orig
			nb.Policy = strings.Replace(orig.Policy, `"Statement":[`, `"Statement":[`+newPartner+`,`, 1)
			r.f.Put(b, nb)
			return fake.HTTPError(503)
		}
		return nil
	}
	_ = r.invoke(t, sample(t, "PutBucketPolicy"))
	if got, _ := r.f.Bucket(b); !strings.Contains(got.Policy, "NewPartner") {
		t.Errorf("NewPartner overwritten after a failed re-read; alerts: %d", len(r.f.Published()))
	}
}

// A retry whose posture differs: attempt 1 removes the public read
// statement (index 1) and stops; before the retry someone puts a public
// wRITE statement at the same index. Findings are told apart by what they
// say, not by index, so the alert names both statements and the
// before-states of both writes.
func TestMergeKeepsADifferentStatementAtTheSameIndex(t *testing.T) {
	r := newRig(t).withLedger()
	b := "acme-invoices-prod"
	r.f.Put(b, incidentBucket())
	raw := sample(t, "PutBucketPolicy")
	r.f.Fault = fake.FailOp(op.PutPublicAccessBlock, fake.HTTPError(503))
	if err := r.invoke(t, raw); err == nil {
		t.Fatal("attempt 1 must fail")
	}
	nb, _ := r.f.Bucket(b)
	nb.Policy = strings.Replace(nb.Policy, `"Statement":[{"Sid":"Partner"`,
		`"Statement":[{"Sid":"Partner","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::`+b+`/*"},{"Sid":"PublicWrite","Effect":"Allow","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::`+b+`/*"},{"Sid":"Old"`, 1)
	r.f.Put(b, nb)
	r.f.Fault = nil
	if err := r.invoke(t, raw); err != nil {
		t.Fatal(err)
	}
	for _, m := range r.f.Published() {
		if js := alertJSON(t, m); !strings.Contains(js, "PublicWrite") {
			t.Errorf("the public-write statement removed by the retry is not in the alert:\n%.1500s", js)
		}
	}
}
