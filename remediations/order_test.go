package remediations_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bucketguard/bucketguard/remediations/acl"
	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/fake"
	"github.com/bucketguard/bucketguard/remediations/op"
	"github.com/bucketguard/bucketguard/remediations/plan"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

// Over random postures, with a random delay on every call, no
// write starts before a write it depends on (plan.DependsOn) has finished;
// and the writes that depend on nothing go out together, before any write
// has answered (each call is held 10 to 40 ms, so that scheduling noise
// cannot pass for a round).
func TestWritesWaitForExactlyWhatTheyDependOn(t *testing.T) {
	for seed := uint64(0); seed < 25; seed++ {
		r := rand.New(rand.NewPCG(seed, 12))
		f := fake.New()
		b := fake.Bucket{ACL: fake.PrivateACL()}
		if r.IntN(2) == 0 {
			b.Policy = doc(publicRead)
		}
		if r.IntN(2) == 0 {
			b.ACL.Grants = append(b.ACL.Grants, acl.Grant{Grantee: acl.Grantee{Type: acl.Group, URI: acl.AllUsers}, Permission: "READ"})
		}
		if r.IntN(2) == 0 {
			on := posture.AllOn
			b.BPA = &on
		}
		if r.IntN(2) == 0 {
			b.Encryption = &posture.Encryption{Algorithm: "AES256"}
		}
		f.Put("acme-data", b)
		delays := map[op.Operation]time.Duration{}
		for _, o := range op.All() {
			delays[o.Op] = time.Duration(10+r.IntN(31)) * time.Millisecond
		}
		f.Delay = func(o op.Operation) time.Duration { return delays[o] }
		e := engine(f, func(c *config.Config) {
			c.EnforceOwnership, c.EnforceVersioning, c.AccessLogBucket = r.IntN(2) == 0, r.IntN(2) == 0, ""
		})
		res, err := e.Evaluate(context.Background(), bucketT, nil, quiet)
		if err != nil {
			t.Fatal(err)
		}
		var writes []fake.Span
		for _, s := range f.Spans() {
			if spec, ok := op.Lookup(s.Op); ok && spec.Kind == op.Write {
				writes = append(writes, s)
			}
		}
		var steps []plan.Step
		for _, w := range writes {
			steps = append(steps, plan.Step{Op: w.Op})
		}
		for _, later := range writes {
			for _, dep := range writes {
				if plan.DependsOn(plan.Step{Op: later.Op}, plan.Step{Op: dep.Op}) && later.Start.Before(dep.End) {
					t.Errorf("seed %d: %s started before %s, which it depends on, finished", seed, later.Op, dep.Op)
				}
			}
		}
		first := time.Time{}
		for _, w := range writes {
			if first.IsZero() || w.End.Before(first) {
				first = w.End
			}
		}
		for i, w := range writes {
			free := true
			for j := range writes {
				free = free && !plan.DependsOn(steps[i], steps[j])
			}
			if free && !w.Start.Before(first) {
				t.Errorf("seed %d: %s depends on nothing but started after a write had answered (%s)", seed, w.Op, ops(writes))
			}
		}
		_ = res
	}
}

func ops(spans []fake.Span) string {
	var s []string
	for _, x := range spans {
		s = append(s, string(x.Op))
	}
	return strings.Join(s, ",")
}

// The owner adds a statement between bucketguard's posture read
// and its write. The policy is read again just before the write, the fix is
// planned again from what is there, the new statement survives, and the
// alert says a concurrent change was seen.
func TestConcurrentPolicyChangeIsKept(t *testing.T) {
	f := fake.New()
	b := clean()
	b.Policy = doc(publicRead, tlsStmt())
	f.Put("acme-data", b)
	const partner = `{"Sid":"NewPartner","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::777788889999:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::acme-data/*"}`
	f.Fault = func(o op.Operation, bucket string, attempt int) error {
		if o == op.GetBucketPolicy && attempt == 2 { // the read just before the write
			cur, _ := f.Bucket(bucket)
			cur.Policy = doc(publicRead, tlsStmt(), partner)
			f.Put(bucket, cur)
		}
		return nil
	}
	res := eval(t, engine(f), bucketT, nil)
	got, _ := f.Bucket("acme-data")
	if !strings.Contains(got.Policy, `"NewPartner"`) || strings.Contains(got.Policy, `"PublicRead"`) {
		t.Errorf("policy after:\n%s", got.Policy)
	}
	var seen bool
	for _, fd := range res.Findings {
		seen = seen || fd.ID == plan.ConcurrentChange
	}
	if !seen || res.Status != contract.Remediated {
		t.Errorf("status %s, findings %+v: the concurrent change must be told", res.Status, res.Findings)
	}
}

// A policy that keeps changing is not written at all after a few tries:
// nobody's change is overwritten, and the conflict is reported.
func TestPolicyThatKeepsChangingIsNotWritten(t *testing.T) {
	f := fake.New()
	b := clean()
	b.Policy = doc(publicRead, tlsStmt())
	f.Put("acme-data", b)
	f.Fault = func(o op.Operation, bucket string, attempt int) error {
		if o == op.GetBucketPolicy && attempt >= 2 {
			cur, _ := f.Bucket(bucket)
			cur.Policy = doc(publicRead, tlsStmt(), fmt.Sprintf(`{"Sid":"Churn%d","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::777788889999:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::acme-data/*"}`, attempt))
			f.Put(bucket, cur)
		}
		return nil
	}
	res := eval(t, engine(f), bucketT, nil)
	if n := f.Count(op.PutBucketPolicy); n != 0 {
		t.Errorf("the policy was written %d times while it kept changing", n)
	}
	if res.Status == contract.Remediated || len(res.Unresolved) == 0 {
		t.Errorf("status %s, unresolved %v", res.Status, res.Unresolved)
	}
}

// Block Public Access is read again just before it is written when the
// write does not turn all four on: settings the owner turned on since the
// read round (here BlockPublicPolicy and RestrictPublicBuckets on an
// approved bucket) stay on. PutPublicAccessBlock replaces all four, so a
// write planned from the first read would turn them off again.
func TestConcurrentBPAChangeIsKept(t *testing.T) {
	f := fake.New()
	b := clean()
	b.BPA = nil
	b.Tags = approved("")
	b.Policy = doc(publicRead, tlsStmt())
	f.Put("acme-data", b)
	f.Fault = func(o op.Operation, bucket string, attempt int) error {
		if o == op.GetPublicAccessBlock && attempt == 2 { // the read just before the write
			cur, _ := f.Bucket(bucket)
			cur.BPA = &posture.BPA{BlockPublicPolicy: true, RestrictPublicBuckets: true}
			f.Put(bucket, cur)
		}
		return nil
	}
	res := eval(t, engine(f), bucketT, nil)
	got, _ := f.Bucket("acme-data")
	if got.BPA == nil || !got.BPA.BlockPublicPolicy || !got.BPA.RestrictPublicBuckets || !got.BPA.BlockPublicAcls || !got.BPA.IgnorePublicAcls {
		t.Fatalf("Block Public Access after: %+v: a setting turned on meanwhile was turned off", got.BPA)
	}
	if !slices.ContainsFunc(res.Findings, func(f plan.Finding) bool { return f.ID == plan.ConcurrentChange }) {
		t.Errorf("findings %+v: the concurrent change must be told", res.Findings)
	}
}

// Default encryption is read again just before it is written: a stronger
// setting made since the read round (the owner's DSSE-KMS with their own
// key) is never overwritten with a weaker one.
func TestConcurrentEncryptionChangeIsKept(t *testing.T) {
	f := fake.New()
	b := clean()
	b.Encryption = nil
	f.Put("acme-data", b)
	own := posture.Encryption{Algorithm: "aws:kms:dsse", KMSKeyID: "arn:aws:kms:eu-west-1:111122223333:key/1111aaaa-2222-bbbb-3333-cccc4444dddd"}
	f.Fault = func(o op.Operation, bucket string, attempt int) error {
		if o == op.GetBucketEncryption && attempt == 2 {
			cur, _ := f.Bucket(bucket)
			cur.Encryption = &own
			f.Put(bucket, cur)
		}
		return nil
	}
	res := eval(t, engine(f), bucketT, nil)
	got, _ := f.Bucket("acme-data")
	if got.Encryption == nil || got.Encryption.Algorithm != "aws:kms:dsse" || got.Encryption.KMSKeyID != own.KMSKeyID {
		t.Fatalf("encryption after: %+v: a stronger setting made meanwhile was overwritten", got.Encryption)
	}
	if f.Count(op.PutBucketEncryption) != 0 {
		t.Errorf("%d encryption writes", f.Count(op.PutBucketEncryption))
	}
	if !slices.ContainsFunc(res.Findings, func(f plan.Finding) bool { return f.ID == plan.ConcurrentChange }) {
		t.Errorf("findings %+v: the concurrent change must be told", res.Findings)
	}
}
