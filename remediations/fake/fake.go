// Package fake provides in-memory fakes of S3, S3 Control and SNS
// for tests, in the manner of net/http/httptest. The fakes keep bucket state,
// count every call, inject faults through a func field, and model the AWS
// behaviours bucketguard's ordering depends on:
//
//   - IgnorePublicAcls (bucket or account) makes GetBucketAcl return only the
//     grants S3 enforces;
//   - BlockPublicAcls rejects a PutBucketAcl whose ACL is public;
//   - BlockPublicPolicy (bucket or account) rejects a public PutBucketPolicy;
//   - BucketOwnerEnforced disables ACLs, and is refused while the ACL grants
//     access to anyone but the owner.
//
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html
package fake

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/bucketguard/bucketguard/remediations/acl"
	"github.com/bucketguard/bucketguard/remediations/op"
	"github.com/bucketguard/bucketguard/remediations/policy"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

// Account is the fixed account id of the fakes.
const Account = "111122223333"

// OwnerID is the canonical id of the fake account.
const OwnerID = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"

// Bucket is the state of one fake bucket. Zero values mean "not configured".
type Bucket struct {
	Region     string
	BPA        *posture.BPA
	Policy     string
	ACL        acl.ACL
	Encryption *posture.Encryption
	Tags       map[string]string
	Ownership  string
	Versioning string
	Logging    *posture.Logging
	Website    *posture.Website
	// PolicyStatus overrides AWS's verdict; nil means "as the judge says".
	PolicyStatus *bool
}

// PrivateACL is the ACL of a new bucket: the owner has full control.
func PrivateACL() acl.ACL {
	return acl.ACL{Owner: acl.Owner{ID: OwnerID, DisplayName: "acme"}, Grants: []acl.Grant{
		{Grantee: acl.Grantee{Type: acl.CanonicalUser, ID: OwnerID, DisplayName: "acme"}, Permission: "FULL_CONTROL"}}}
}

// Span is when one call ran, from its start to its answer.
type Span struct {
	Call
	Start, End time.Time
}

// Spans returns the calls that have answered, with when they ran.
func (f *Fake) Spans() []Span {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Span(nil), f.spans...)
}

// Call is one recorded call.
type Call struct {
	Op     op.Operation
	Bucket string
}

// Fault decides whether a call fails. attempt counts calls of this op on this
// bucket, from 1.
type Fault func(o op.Operation, bucket string, attempt int) error

// FailOp is a Fault that fails every call of one operation with err.
func FailOp(target op.Operation, err error) Fault {
	return func(o op.Operation, _ string, _ int) error {
		if o == target {
			return err
		}
		return nil
	}
}

// Fake is one account: its buckets, its account-level Block Public Access,
// and the record of every call.
type Fake struct {
	mu           sync.Mutex
	buckets      map[string]*Bucket
	accessPoints map[string]*AccessPoint
	accountBPA   *posture.BPA
	calls        []Call
	attempts     map[Call]int
	// Fault, when set, may fail any call.
	Fault Fault
	// PolicyStatusUnsupported makes GetBucketPolicyStatus answer
	// NotImplemented, as an emulator might.
	PolicyStatusUnsupported bool
	// Verdict, when set, is IAM Access Analyzer's answer on a document: the
	// reasons it is public, none when it is not.
	Verdict func(doc, resourceType string) []string
	// Delay, when set, holds each call of an operation for a while, as the
	// network would.
	Delay func(op.Operation) time.Duration
	spans []Span

	inflight, maxInflight int
	hold                  int
	holdCh                chan struct{}
	holdTimedOut          bool

	published []Published
	sent      []Sent
	store     store
}

// New returns an empty account.
func New() *Fake {
	return &Fake{buckets: map[string]*Bucket{}, accessPoints: map[string]*AccessPoint{}, attempts: map[Call]int{}}
}

// Put creates or replaces a bucket. A bucket without an ACL gets the private one.
func (f *Fake) Put(name string, b Bucket) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if b.ACL.Grants == nil {
		b.ACL = PrivateACL()
	}
	if b.Region == "" {
		b.Region = "eu-west-1"
	}
	f.buckets[name] = &b
}

// Delete removes a bucket, as if deleted mid-flight.
func (f *Fake) Delete(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.buckets, name)
}

// Bucket returns a copy of a bucket's state.
func (f *Fake) Bucket(name string) (Bucket, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.buckets[name]
	if !ok {
		return Bucket{}, false
	}
	c := *b
	c.Tags = maps.Clone(b.Tags)
	c.ACL.Grants = slices.Clone(b.ACL.Grants)
	return c, true
}

// SetAccountBPA sets the account's Block Public Access; nil deletes it.
func (f *Fake) SetAccountBPA(b *posture.BPA) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.accountBPA = b
}

// AccountBPA returns the account's Block Public Access.
func (f *Fake) AccountBPA() *posture.BPA {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.accountBPA
}

// Calls returns every call so far, in order.
func (f *Fake) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// Count returns how many calls matched: all, when ops is empty.
func (f *Fake) Count(ops ...op.Operation) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if len(ops) == 0 || slices.Contains(ops, c.Op) {
			n++
		}
	}
	return n
}

// Reads and Writes split the S3 and S3 Control calls by kind.
func (f *Fake) Reads() int  { return f.countKind(true) }
func (f *Fake) Writes() int { return f.countKind(false) }

func (f *Fake) countKind(read bool) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if c.Op.IsS3() && c.Op.IsRead() == read {
			n++
		}
	}
	return n
}

// Reset forgets the calls (not the state).
func (f *Fake) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls, f.attempts, f.maxInflight, f.spans = nil, map[Call]int{}, 0, nil
}

// HoldReads makes the next n reads wait until all n are in flight at once,
// which proves they were issued concurrently. A read that waits more than
// 10 s gives up, and HoldTimedOut reports it.
func (f *Fake) HoldReads(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hold, f.holdCh = n, make(chan struct{})
}

// HoldTimedOut reports whether a held read gave up waiting.
func (f *Fake) HoldTimedOut() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.holdTimedOut
}

// MaxInflight is the most calls that were in flight at once.
func (f *Fake) MaxInflight() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.maxInflight
}

// enter records a call, applies the hold and the fault, and returns the
// bucket (nil if it does not exist) and a release function.
func (f *Fake) enter(o op.Operation, bucket string) (func(), error) {
	f.mu.Lock()
	c := Call{Op: o, Bucket: bucket}
	f.calls = append(f.calls, c)
	f.attempts[c]++
	attempt := f.attempts[c]
	f.inflight++
	f.maxInflight = max(f.maxInflight, f.inflight)
	var wait chan struct{}
	if f.hold > 0 && o.IsRead() {
		f.hold--
		wait = f.holdCh
		if f.hold == 0 {
			close(f.holdCh)
		}
	}
	fault := f.Fault
	f.mu.Unlock()
	if wait != nil {
		select {
		case <-wait:
		case <-time.After(10 * time.Second):
			f.mu.Lock()
			f.holdTimedOut = true
			f.mu.Unlock()
		}
	}
	start := time.Now()
	release := func() {
		f.mu.Lock()
		f.inflight--
		f.spans = append(f.spans, Span{Call: c, Start: start, End: time.Now()})
		f.mu.Unlock()
	}
	if fault != nil {
		if err := fault(o, bucket, attempt); err != nil {
			release()
			return nil, err
		}
	}
	if f.Delay != nil {
		time.Sleep(f.Delay(o))
	}
	return release, nil
}

// APIError returns an AWS API error with a code, as S3 sends them.
func APIError(code, msg string) error {
	return &smithy.GenericAPIError{Code: code, Message: msg, Fault: smithy.FaultClient}
}

// HTTPError returns an error carrying an HTTP status, as a 5xx would.
func HTTPError(status int) error {
	return &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: fmt.Errorf("status %d", status)}
}

func noSuchBucket(name string) error {
	return APIError("NoSuchBucket", "The specified bucket does not exist: "+name)
}

func (f *Fake) bucket(name string) (*Bucket, error) {
	b, ok := f.buckets[name]
	if !ok {
		return nil, noSuchBucket(name)
	}
	return b, nil
}

// effective returns the Block Public Access in force: the bucket's and the
// account's settings combined.
func (f *Fake) effective(b *Bucket) posture.BPA {
	var e posture.BPA
	if b.BPA != nil {
		e = *b.BPA
	}
	if f.accountBPA != nil {
		e = e.Or(*f.accountBPA)
	}
	return e
}

func policyPublic(doc string) bool {
	d, err := policy.Parse([]byte(doc))
	if err != nil {
		return false
	}
	return policy.Judge(d).Public
}
