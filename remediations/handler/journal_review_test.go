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

// Found by a hostile review of issue 11: attempt 1 journals and its first write fails (nothing is
// written). Attempt 2 cannot read the posture (a transient error). The merge
// labels every journaled action "written by an earlier attempt; found in
// place by this one" (Verified) although nothing was written or read, so the
// alert says "remediated" while the bucket is still public, and Told drops
// the journal.
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

// Found by a hostile review of issue 11: the Told record is written beside the publish and removes the
// journal. A process killed during the publish (SNS slow, the deadline
// reached; Untell never runs) leaves "told" recorded and no journal: the
// retry finds a clean bucket and nobody is ever told.
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
	r.h.Alerts.Now = func() time.Time { return time.Now().Add(time.Hour) }
	if err := r.invoke(t, raw); err != nil {
		t.Fatal(err)
	}
	if n := len(r.f.Published()); n != 1 {
		t.Errorf("the retry published %d alerts: the incident (public statement, policy before) is lost", n)
	}
}

// Found by a hostile review of issue 11: the claim fails (DynamoDB throttles it) on the retry of an
// attempt that journaled and wrote the policy; the retry goes ahead "as the
// holder, with no journal", tells only what is left (Block Public Access
// off), and its Told deletes the first attempt's journal: the public
// statement and the policy before the fix are never told.
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

// Found by a hostile review of issue 11: a redelivery of the same event runs while the first delivery
// is between its read and its write (EventBridge and Lambda's async queue
// are both at-least-once). The lease does not gate the writes: the
// redelivery writes the fix, then finds it is not the holder and stays
// quiet; the holder's pre-write re-read sees the fix as a "concurrent
// change", re-plans from the fixed bucket, finds nothing, and tells
// nothing. Its own journal is never merged. The incident is lost.
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

// Found by a hostile review of issue 11: the last attempt must tell, but "last" is counted from the
// claim: when the last attempt's claim fails it believes a retry is coming,
// stays quiet (it journaled), and Lambda has no retry left: the event goes
// to the failures queue and the owner is never told.
func TestLastAttemptWithFailedClaimTells(t *testing.T) {
	r := newRig(t).withLedger()
	r.h.Engine.Config.EventAttempts = 2
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

// Found by a hostile review of issue 11: the owner adds NewPartner between the read and the write; the
// first attempt plans again and writes a policy that keeps it, then stops
// (Block Public Access 503). The journal kept is the first plan's
// (if_not_exists): the retry's alert shows, as "written by an earlier
// attempt", a before and an after policy without NewPartner, and no
// concurrent-change finding. An owner undoing by hand from that "before"
// deletes NewPartner.
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

// Found by a hostile review of issue 11: the pre-write re-read is best effort: when it fails (here a
// 503 on GetBucketPolicy while the owner adds NewPartner), the write goes
// ahead on the stale plan and NewPartner is overwritten, with nothing said.
// Without the re-read, the write should wait (or be retried), not go blind.
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

// Found by a hostile review of issue 11: a retry whose posture differs. Attempt 1 removes the public
// read statement (index 1) and stops; before the retry someone puts a
// public WRITE statement at the same index. Merge keys findings by ID,
// setting and statement index, so the retry's finding is dropped as
// "already told", and the retry's own before-state of the policy write is
// replaced by attempt 1's: the public-write statement the retry removed
// appears nowhere in the alert.
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
